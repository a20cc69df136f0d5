/*
 * A program with known allocations for the trace tests (tests/trace/lib.sh builds it).
 *   traced_ops 0      the same threads and fork, but none of the counted operations
 *   traced_ops 1      the counted operations (tests/trace/test_trace_info.sh lists them)
 *   traced_ops crash  20000 mallocs, then abort()
 * No stdio: its buffers would be allocations of their own.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { HANDED = 5 };
static void *handed[HANDED];
static int work;

static void *producer(void *arg) {
    (void)arg;
    for (int i = 0; i < HANDED && work; i++)
        handed[i] = malloc(3000);
    return NULL;
}

static void *consumer(void *arg) {
    (void)arg;
    for (int i = 0; i < HANDED && work; i++)
        free(handed[i]); /* allocated by the producer */
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "crash") == 0) {
        for (int i = 0; i < 20000; i++)
            ((volatile char *)malloc(24))[0] = 1;
        abort();
    }
    work = argc > 1 && strcmp(argv[1], "1") == 0;
    void *b[10] = {0}, *c = NULL, *r = NULL, *al[5] = {0};
    if (work) {
        for (int i = 0; i < 10; i++)
            b[i] = malloc(100 + (size_t)i);
        c = calloc(4, 25);
        b[3] = realloc(b[3], 1000);
        r = realloc(NULL, 40);
        if (posix_memalign(&al[0], 64, 256) != 0) return 1;
        al[1] = aligned_alloc(128, 256);
        al[2] = memalign(32, 64);
        al[3] = valloc(100);
        al[4] = pvalloc(100);
    }
    pthread_t p, q;
    pthread_create(&p, NULL, producer, NULL);
    pthread_join(p, NULL);
    pthread_create(&q, NULL, consumer, NULL);
    pthread_join(q, NULL);
    pid_t child = fork();
    if (child == 0) {
        if (work) {
            void *x = malloc(77), *y = malloc(78), *z = malloc(79);
            free(x);
            free(y);
            (void)z;
            free(b[0]); /* inherited from the parent: the child's trace never saw it allocated */
        }
        exit(0);
    }
    waitpid(child, NULL, 0);
    if (work) {
        for (int i = 0; i < 10; i++)
            free(b[i]);
        free(c);
        free(r);
        for (int i = 0; i < 5; i++)
            free(al[i]);
    }
    return 0;
}
