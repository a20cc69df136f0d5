# trace/: allocation traces (docs/traces.md).  build/libhaktrace.so is the tracer `hak trace`
# preloads into a program; the reader and planner (TRACE_READER_OBJ) serve `hak trace info`, the
# replay workload (build/bin/replay) and the fuzz harness.
TRACE_CFLAGS := $(CFLAGS_COMMON) -Itrace
LIBHAKTRACE_SO := $(BUILD)/libhaktrace.so
LIBHEAPPROBE_SO := $(BUILD)/libheapprobe.so
TRACE_READER_OBJ := $(OBJ)/trace/reader.o $(OBJ)/trace/plan.o

all: $(LIBHAKTRACE_SO) $(LIBHEAPPROBE_SO)

$(OBJ)/trace/%.o: trace/%.c Makefile trace/trace.mk
	@mkdir -p $(dir $@)
	$(CC) $(TRACE_CFLAGS) $(DEPFLAGS) -c $< -o $@

# The tracer is built position-independent with hidden symbols but for the hooks it exports.
$(OBJ)/trace/pic/tracer.o: trace/tracer.c trace/format.h Makefile trace/trace.mk
	@mkdir -p $(dir $@)
	$(CC) $(TRACE_CFLAGS) -fPIC -fvisibility=hidden -fno-builtin $(DEPFLAGS) -c $< -o $@

$(LIBHAKTRACE_SO): $(OBJ)/trace/pic/tracer.o
	$(CC) -shared -o $@ $^ -ldl -pthread

# The heap probe measures a program's anonymous-RSS high-water, for comparing it with a replay's.
$(OBJ)/trace/pic/heapprobe.o: trace/heapprobe.c Makefile trace/trace.mk
	@mkdir -p $(dir $@)
	$(CC) $(TRACE_CFLAGS) -fPIC -fvisibility=hidden $(DEPFLAGS) -c $< -o $@

$(LIBHEAPPROBE_SO): $(OBJ)/trace/pic/heapprobe.o
	$(CC) -shared -o $@ $^

# datasets/traces/python3.trace (6 MB) is recorded here rather than kept in the repository: the
# trace-python3 and speed profiles replay it.  Re-recorded when the tracer changes; without python3
# the build goes on and the replay names the script.
PYTHON3_TRACE := datasets/traces/python3.trace
all: $(PYTHON3_TRACE)
$(PYTHON3_TRACE): $(LIBHAKTRACE_SO) | $(BIN)/hak
	@if command -v python3 >/dev/null; then scripts/make-traces.sh --only python3; \
	else echo "note: python3 is not installed: $@ not recorded (scripts/make-traces.sh --only python3)"; fi
