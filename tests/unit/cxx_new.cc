/*
 * C++ on hakmem: operator new/delete (plain, array, sized, aligned,
 * nothrow) and the standard containers churning through every tier.  Runs
 * linked with libhakmem.a and, from tests/compat, under LD_PRELOAD.  Linked,
 * it also reads hakmem's counters to see that new and delete really reach
 * hakmem's tiers, not some other allocator inside the C++ runtime.
 */
#include "check.h"

#include <malloc.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

struct alignas(64) CacheLine {
    unsigned char bytes[64];
};

struct alignas(4096) Page {
    unsigned char bytes[4096];
};

static bool aligned_to(const void *p, std::size_t a) {
    return (reinterpret_cast<std::uintptr_t>(p) & (a - 1)) == 0;
}

static void test_new_delete() {
    for (std::size_t n : {1, 24, 100, 1024, 1025, 40000, 2000000}) {
        char *a = new char[n];
        CHECK(aligned_to(a, 16));
        std::fill(a, a + n, 'x');
        delete[] a;

        void *p = ::operator new(n);
        CHECK(malloc_usable_size(p) >= n);
        std::fill(static_cast<char *>(p), static_cast<char *>(p) + n, 'y');
        ::operator delete(p, n); // sized delete
    }
    auto *v = new std::vector<int>(1000, 7);
    CHECK(v->at(999) == 7);
    delete v;

    void *q = ::operator new(100, std::nothrow);
    CHECK(q != nullptr);
    ::operator delete(q, std::nothrow);

    bool threw = false;
    try {
        volatile std::size_t huge = SIZE_MAX / 2;
        void *r = ::operator new(huge);
        ::operator delete(r);
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    CHECK(threw);
    volatile std::size_t huge = SIZE_MAX / 2;
    CHECK(::operator new(huge, std::nothrow) == nullptr);
}

static void test_aligned_new() {
    for (std::size_t a : {16, 32, 64, 128, 256, 4096, 65536}) {
        for (std::size_t n : {1, 64, 1000, 100000}) {
            void *p = ::operator new(n, std::align_val_t(a));
            CHECKF(aligned_to(p, a), "new(%zu, align %zu) = %p", n, a, p);
            std::fill(static_cast<char *>(p), static_cast<char *>(p) + n, 'z');
            ::operator delete(p, n, std::align_val_t(a));
        }
    }
    std::vector<CacheLine *> lines;
    for (int i = 0; i < 1000; i++) {
        lines.push_back(new CacheLine);
        CHECK(aligned_to(lines.back(), 64));
        std::fill(lines.back()->bytes, lines.back()->bytes + 64, static_cast<unsigned char>(i));
    }
    for (int i = 0; i < 1000; i++) {
        CHECK(lines[i]->bytes[0] == static_cast<unsigned char>(i));
        delete lines[i];
    }
    Page *pages = new Page[3];
    CHECK(aligned_to(pages, 4096));
    delete[] pages;
    std::vector<CacheLine> vec(333);
    CHECK(aligned_to(vec.data(), 64));
}

#ifdef HAKMEM_LINKED
static long long tiny_allocs() {
    return hak_counter("tiny_alloc_hit") + hak_counter("tiny_alloc_miss");
}

/* Each new lands in the tier its size names, and each delete of a Large or
 * Huge block is counted as that tier's free. */
static void test_new_reaches_hakmem() {
    enum { N = 100, BIG = 10 };
    static char *small[N];
    static void *big[BIG];
    long long tiny0 = tiny_allocs(), large0 = hak_counter("large_alloc"),
              huge0 = hak_counter("huge_alloc");
    for (int i = 0; i < N; i++)
        small[i] = new char[64];
    for (int i = 0; i < BIG; i++)
        big[i] = ::operator new(100000);
    void *huge = ::operator new(std::size_t(3) << 20);
    CHECKF(tiny_allocs() - tiny0 == N, "%d new char[64] made %lld Tiny allocations", int(N),
           tiny_allocs() - tiny0);
    CHECKF(hak_counter("large_alloc") - large0 == BIG, "%d new(100000) made %lld Large allocations",
           int(BIG), hak_counter("large_alloc") - large0);
    CHECKF(hak_counter("huge_alloc") - huge0 == 1, "new(3 MiB) made %lld Huge allocations",
           hak_counter("huge_alloc") - huge0);
    long long large_free0 = hak_counter("free_large"), huge_free0 = hak_counter("free_huge");
    for (int i = 0; i < BIG; i++)
        ::operator delete(big[i], 100000); // sized delete
    ::operator delete(huge);
    for (int i = 0; i < N; i++)
        delete[] small[i];
    CHECKF(hak_counter("free_large") - large_free0 == BIG, "%d deletes of Large blocks counted %lld",
           int(BIG), hak_counter("free_large") - large_free0);
    CHECKF(hak_counter("free_huge") - huge_free0 == 1, "a delete of a Huge block counted %lld",
           hak_counter("free_huge") - huge_free0);
}
#endif

static std::string key_of(int i) {
    return "key-" + std::to_string(i * 7919 % 100003) + std::string(i % 40, 'k');
}

static void test_container_churn(int seed) {
    std::map<std::string, std::vector<int>> m;
    std::unordered_map<int, std::string> u;
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 20000; i++) {
            m[key_of(i + seed)].push_back(i);
            u[i] = std::string(static_cast<std::size_t>(i % 3000), static_cast<char>('a' + i % 26));
        }
        long sum = 0;
        for (const auto &kv : m)
            for (int x : kv.second)
                sum += x;
        CHECK(sum == 20000L * 19999 / 2);
        for (int i = 0; i < 20000; i += 2) {
            m.erase(key_of(i + seed));
            u.erase(i);
        }
        CHECK(u.size() == 10000);
        CHECK(u[1].size() == 1);
        m.clear();
    }
    std::vector<std::unique_ptr<std::string>> strs;
    for (int i = 0; i < 50000; i++)
        strs.emplace_back(new std::string(key_of(i)));
    std::sort(strs.begin(), strs.end(), [](const auto &a, const auto &b) { return *a < *b; });
    CHECK(std::is_sorted(strs.begin(), strs.end(),
                         [](const auto &a, const auto &b) { return *a < *b; }));
    std::vector<char> big;
    for (int i = 0; i < 3000000; i++)
        big.push_back(static_cast<char>(i));
    CHECK(big[2999999] == static_cast<char>(2999999));
}

int main() {
#ifdef HAKMEM_LINKED
    test_new_reaches_hakmem();
#endif
    test_new_delete();
    test_aligned_new();
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; t++)
        threads.emplace_back(test_container_churn, t * 1000);
    test_container_churn(7);
    for (auto &t : threads)
        t.join();
    return test_finish();
}
