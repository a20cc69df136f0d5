# probes/: what reads a live process.  This fragment builds objects only; the programs that use
# them (bench/bench.mk, collectors/collectors.mk) link the ones they need:
#   PHASE_CLIENT_OBJ  the phase protocol's client side (benchmarks)         probes/phase.c
#   ALLOCATORS_OBJ    allocator table: short name -> library, package       probes/allocators.c
PROBES_CFLAGS := $(CFLAGS_COMMON) -Iprobes -Iallocator/include
PROBES_HEADERS := $(wildcard probes/*.h)

PHASE_CLIENT_OBJ := $(OBJ)/probes/phase.o
ALLOCATORS_OBJ   := $(OBJ)/probes/allocators.o

$(OBJ)/probes/%.o: probes/%.c $(PROBES_HEADERS) Makefile probes/probes.mk
	@mkdir -p $(dir $@)
	$(CC) $(PROBES_CFLAGS) -c $< -o $@

# The counter segment reader (hak counters, hak record).
COUNTER_READER_OBJ := $(OBJ)/probes/counter_reader.o
# The collector side of the toolkit (hak record, hak bench -o): smaps parser, perf events, phase reader.
RECORD_PROBES_OBJ := $(OBJ)/probes/smaps.o $(OBJ)/probes/events.o $(OBJ)/probes/phase_reader.o
