# tests/fuzz/trace.mk: libFuzzer harness for the allocation trace reader (trace/reader.c and
# trace/plan.c), built with clang into build/fuzz/trace_fuzz.
#   make fuzz-trace                    fuzz for FUZZ_SECONDS (default 600)
#   tests/fuzz/test_trace_fuzz.sh      the short run that tests/run.sh does
# Seeds live in tests/fuzz/corpus/trace/.
FUZZ_TRACE_BIN := $(BUILD)/fuzz/trace_fuzz

.PHONY: fuzz-trace fuzz-trace-build
fuzz-trace-build: $(FUZZ_TRACE_BIN)

$(FUZZ_TRACE_BIN): tests/fuzz/trace_fuzz.c trace/reader.c trace/plan.c trace/reader.h trace/format.h tests/fuzz/trace.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FORMATS_CFLAGS) -Itrace $(filter %.c,$^) -o $@

fuzz-trace: fuzz-trace-build
	@mkdir -p $(BUILD)/fuzz/corpus/trace
	$(FUZZ_TRACE_BIN) -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(BUILD)/fuzz/trace- \
	    $(BUILD)/fuzz/corpus/trace tests/fuzz/corpus/trace

fuzz:: fuzz-trace
