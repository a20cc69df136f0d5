# phase/: the phase-mark client, a library of its own so that workloads and users' programs can
# mark phases: build/libhakphase.a and its header phase/include/hakphase.h (docs/phase-protocol.md).
#   cc prog.c -Iphase/include build/libhakphase.a
PHASE_CFLAGS := $(CFLAGS_COMMON) -Iphase/include
LIBHAKPHASE_A := $(BUILD)/libhakphase.a

all: $(LIBHAKPHASE_A)

$(OBJ)/phase/%.o: phase/%.c Makefile phase/phase.mk
	@mkdir -p $(dir $@)
	$(CC) $(PHASE_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(LIBHAKPHASE_A): $(OBJ)/phase/phase.o
	@rm -f $@
	ar rcs $@ $^
