# hakmem: one Makefile builds everything into build/.
#   make            build the allocator, the benchmarks and the hak tool
#   make test       install missing dependencies, build, run every test
#   make COUNTERS=0 build without counter code (see docs/counters.md)

CC       ?= cc
BUILD    := build
BIN      := $(BUILD)/bin
OBJ      := $(BUILD)/obj
OPT      ?= -O2
COUNTERS ?= 1
WARN     := -Wall -Wextra -Werror
CFLAGS_COMMON := -std=gnu11 $(OPT) -g $(WARN) -pthread -D_GNU_SOURCE
# Objects record the headers they include (build/obj/**/*.d), so a header change rebuilds exactly
# the objects that read it.
DEPFLAGS := -MMD -MP
GIT_SHA  := $(shell git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
# Rewritten only when the id changes, so objects that embed it rebuild then.
BUILD_ID_STAMP := $(BUILD)/build-id.txt
$(shell mkdir -p $(BUILD) && (test "$$(cat $(BUILD_ID_STAMP) 2>/dev/null)" = "$(GIT_SHA) $(COUNTERS) $(OPT)" || echo "$(GIT_SHA) $(COUNTERS) $(OPT)" > $(BUILD_ID_STAMP)))

.PHONY: all test clean deps
all:

# Order matters only for variables: a fragment uses the object lists of those above it.
include allocator/allocator.mk
include phase/phase.mk
include trace/trace.mk
include probes/probes.mk
include bench/bench.mk
include collectors/collectors.mk
include reports/reports.mk
include hak/hak.mk
include tests/tests.mk
include install.mk

-include $(wildcard $(OBJ)/*/*.d $(OBJ)/*/*/*.d)

deps:
	@scripts/install-deps.sh

clean:
	rm -rf $(BUILD)
