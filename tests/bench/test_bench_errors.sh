#!/usr/bin/env bash
# Bad input is refused with one clear line on stderr and exit status 2, before anything runs:
# a bad profile name, a bad parameter, a bad number, an unknown allocator, a missing peer library.
# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"

# expect_error WANT_SUBSTRING CMD...: CMD exits 2, prints nothing on stdout and exactly one line
# on stderr, and that line contains WANT_SUBSTRING.
expect_error() {
    local want=$1 rc=0
    shift
    # refused input must not start a run: a case that runs anyway is stopped (exit 124), not waited for
    timeout 30 "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
    local lines
    lines=$(wc -l <"$WORK/err")
    echo "\$ ${*#"$ROOT/"}"
    echo "  -> exit $rc: $(cat "$WORK/err")"
    [[ $rc -eq 2 ]] || fail "expected exit status 2, got $rc from: $*"
    [[ $lines -eq 1 ]] || { cat "$WORK/err"; fail "expected one line on stderr, got $lines from: $*"; }
    [[ ! -s $WORK/out ]] || { cat "$WORK/out"; fail "expected no output on stdout from: $*"; }
    grep -qF -- "$want" "$WORK/err" || fail "stderr lacks '$want' for: $*"
}

expect_error "unknown profile 'no-such-profile'" "$HAK" bench no-such-profile
expect_error "bad profile name" "$HAK" bench 'bad name!'
expect_error "cannot read profile" "$HAK" bench "$WORK/missing.profile"
expect_error "unknown allocator 'foo' (known: hakmem, glibc, mimalloc, jemalloc, tcmalloc)" \
    "$HAK" bench quick --alloc glibc,foo
expect_error "named twice" "$HAK" bench quick --alloc glibc,glibc
# NAME=PATH entries (a library of one's own)
expect_error "base=$WORK/none.so: No such file or directory" "$HAK" bench quick --alloc "glibc,base=$WORK/none.so"
expect_error "base=$WORK: not a readable file" "$HAK" bench quick --alloc "glibc,base=$WORK"
expect_error "'hakmem' is a known allocator" "$HAK" bench quick --alloc "glibc,hakmem=$LIBHAKMEM"
expect_error "bad allocator name '9x'" "$HAK" bench quick --alloc "glibc,9x=$LIBHAKMEM"
expect_error "no library after 'base='" "$HAK" bench quick --alloc "glibc,base="
cp "$LIBHAKMEM" "$WORK/other.so"
expect_error "allocator 'base' named twice, for two libraries" \
    "$HAK" bench quick --alloc "base=$LIBHAKMEM,base=$WORK/other.so"
expect_error "base=$WORK/none.so: No such file or directory" \
    "$HAK" record -o "$WORK/r.db" --alloc "base=$WORK/none.so" -- /bin/true
expect_error "unknown parameter 'bogus'" "$HAK" bench quick --set bogus=1
expect_error "bad value 'ten' for min_size" "$HAK" bench quick --set min_size=ten
expect_error "threads=0 is out of range" "$HAK" bench quick --threads 0
expect_error "min_size (2000) is larger than max_size (1000)" "$HAK" bench larson-server --set min_size=2000
expect_error "bad --repeat value 'x'" "$HAK" bench quick --repeat x
expect_error "unknown option '--frobnicate'" "$HAK" bench quick --frobnicate
expect_error "no profile given" "$HAK" bench

# A profile file with mistakes: the message names the file and line.
printf '[larson]\nruntime = 1\nmax_sise = 100\n' >"$WORK/typo.profile"
expect_error "typo.profile:3: unknown parameter 'max_sise'" "$HAK" bench "$WORK/typo.profile"
printf 'runtime = 1\n' >"$WORK/nosection.profile"
expect_error "nosection.profile:1: 'runtime' outside a section" "$HAK" bench "$WORK/nosection.profile"
printf '[larsen]\n' >"$WORK/bench.profile"
expect_error "unknown benchmark 'larsen'" "$HAK" bench "$WORK/bench.profile"
printf '[battle]\ntiny_pct = 10\n' >"$WORK/mix.profile"
expect_error "tiny_pct + mid_pct + large_pct must be 100" "$HAK" bench "$WORK/mix.profile"

# A peer that is not installed: the message names the Debian package.
HAK_LIB_DIRS=$WORK expect_error "install the Debian package libmimalloc2.0" \
    "$HAK" bench quick --alloc glibc,mimalloc
HAK_LIB_DIRS=$WORK expect_error "install the Debian package libjemalloc2" \
    "$HAK" bench quick --alloc jemalloc
HAK_LIB_DIRS=$WORK expect_error "install the Debian package libtcmalloc-minimal4" \
    "$HAK" bench quick --alloc tcmalloc
HAK_LIBHAKMEM=$WORK/nothing.so expect_error "HAK_LIBHAKMEM=$WORK/nothing.so" \
    "$HAK" bench quick --alloc hakmem

# The benchmarks themselves.
expect_error "unknown parameter 'speed'" "$BIN/larson" --speed=3
expect_error "bad value '-1' for runtime" "$BIN/larson" --runtime=-1
expect_error "the classic command line takes 7 numbers" "$BIN/larson" 1 8 1000
expect_error "max_size=0 is out of range" "$BIN/larson" --max_size=0
expect_error "keep_pct=101 is out of range" "$BIN/battle" --keep_pct=101
expect_error "tiny_pct + mid_pct + large_pct must be 100" "$BIN/battle" --tiny_pct=99
expect_error "min_size (2000) is above max_size (1000)" "$BIN/mallocfree" --min_size=2000
expect_error "pairs=0 is out of range" "$BIN/mallocfree" --pairs=0
expect_error "block_size=4 is out of range" "$BIN/prodcons" --block_size=4
expect_error "queue=1 is out of range" "$BIN/prodcons" --queue=1
expect_error "depth=25 is out of range" "$BIN/smallobj" --depth=25
expect_error "step (64) is above max_size (32)" "$BIN/reallocgrow" --step=64 --max_size=32
expect_error "unknown parameter 'window'" "$HAK" bench prodcons --set window=3
HAK_ICOUNT_TOOL=nope expect_error "HAK_ICOUNT_TOOL must be perf or callgrind" \
    "$HAK" bench icount --icount --alloc glibc

# The hak dispatcher: an unknown verb names itself on the first line, then the usage.
rc=0
"$HAK" frobnicate >/dev/null 2>"$WORK/err" || rc=$?
[[ $rc -eq 2 ]] || fail "hak frobnicate: expected exit 2, got $rc"
[[ $(head -n1 "$WORK/err") == "hak: unknown verb 'frobnicate'" ]] || fail "hak frobnicate: first line is '$(head -n1 "$WORK/err")'"
grep -q 'bench' "$WORK/err" || fail "hak frobnicate: the usage does not list the verbs"

rc=0
scripts/larson.sh >/dev/null 2>&1 || rc=$?
[[ $rc -eq 2 ]] || fail "scripts/larson.sh without a profile: expected exit 2, got $rc"
echo "ok"
