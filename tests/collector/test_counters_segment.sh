#!/usr/bin/env bash
# `hak counters PID` against processes it must not trust or must not wait on, and the counter
# segment's life: it is a memfd found through /proc/PID/fd, never a file in /dev/shm, so
#   - a running hakmem process is read, and a file planted in /dev/shm under its pid is ignored;
#   - a process without hakmem, one holding a FIFO, one holding an unsealed memfd of the same
#     name, and a process of another user each get one line of error at once (no hang);
#   - a full /dev/shm does not stop a hakmem process from starting and counting;
#   - a process killed by SIGKILL leaves nothing behind.
# shellcheck source=tests/collector/lib.sh
source "$(dirname "$0")/lib.sh"

[[ -f $LIBHAKMEM ]] || skip "$LIBHAKMEM is not built yet (run make)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# counters_fails NAME PID: hak counters exits 1 within 10 s with one line containing TEXT.
counters_fails() {
    local name=$1 pid=$2 text=$3 rc=0
    timeout 10 "${as_user[@]}" "$HAK" counters "$pid" >"$WORK/out" 2>"$WORK/err" || rc=$?
    echo "-- $name: exit $rc"
    [[ $rc -ne 124 ]] || fail "$name: hak counters hung"
    [[ $rc -eq 1 ]] || fail "$name: exit $rc, expected 1"
    expect_one_line "$WORK/err" "$name"
    grep -q -- "$text" "$WORK/err" || fail "$name: the message does not say '$text'"
}
as_user=()

echo "== a running hakmem process"
LD_PRELOAD=$LIBHAKMEM sleep 60 &
hpid=$!
pids+=("$hpid")
sleep 0.3
# A file planted where the segment used to live must change nothing.
printf 'HAKMEMCS planted by someone else' >"/dev/shm/hakmem-$hpid.seg"
timeout 10 "$HAK" counters --all "$hpid" >"$WORK/out" 2>"$WORK/err" || fail "hak counters $hpid: $(cat "$WORK/err")"
head -n 3 "$WORK/out"
grep -q "^# pid $hpid, build .*, running$" "$WORK/out" || fail "no header line naming pid $hpid"
[[ $(wc -l <"$WORK/out") -gt 5 ]] || fail "no counters listed"
rm -f "/dev/shm/hakmem-$hpid.seg"
# --classes: every size class with its block size, from 16 B (class 0) to 32 KiB (the last Mid
# class), the thread's caches and a total line.
timeout 10 "$HAK" counters --all --classes "$hpid" >"$WORK/classes" 2>"$WORK/err" ||
    fail "hak counters --classes $hpid: $(cat "$WORK/err")"
sed -n '/^class /,+2p' "$WORK/classes"
awk '$1 == "0" && $2 == 16 { ok = 1 } END { exit !ok }' "$WORK/classes" || fail "class 0 is not 16 bytes"
awk '$1 == "71" && $2 == 32768 { ok = 1 } END { exit !ok }' "$WORK/classes" ||
    fail "class 71 is not 32768 bytes"
[[ $(awk '$1 ~ /^[0-9]+$/ && NF == 7' "$WORK/classes" | wc -l) -eq 72 ]] || fail "not 72 size classes listed"
grep -q '^total ' "$WORK/classes" || fail "no total line for the thread caches"
# Reading leaves the slots no thread ever took untouched: a read of a hole in the memfd would
# allocate its page (4.5 MiB for all 1024 slots, charged to the process's memory cgroup).
segfd=$(ls -l "/proc/$hpid/fd" | awk '/memfd:hakmem-counters/ { print $9; exit }')
kb=$(($(stat -L -c '%b * %B' "/proc/$hpid/fd/$segfd") / 1024))
echo "-- segment resident after reading: $kb KiB"
[[ $kb -lt 256 ]] || fail "reading the counters made $kb KiB of the segment resident"
ls -l "/proc/$hpid/fd" | grep -q "memfd:hakmem-counters" || fail "no memfd among the process's files"

echo "== processes without a segment hakmem can read"
sleep 60 &
pids+=($!)
counters_fails "no hakmem" $! "does not use hakmem (no counter segment"
mkfifo "$WORK/fifo"
sleep 60 3<>"$WORK/fifo" &
pids+=($!)
counters_fails "a FIFO among its files" $! "does not use hakmem (no counter segment"
python3 -c '
import os, time
fd = os.memfd_create("hakmem-counters")
os.write(fd, b"HAKMEMCS" + bytes(4096))
print("ready", flush=True)
time.sleep(60)' >"$WORK/py" &
pids+=($!)
for _ in $(seq 50); do grep -q ready "$WORK/py" && break; sleep 0.1; done
counters_fails "an unsealed memfd of the same name" $! "not sealed"
counters_fails "no such process" 2147483647 "no such process 2147483647"

if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null; then
    cp "$HAK" "$WORK/hak" && chmod 0755 "$WORK/hak" "$WORK"
    HAK=$WORK/hak
    as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    if "${as_user[@]}" test -x "$HAK"; then
        counters_fails "another user's process" "$hpid" "cannot read"
    else
        echo "-- another user's process: not checked (nobody cannot run $HAK)"
    fi
    as_user=()
else
    echo "-- another user's process: not checked (needs root and setpriv)"
fi

echo "== a killed process leaves nothing behind"
kill -9 "$hpid"
wait "$hpid" 2>/dev/null || true
[[ ! -e /dev/shm/hakmem-$hpid.seg ]] || fail "a segment file of the killed process is in /dev/shm"
counters_fails "a killed process" "$hpid" "no such process"

echo "== /dev/shm full"
if [[ $(id -u) -eq 0 ]] && unshare -m true 2>/dev/null; then
    # A private mount namespace with a 64 KiB /dev/shm, filled up.
    unshare -m bash -c '
        mount -t tmpfs -o size=64k tmpfs /dev/shm || exit 77
        dd if=/dev/zero of=/dev/shm/fill bs=4k count=64 2>/dev/null
        LD_PRELOAD=$1 HAKMEM_STATS=1 bash -c "echo counted | cat >/dev/null"
        rc=$?
        ls /dev/shm >&2
        exit $rc' _ "$LIBHAKMEM" 2>"$WORK/err"
    rc=$?
    cat "$WORK/err"
    if [[ $rc -eq 77 ]]; then
        echo "-- not checked: cannot mount a tmpfs here"
    else
        [[ $rc -eq 0 ]] || fail "a hakmem process with /dev/shm full exited $rc"
        grep -q "segment shared" "$WORK/err" || fail "the exit dump does not say the segment is shared"
        grep -q "hakmem-" "$WORK/err" && fail "a segment file appeared in /dev/shm"
    fi
else
    echo "-- not checked (needs root and unshare -m)"
fi
echo "ok"
