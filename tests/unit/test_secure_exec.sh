#!/usr/bin/env bash
# A setuid-root program linked with hakmem, run by user nobody, takes no
# option from its environment: HAKMEM_STATS must not print, and a path in
# the environment (HAKMEM_COUNTERS_PATH named the counter file in earlier
# builds) must not let the caller delete or create root-owned files.
# shellcheck source=tests/compat/lib.sh
source "$(dirname "$0")/../compat/lib.sh"

[[ $(id -u) -eq 0 ]] || skip "needs root to make a setuid-root program"
need setpriv cc
A=$BUILD_DIR/libhakmem.a
[[ -f $A ]] || fail "$A is missing: run make"

chmod 0755 "$WORK"
cat >"$WORK/prog.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(void)
{
    /* Every tier once, so the counters and the segment come into being. */
    size_t sizes[] = {16, 4096, 100000, 4u << 20};
    for (int i = 0; i < 4; i++) free(malloc(sizes[i]));
    printf("euid=%d\n", (int)geteuid());
    return 0;
}
C
cc -O1 -fno-builtin -o "$WORK/prog" "$WORK/prog.c" "$A" -pthread || fail "cannot build the setuid program"
chown root:root "$WORK/prog"
chmod 4755 "$WORK/prog"

as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
"${as_nobody[@]}" test -x "$WORK/prog" || skip "user nobody cannot run $WORK/prog"

# A root-owned file the caller wants gone, and a place it wants a file made.
mkdir "$WORK/victims"
echo keep >"$WORK/victims/secret"
rc=0
"${as_nobody[@]}" env HAKMEM_COUNTERS_PATH="$WORK/victims/secret" HAKMEM_STATS=1 \
    "$WORK/prog" >"$WORK/out" 2>"$WORK/err" || rc=$?
cat "$WORK/out" "$WORK/err"
[[ $rc -eq 0 ]] || fail "the setuid program failed with exit status $rc"
grep -qx "euid=0" "$WORK/out" || skip "the setuid bit had no effect here (nosuid mount?)"
[[ -f "$WORK/victims/secret" ]] || fail "HAKMEM_COUNTERS_PATH made a setuid program delete a root-owned file"
[[ $(cat "$WORK/victims/secret") == keep ]] || fail "HAKMEM_COUNTERS_PATH made a setuid program overwrite a file"
[[ ! -s "$WORK/err" ]] || fail "a setuid program obeyed HAKMEM_STATS (it printed on stderr)"

# A path with %p: nothing may be created there while the program runs.
"${as_nobody[@]}" env HAKMEM_COUNTERS_PATH="$WORK/victims/made-%p" "$WORK/prog" >/dev/null 2>&1 || true
ls "$WORK/victims" | grep -q made- && fail "HAKMEM_COUNTERS_PATH made a setuid program create a file"

# The same program, not setuid, still obeys HAKMEM_STATS (the options are only
# ignored in secure execution).
chmod 0755 "$WORK/prog"
HAKMEM_STATS=1 "$WORK/prog" >/dev/null 2>"$WORK/err2" || fail "the plain program failed"
[[ -s "$WORK/err2" ]] || fail "HAKMEM_STATS=1 printed nothing in a normal process: the test cannot tell the cases apart"
echo ok
