# hak/: build/bin/hak, the toolkit's single binary, Linux perf's shape: hak.c dispatches, verbs.def
# is the verb table, and each verb is one file here (its options and its flow); the work is done by
# the libraries below it (collectors/, reports/, probes/).  A new verb is a line in verbs.def, its
# file, and its object in HAK_VERBS below.
HAK_CFLAGS := $(CFLAGS_COMMON) -Ihak -Icollectors -Ireports -Iprobes -Iphase/include -Ibench \
              -Iallocator/include
HAK_VERBS := bench counters record report plot diff
HAK_VERBS += runs
HAK_VERBS += mark
HAK_VERBS += trace
HAK_VERBS += replay
HAK_CFLAGS += -Itrace
HAK_VERBS += merge export
HAK_OBJ := $(OBJ)/hak/hak.o $(addprefix $(OBJ)/hak/,$(addsuffix .o,$(HAK_VERBS))) \
           $(COLLECTORS_OBJ) $(REPORTS_OBJ) $(RECORD_PROBES_OBJ) $(COUNTER_READER_OBJ) \
           $(ALLOCATORS_OBJ) $(OBJ)/bench/bench_params.o
HAK_OBJ += $(TRACE_READER_OBJ)
HAK_OBJ += $(OBJ)/hak/options.o

all: $(BIN)/hak

$(OBJ)/hak/hak.o: HAK_CFLAGS += -DHAK_BUILD_ID='"$(GIT_SHA)"'
$(OBJ)/hak/hak.o: $(BUILD_ID_STAMP)

$(OBJ)/hak/%.o: hak/%.c Makefile hak/hak.mk
	@mkdir -p $(dir $@)
	$(CC) $(HAK_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BIN)/hak: $(HAK_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -o $@ $^ $(COLLECTORS_LDLIBS) $(REPORTS_LDLIBS)
# hak mark speaks the phase protocol through the client library itself.
$(BIN)/hak: $(OBJ)/phase/phase.o
