# allocator/: builds build/libhakmem.so and build/libhakmem.a (libc + pthreads only).
ALLOC_SRC := $(wildcard allocator/*.c)
ALLOC_OBJ := $(patsubst allocator/%.c,$(OBJ)/allocator/%.o,$(ALLOC_SRC))
ALLOC_CFLAGS := $(CFLAGS_COMMON) -fPIC -fvisibility=hidden -ftls-model=initial-exec \
                -fno-builtin-malloc -fno-builtin-free -fno-builtin-calloc -fno-builtin-realloc \
                -Iallocator/include -Iallocator -DHAKMEM_COUNTERS=$(COUNTERS) \
                -DHAKMEM_BUILD_ID='"$(GIT_SHA) COUNTERS=$(COUNTERS) OPT=$(OPT)"'

LIBHAKMEM_SO := $(BUILD)/libhakmem.so
LIBHAKMEM_A  := $(BUILD)/libhakmem.a

all: $(LIBHAKMEM_SO) $(LIBHAKMEM_A)

# The headers and .def lists an object reads are in its .d file (-MMD), so touching one rebuilds
# exactly the objects that include it.
$(OBJ)/allocator/%.o: allocator/%.c Makefile allocator/allocator.mk $(BUILD_ID_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALLOC_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(LIBHAKMEM_SO): $(ALLOC_OBJ)
	$(CC) -shared -pthread -Wl,-z,nodelete -o $@ $^

$(LIBHAKMEM_A): $(ALLOC_OBJ)
	@rm -f $@
	ar rcs $@ $^
