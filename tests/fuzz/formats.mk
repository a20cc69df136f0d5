# tests/fuzz/formats.mk: libFuzzer harnesses for every file format the toolkit reads, but the
# counter segment (tests/fuzz/segment_*): run databases, the phase protocol, smaps/statm/pagemap
# text, profiles and benchmark command lines.  Built with clang into build/fuzz/, never into
# build/tests/ (tests/run.sh runs those as tests).
#   make fuzz-formats                 fuzz each harness for FUZZ_SECONDS (default 600) in turn
#   make fuzz-formats FUZZ_ONLY=smaps  one harness
#   tests/fuzz/test_formats_fuzz.sh   the short run that tests/run.sh does
# Seeds and regression inputs live in tests/fuzz/corpus/NAME/; new inputs go to build/fuzz/corpus/.

FUZZ_CC           ?= clang
FUZZ_SECONDS      ?= 600
FUZZ_FORMATS_DIR  := $(BUILD)/fuzz
FUZZ_FORMATS      := rundb phase smaps profile
FUZZ_ONLY         ?= $(FUZZ_FORMATS)
FUZZ_FORMATS_BINS := $(addprefix $(FUZZ_FORMATS_DIR)/,$(addsuffix _fuzz,$(FUZZ_FORMATS)))
FUZZ_FORMATS_CFLAGS := -std=gnu11 -g -O1 $(WARN) -pthread -D_GNU_SOURCE \
                       -fsanitize=fuzzer,address,undefined,float-cast-overflow \
                       -fno-sanitize-recover=undefined,float-cast-overflow \
                       -Ihak -Icollectors -Iprobes -Ireports -Ibench -Iphase/include -Iallocator/include

FUZZ_RUNDB_SRC   := hak/report.c hak/diff.c hak/plot.c hak/options.c $(wildcard reports/*.c) \
                    collectors/run_db.c probes/smaps.c probes/events.c
FUZZ_PHASE_SRC   := probes/phase_reader.c
FUZZ_SMAPS_SRC   := probes/smaps.c
FUZZ_PROFILE_SRC := collectors/profile.c bench/bench_params.c probes/allocators.c

.PHONY: fuzz fuzz-formats fuzz-formats-build
fuzz-formats-build: $(FUZZ_FORMATS_BINS)

fuzz-formats: fuzz-formats-build
	@for f in $(FUZZ_ONLY); do \
	    mkdir -p $(FUZZ_FORMATS_DIR)/corpus/$$f tests/fuzz/corpus/$$f; \
	    echo "fuzz-formats: $$f for $(FUZZ_SECONDS) s"; \
	    $(FUZZ_FORMATS_DIR)/$${f}_fuzz -max_total_time=$(FUZZ_SECONDS) -close_fd_mask=1 \
	        -artifact_prefix=$(FUZZ_FORMATS_DIR)/$$f- \
	        $(FUZZ_FORMATS_DIR)/corpus/$$f tests/fuzz/corpus/$$f \
	        $$(test $$f = profile && echo datasets/profiles) || exit 1; \
	done

# Another fragment may add its own harnesses to `make fuzz` (a double-colon rule).
fuzz:: fuzz-formats

$(FUZZ_FORMATS_DIR)/%_fuzz: tests/fuzz/%_fuzz.c tests/fuzz/formats.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FORMATS_CFLAGS) $(filter %.c,$^) -o $@ -lsqlite3 -lpfm -lm

$(FUZZ_FORMATS_DIR)/rundb_fuzz: $(FUZZ_RUNDB_SRC) $(wildcard reports/*.h collectors/*.h)
$(FUZZ_FORMATS_DIR)/phase_fuzz: $(FUZZ_PHASE_SRC) $(wildcard probes/*.h)
$(FUZZ_FORMATS_DIR)/smaps_fuzz: $(FUZZ_SMAPS_SRC) $(wildcard probes/*.h)
$(FUZZ_FORMATS_DIR)/profile_fuzz: $(FUZZ_PROFILE_SRC) $(wildcard bench/*.h)
