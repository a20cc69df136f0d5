# tests/: unit, stress and compat tests.
#   make test            install missing packages, build everything, run every test
#   make test T=stress   run only the tests whose name contains "stress"
#   make test-glibc      run the C tests against plain glibc (checks the tests themselves)
#
# Each tests/unit/NAME.c and tests/stress/NAME.c becomes build/tests/unit_NAME or
# build/tests/stress_NAME, linked statically with build/libhakmem.a so that the
# test process runs on hakmem's malloc.  build/tests-glibc/ holds the same tests
# linked with nothing (glibc's malloc); tests/compat runs them under LD_PRELOAD.

TEST_DIR       := $(BUILD)/tests
TEST_GLIBC_DIR := $(BUILD)/tests-glibc
TEST_C_SRC     := $(wildcard tests/unit/*.c tests/stress/*.c)
TEST_CXX_SRC   := $(wildcard tests/unit/*.cc)
TEST_HDRS      := $(wildcard tests/common/*.h) allocator/include/hakmem.h

# tests/unit/api.c -> unit_api
test_name = $(subst /,_,$(patsubst tests/%,%,$(basename $(1))))
TEST_NAMES       := $(foreach s,$(TEST_C_SRC) $(TEST_CXX_SRC),$(call test_name,$(s)))
TEST_BINS        := $(addprefix $(TEST_DIR)/,$(TEST_NAMES))
TEST_GLIBC_BINS  := $(addprefix $(TEST_GLIBC_DIR)/,$(TEST_NAMES))

# The compiler must not fold or elide the allocation calls under test.
TEST_NOBUILTIN := -fno-builtin-malloc -fno-builtin-free -fno-builtin-calloc -fno-builtin-realloc
TEST_CFLAGS    := $(CFLAGS_COMMON) $(TEST_NOBUILTIN) -Itests/common -Iallocator/include
TEST_CXXFLAGS  := -std=gnu++17 $(OPT) -g $(WARN) -pthread -D_GNU_SOURCE $(TEST_NOBUILTIN) \
                  -Itests/common -Iallocator/include
CXX ?= g++

# The allocator's own sources built with UBSan into a stress test: undefined
# behaviour inside hakmem aborts the test.  UBSan, unlike ASan, leaves malloc alone.
TEST_UBSAN_FLAGS := -fsanitize=undefined -fno-sanitize-recover=undefined
TEST_UBSAN_OBJ   := $(patsubst allocator/%.c,$(OBJ)/ubsan/allocator/%.o,$(ALLOC_SRC))
TEST_UBSAN_BIN   := $(TEST_DIR)/ubsan_stress_mixed_tiers

.PHONY: test test-build test-glibc
test:
	@scripts/install-deps.sh
	$(MAKE) all test-build
	TEST_BUILD_DIR=$(BUILD) tests/run.sh $(T)

test-build: $(TEST_BINS) $(TEST_GLIBC_BINS) $(TEST_UBSAN_BIN)

test-glibc: $(TEST_GLIBC_BINS)
	TEST_BUILD_DIR=$(BUILD) TESTS_BIN_DIR=$(TEST_GLIBC_DIR) TESTS_SCRIPTS=0 tests/run.sh $(T)

$(TEST_DIR)/unit_%: tests/unit/%.c $(LIBHAKMEM_A) $(TEST_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -DHAKMEM_LINKED=1 $< $(LIBHAKMEM_A) -pthread -o $@

$(TEST_DIR)/stress_%: tests/stress/%.c $(LIBHAKMEM_A) $(TEST_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -DHAKMEM_LINKED=1 $< $(LIBHAKMEM_A) -pthread -o $@

$(TEST_DIR)/unit_%: tests/unit/%.cc $(LIBHAKMEM_A) $(TEST_HDRS)
	@mkdir -p $(dir $@)
	$(CXX) $(TEST_CXXFLAGS) -DHAKMEM_LINKED=1 $< $(LIBHAKMEM_A) -pthread -o $@

$(TEST_GLIBC_DIR)/unit_%: tests/unit/%.c $(TEST_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $< -pthread -o $@

$(TEST_GLIBC_DIR)/stress_%: tests/stress/%.c $(TEST_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $< -pthread -o $@

$(TEST_GLIBC_DIR)/unit_%: tests/unit/%.cc $(TEST_HDRS)
	@mkdir -p $(dir $@)
	$(CXX) $(TEST_CXXFLAGS) $< -pthread -o $@

$(OBJ)/ubsan/allocator/%.o: allocator/%.c allocator/allocator.mk
	@mkdir -p $(dir $@)
	$(CC) $(ALLOC_CFLAGS) $(TEST_UBSAN_FLAGS) $(DEPFLAGS) -c $< -o $@

$(TEST_UBSAN_BIN): tests/stress/mixed_tiers.c $(TEST_UBSAN_OBJ) $(TEST_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) $(TEST_UBSAN_FLAGS) -DHAKMEM_LINKED=1 -DTEST_DEFAULT_SCALE=40 \
	    $< $(TEST_UBSAN_OBJ) -pthread -o $@

# The counter test reads its own segment through the probe reader.
$(TEST_DIR)/unit_counters: tests/unit/counters.c $(LIBHAKMEM_A) $(COUNTER_READER_OBJ) $(TEST_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -Iprobes -DHAKMEM_LINKED=1 $< $(COUNTER_READER_OBJ) $(LIBHAKMEM_A) -pthread -o $@

# The collector's parsers (probes/smaps.c, probes/phase_reader.c) on known input; needs no allocator.
$(TEST_DIR)/collector_parsers: tests/collector/parsers.c $(OBJ)/probes/smaps.o $(OBJ)/probes/phase_reader.o $(TEST_HDRS) $(wildcard probes/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -Iprobes -Iphase/include $< $(OBJ)/probes/smaps.o $(OBJ)/probes/phase_reader.o -lm -o $@
test-build: $(TEST_DIR)/collector_parsers

# The counter segment reader against forged, truncated and non-regular segments.
$(TEST_DIR)/collector_segment_reader: tests/collector/segment_reader.c $(COUNTER_READER_OBJ) $(TEST_HDRS) probes/counter_reader.h
	@mkdir -p $(dir $@)
	$(CC) $(TEST_CFLAGS) -Iprobes $< $(COUNTER_READER_OBJ) -o $@
test-build: $(TEST_DIR)/collector_segment_reader

# Fuzz harnesses: each tests/fuzz/*.mk adds its own rules and joins `make fuzz`.
include $(wildcard tests/fuzz/*.mk)

# make mutants [M=FILTER]: applies each deliberate breakage of tests/mutants/ to a scratch copy
# of the tree and fails if the tests it names pass over it (docs/testing.md).  Not part of make test.
.PHONY: mutants
mutants:
	tests/mutants/run.sh $(M)
