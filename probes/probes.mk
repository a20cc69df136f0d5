# probes/: what reads a live process.  This fragment builds objects only; the libraries and the
# programs that use them link the ones they need:
#   ALLOCATORS_OBJ      allocator table: short name -> library, package         probes/allocators.c
#   COUNTER_READER_OBJ  hakmem's counter segment (hak counters, the recorder)   probes/counter_reader.c
#   RECORD_PROBES_OBJ   smaps parser, perf events, phase reader (the recorder)
PROBES_CFLAGS := $(CFLAGS_COMMON) -Iprobes -Iphase/include -Iallocator/include

ALLOCATORS_OBJ     := $(OBJ)/probes/allocators.o
COUNTER_READER_OBJ := $(OBJ)/probes/counter_reader.o
RECORD_PROBES_OBJ  := $(OBJ)/probes/smaps.o $(OBJ)/probes/events.o $(OBJ)/probes/phase_reader.o
# The allocator library's file, package and version for each run (the recorder).
RECORD_PROBES_OBJ  += $(OBJ)/probes/peer_identity.o

$(OBJ)/probes/%.o: probes/%.c Makefile probes/probes.mk
	@mkdir -p $(dir $@)
	$(CC) $(PROBES_CFLAGS) $(DEPFLAGS) -c $< -o $@
