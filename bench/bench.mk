# bench/: the workloads (build/bin/larson, build/bin/battle) and the `hak bench` verb.
# The benchmarks link against glibc only (plus -ldl for the flush adapters): the allocator under
# test is chosen at run time with LD_PRELOAD, never linked.
BENCH_CFLAGS := $(CFLAGS_COMMON) -Ibench -Iprobes -Icollectors
BENCH_HEADERS := $(wildcard bench/*.h probes/*.h collectors/*.h collectors/*.def)
BENCH_SUPPORT_OBJ := $(OBJ)/bench/bench_common.o $(OBJ)/bench/bench_params.o \
                     $(OBJ)/bench/flush.o $(PHASE_CLIENT_OBJ)

all: $(BIN)/larson $(BIN)/battle $(BIN)/bigbuf $(BIN)/decay $(BIN)/churn

$(OBJ)/bench/%.o: bench/%.c $(BENCH_HEADERS) Makefile bench/bench.mk
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -c $< -o $@

$(BIN)/larson: $(OBJ)/bench/larson.o $(BENCH_SUPPORT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -o $@ $^ -ldl

$(BIN)/battle: $(OBJ)/bench/battle.o $(BENCH_SUPPORT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -o $@ $^ -ldl

$(BIN)/bigbuf: $(OBJ)/bench/bigbuf.o $(BENCH_SUPPORT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -o $@ $^ -ldl

$(BIN)/decay: $(OBJ)/bench/decay.o $(BENCH_SUPPORT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -pthread -o $@ $^ -ldl

$(BIN)/churn: $(OBJ)/bench/churn.o $(BENCH_SUPPORT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -pthread -o $@ $^ -ldl

# Objects of the `hak bench` verb, linked into build/bin/hak by collectors/collectors.mk.
HAK_VERB_OBJS += $(OBJ)/bench/bench_runner.o $(OBJ)/bench/profile.o $(OBJ)/bench/bench_params.o \
                 $(ALLOCATORS_OBJ)
