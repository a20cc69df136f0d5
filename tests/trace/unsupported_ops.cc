// A program that makes the calls a replay cannot make, and the C++ deletes, for
// tests/trace/test_trace_unsupported.sh (tests/trace/lib.sh builds it).
//   unsupported_ops 0   the same start and exit, none of the calls below
//   unsupported_ops 1   malloc_trim x2, mallopt x1, malloc_usable_size x3, its own anonymous
//                       mmap (3 pages), mremap (to 5 pages) and munmap (5 pages); new and sized
//                       delete, new[] and delete[]; a 4 MiB block with its first 800 KiB written
// No stdio or iostream: their buffers would be allocations of their own.
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <new>

struct Record {
    char bytes[40];
};

int main(int argc, char **argv) {
    if (argc < 2 || strcmp(argv[1], "1") != 0) return 0;
    malloc_trim(0);
    malloc_trim(4096);
    mallopt(M_TRIM_THRESHOLD, 1 << 20);
    void *x = malloc(100);
    size_t usable = malloc_usable_size(x) + malloc_usable_size(x) + malloc_usable_size(x);
    free(x);
    const size_t page = 4096;
    void *m = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return 1;
    void *grown = mremap(m, 3 * page, 5 * page, MREMAP_MAYMOVE);
    if (grown == MAP_FAILED) return 1;
    munmap(grown, 5 * page);
    Record *r = new Record;
    r->bytes[0] = 1;
    delete r; // operator delete(void *, size_t) under C++14 sized deallocation
    int *a = new int[10];
    a[0] = 1;
    delete[] a;
    char *big = static_cast<char *>(malloc(4 << 20));
    if (!big) return 1;
    memset(big, 1, 800 * 1024);
    free(big);
    return usable > 0 ? 0 : 1;
}
