# bench/: the workloads (build/bin/larson, build/bin/battle, build/bin/bigbuf), their parameters
# and the peers' release adapters.  They link against glibc only (plus -ldl for the flush adapters)
# and the phase client (build/libhakphase.a): the allocator under test is chosen at run time with
# LD_PRELOAD, never linked, and nothing here knows the collector.
BENCH_CFLAGS := $(CFLAGS_COMMON) -Ibench -Iphase/include
BENCH_SUPPORT_OBJ := $(OBJ)/bench/bench_common.o $(OBJ)/bench/bench_params.o \
                     $(OBJ)/bench/flush.o $(LIBHAKPHASE_A)

# Every workload hak bench can run (make install copies them all to PREFIX/libexec/hakmem).
BENCH_PROGRAMS = larson battle bigbuf decay churn replay $(SPEED_BENCHES)
all: $(BIN)/larson $(BIN)/battle $(BIN)/bigbuf $(BIN)/decay $(BIN)/churn

$(OBJ)/bench/%.o: bench/%.c Makefile bench/bench.mk
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $(DEPFLAGS) -c $< -o $@

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


# The trace replayer reads traces with trace/'s reader (its bookkeeping is mmap'd, not malloc'ed).
all: $(BIN)/replay
$(OBJ)/bench/replay.o: BENCH_CFLAGS += -Itrace
$(BIN)/replay: $(OBJ)/bench/replay.o $(TRACE_READER_OBJ) $(BENCH_SUPPORT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -pthread -o $@ $^ -ldl

$(BIN)/churn: $(OBJ)/bench/churn.o $(BENCH_SUPPORT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -pthread -o $@ $^ -ldl

# The speed workloads (docs/benchmarks.md, "Speed"): fixed work, result ops_per_sec.
SPEED_BENCHES := mallocfree prodcons smallobj reallocgrow
all: $(addprefix $(BIN)/,$(SPEED_BENCHES))
$(addprefix $(BIN)/,$(SPEED_BENCHES)): $(BIN)/%: $(OBJ)/bench/%.o $(BENCH_SUPPORT_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -pthread -o $@ $^ -ldl
