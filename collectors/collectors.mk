# collectors/: build/bin/hak, the toolkit's single binary (collectors/hak.c dispatches verbs).
# A fragment that adds a verb appends its objects to HAK_VERB_OBJS if it is included before this
# one (bench/bench.mk), or adds a prerequisite line `$(BIN)/hak: its.o` if included after
# (reports/reports.mk); libraries go to HAK_LDLIBS (expanded when the link runs).  $^ drops
# duplicate objects, so two verbs may both list $(ALLOCATORS_OBJ).
HAK_CFLAGS := $(CFLAGS_COMMON) -Icollectors -Iprobes -Iallocator/include
HAK_LDLIBS +=
COLLECTORS_HEADERS := $(wildcard collectors/*.h collectors/*.def probes/*.h)

all: $(BIN)/hak

# The `hak counters` verb.
HAK_VERB_OBJS += $(OBJ)/collectors/counters.o $(COUNTER_READER_OBJ)
# The `hak record` verb (also used by `hak bench -o`).
HAK_VERB_OBJS += $(OBJ)/collectors/record.o $(OBJ)/collectors/recorder.o $(OBJ)/collectors/run_db.o $(RECORD_PROBES_OBJ) $(COUNTER_READER_OBJ) $(ALLOCATORS_OBJ)
HAK_LDLIBS += -lsqlite3 -lpfm -lm

$(OBJ)/collectors/hak.o: HAK_CFLAGS += -DHAK_BUILD_ID='"$(GIT_SHA)"'
$(OBJ)/collectors/hak.o: $(BUILD_ID_STAMP)

$(OBJ)/collectors/%.o: collectors/%.c $(COLLECTORS_HEADERS) Makefile collectors/collectors.mk
	@mkdir -p $(dir $@)
	$(CC) $(HAK_CFLAGS) -c $< -o $@

$(BIN)/hak: $(OBJ)/collectors/hak.o $(HAK_VERB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -o $@ $^ $(HAK_LDLIBS)
