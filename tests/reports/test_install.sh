#!/usr/bin/env bash
# make install PREFIX=... DESTDIR=...: the installed hak finds its libhakmem.so and its gnuplot
# scripts relative to itself, with no HAK_* variable set (it records a run under hakmem and draws
# its charts, and runs the speed workloads and trace replays of its profiles), and a program builds against the installed libraries through pkg-config.
source "$(dirname "$0")/lib.sh"
command -v gnuplot >/dev/null 2>&1 || skip "gnuplot is not installed (scripts/install-deps.sh installs gnuplot-nox)"
command -v pkg-config >/dev/null 2>&1 || skip "pkg-config is not installed (scripts/install-deps.sh installs it)"

DEST=$WORK/dest
PREFIX=/opt/hakmem-test
make -s -C "$ROOT" install DESTDIR="$DEST" PREFIX="$PREFIX" >"$WORK/install.log" 2>&1 || {
    cat "$WORK/install.log"
    fail "make install failed"
}
P=$DEST$PREFIX
for f in bin/hak lib/libhakmem.so lib/libhakmem.a include/hakmem.h lib/pkgconfig/hakmem.pc \
    lib/libhakphase.a include/hakphase.h lib/pkgconfig/hakphase.pc share/hakmem/rss-timeline.gp \
    libexec/hakmem/battle share/hakmem/profiles/quick.profile; do
    [[ -f $P/$f ]] || fail "make install did not install $f"
done
[[ -x $P/bin/hak ]] || fail "the installed hak is not executable"

# The installed hak, with nothing in the environment pointing at the build tree.
unset HAK_SCRIPTS_DIR HAK_LIBHAKMEM HAK_PROFILES_DIR
"$P/bin/hak" record -q -o "$WORK/run.db" --alloc hakmem -- "$P/libexec/hakmem/battle" \
    "${BATTLE_ARGS[@]}" >"$WORK/record.log" 2>&1 || {
    cat "$WORK/record.log"
    fail "the installed hak could not record under hakmem"
}
preload=$(sql "$WORK/run.db" "SELECT preload FROM runs")
[[ $preload == "$P/lib/libhakmem.so" ]] || fail "the run preloaded '$preload', not the installed library"
"$P/bin/hak" plot "$WORK/run.db" -o "$WORK/charts" >"$WORK/plot.out" 2>"$WORK/plot.err" || {
    cat "$WORK/plot.err"
    fail "the installed hak could not draw its charts"
}
png_ok "$WORK/charts/rss-battle.png" || fail "the installed hak drew no Rss chart"

# Every workload and trace the profiles name is installed: a replay profile and a speed workload
# run from the installed tree alone.
for prof in trace-sort prodcons; do
    [[ -f $P/share/hakmem/profiles/$prof.profile ]] || fail "make install did not install the $prof profile"
done
"$P/bin/hak" bench trace-sort --alloc glibc --set rounds=1 -q >"$WORK/replay.out" 2>&1 || {
    cat "$WORK/replay.out"
    fail "the installed hak could not replay an installed trace"
}
"$P/bin/hak" bench prodcons --alloc hakmem --set blocks=1000 -q >"$WORK/prodcons.out" 2>&1 || {
    cat "$WORK/prodcons.out"
    fail "the installed hak could not run the prodcons workload"
}

# A user's program marks phases and allocates through the installed libraries.
cat >"$WORK/prog.c" <<'C'
#include <hakmem.h>
#include <hakphase.h>
#include <stdlib.h>
int main(void) {
    hak_phase_mark("baseline");
    void *p = malloc(100);
    free(p);
    return 0;
}
C
pc() { PKG_CONFIG_PATH=$P/lib/pkgconfig pkg-config --define-variable=prefix="$P" "$@"; }
# shellcheck disable=SC2046 # pkg-config's flags are words
cc -o "$WORK/prog" "$WORK/prog.c" $(pc --cflags --libs hakphase hakmem) >"$WORK/cc.log" 2>&1 || {
    cat "$WORK/cc.log"
    fail "a program does not build with pkg-config --cflags --libs hakphase hakmem"
}
LD_LIBRARY_PATH=$P/lib "$WORK/prog" || fail "the program built against the installed libraries failed"
echo PASS
