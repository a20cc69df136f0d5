# The counter segment reader's fuzz harness (tests/fuzz/segment_reader_fuzz.c), built with
# clang's libFuzzer, AddressSanitizer and UBSan.
#   make fuzz                      run every harness; this one for FUZZ_SECONDS (default 600)
#   make fuzz-segment-reader       this one only
# tests/fuzz/test_segment_reader_fuzz.sh runs it for a few seconds in `make test`.

FUZZ_CC          ?= clang
FUZZ_SECONDS     ?= 600
FUZZ_SEGMENT_BIN := $(BUILD)/fuzz/segment_reader_fuzz
FUZZ_SEGMENT_DIR := $(BUILD)/fuzz/corpus-segment-reader

$(FUZZ_SEGMENT_BIN): tests/fuzz/segment_reader_fuzz.c probes/counter_reader.c probes/counter_reader.h allocator/include/hakmem_probe.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 $(WARN) -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined -Iprobes -Iallocator/include \
	    tests/fuzz/segment_reader_fuzz.c probes/counter_reader.c -o $@

.PHONY: fuzz fuzz-segment-reader
fuzz:: fuzz-segment-reader
fuzz-segment-reader: $(FUZZ_SEGMENT_BIN)
	@mkdir -p $(FUZZ_SEGMENT_DIR)
	$(FUZZ_SEGMENT_BIN) -max_total_time=$(FUZZ_SECONDS) -timeout=10 $(FUZZ_SEGMENT_DIR)
