#!/usr/bin/env bash
# gcc (cc1, as, ld all preloaded) builds the same object file and a program
# that prints the same output with and without hakmem.
# shellcheck source=tests/compat/lib.sh
source "$(dirname "$0")/lib.sh"
need gcc cksum
assert_preloaded

cat >"$WORK/prog.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node { struct node *next; char name[24]; int value; };

static int by_name(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(void) {
    struct node *head = NULL;
    for (int i = 0; i < 50000; i++) {
        struct node *n = malloc(sizeof *n);
        snprintf(n->name, sizeof n->name, "n%07d", (i * 7919) % 50000);
        n->value = i;
        n->next = head;
        head = n;
    }
    char **names = malloc(50000 * sizeof *names);
    int k = 0;
    long sum = 0;
    for (struct node *n = head; n; n = n->next) { names[k++] = strdup(n->name); sum += n->value; }
    qsort(names, (size_t)k, sizeof *names, by_name);
    printf("%d nodes, sum %ld, first %s, last %s\n", k, sum, names[0], names[k - 1]);
    int primes = 0;
    char *sieve = calloc(2000000, 1);
    for (long i = 2; i < 2000000; i++)
        if (!sieve[i]) { primes++; for (long j = i * i; j < 2000000; j += i) sieve[j] = 1; }
    printf("%d primes below 2000000\n", primes);
    return 0;
}
C

# A generated translation unit big enough to keep cc1's allocator busy.
awk 'BEGIN {
    print "#include <stdio.h>"
    for (i = 0; i < 300; i++) {
        printf "static long f%d(long x) { long a[16]; for (int j = 0; j < 16; j++) a[j] = x * %d + j;", i, i + 1
        printf " long s = 0; for (int j = 0; j < 16; j++) s += a[j] ^ (a[(j + %d) %% 16] >> 3); return s; }\n", i % 7
    }
    print "int main(void) { long t = 0;"
    for (i = 0; i < 300; i++) printf "  t += f%d(%d);\n", i, i
    print "  printf(\"%ld\\n\", t); return 0; }"
}' >"$WORK/big.c"

run_gcc() {
    local dir
    dir=$(mktemp -d "$WORK/build.XXXXXX")
    cd "$dir" || exit
    cp "$WORK/prog.c" prog.c
    gcc -O2 -Wall -c prog.c -o prog.o
    cksum <prog.o
    gcc prog.o -o prog
    ./prog
    cp "$WORK/big.c" big.c
    gcc -O2 -o big big.c
    ./big
}
same_output gcc run_gcc
