# tests/fuzz/alloc.mk: the allocator op-sequence fuzzer (tests/fuzz/alloc_ops_fuzz.c).
#   make fuzz-alloc                       fuzz for FUZZ_SECONDS seconds (default 600),
#                                         keeping the corpus in build/fuzz/alloc-corpus
#   make fuzz-alloc FUZZ_ARGS=-jobs=2     extra libFuzzer options
#   tests/fuzz/test_alloc_fuzz.sh         a 25 s run, part of make test
#
# The allocator's sources are compiled again with clang's coverage
# instrumentation (-fsanitize=fuzzer-no-link) and UBSan, and linked into the
# harness, so hakmem is the process's malloc.  ASan is not used: it would
# replace malloc.  Built by test-build only where clang and libFuzzer are
# installed (scripts/install-deps.sh installs them).

FUZZ_CC          ?= clang
FUZZ_DIR         := $(BUILD)/fuzz
FUZZ_ALLOC_BIN   := $(FUZZ_DIR)/alloc_ops_fuzz
FUZZ_SECONDS  ?= 600
FUZZ_SAN_FLAGS   := -fsanitize=undefined -fno-sanitize-recover=undefined
FUZZ_ALLOC_OBJ   := $(patsubst allocator/%.c,$(OBJ)/fuzz/allocator/%.o,$(ALLOC_SRC))
FUZZ_LIBFUZZER   := $(wildcard $(shell $(FUZZ_CC) -print-file-name=libclang_rt.fuzzer-x86_64.a 2>/dev/null))

.PHONY: fuzz-alloc
fuzz:: fuzz-alloc

fuzz-alloc: $(FUZZ_ALLOC_BIN)
	@mkdir -p $(FUZZ_DIR)/alloc-corpus
	$(FUZZ_ALLOC_BIN) -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -timeout=60 \
	    $(FUZZ_ARGS) $(FUZZ_DIR)/alloc-corpus

$(OBJ)/fuzz/allocator/%.o: allocator/%.c allocator/allocator.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(ALLOC_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN_FLAGS) $(DEPFLAGS) -c $< -o $@

$(FUZZ_ALLOC_BIN): tests/fuzz/alloc_ops_fuzz.c $(FUZZ_ALLOC_OBJ) $(TEST_HDRS) tests/fuzz/alloc.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(TEST_CFLAGS) -DHAKMEM_LINKED=1 -fsanitize=fuzzer $(FUZZ_SAN_FLAGS) \
	    $< $(FUZZ_ALLOC_OBJ) -pthread -o $@

ifneq ($(FUZZ_LIBFUZZER),)
test-build: $(FUZZ_ALLOC_BIN)
endif
