# shellcheck shell=bash
# Sourced by the tests in tests/reports/: hak report, hak plot and hak diff on small run databases
# recorded by the test itself.  Builds on tests/collector/lib.sh (paths, WORK, skip/fail, sql).
# shellcheck source=tests/collector/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../collector/lib.sh"

# A short battle run: one cycle, 4 MiB, every phase (baseline, burst, free, idle, flush, end).
BATTLE_ARGS=(--threads=2 --cycles=1 --working_set=4M --churn=500 --idle_ms=60)

# make_db DB ALLOCATOR...: records one short battle run per allocator into DB.
make_db() {
    local db=$1
    shift
    local a
    for a in "$@"; do
        "$HAK" record -q -o "$db" --alloc "$a" -- "$BIN/battle" "${BATTLE_ARGS[@]}" \
            >"$WORK/record-$a.log" 2>&1 || {
            cat "$WORK/record-$a.log"
            fail "hak record of battle under $a failed"
        }
    done
}

# png_ok FILE: the file is a PNG image with a plausible size (IHDR width and height > 0).
png_ok() {
    python3 - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG signature'
assert data[12:16] == b'IHDR', 'no IHDR chunk'
w, h = struct.unpack('>II', data[16:24])
assert w > 100 and h > 100, f'implausible size {w}x{h}'
assert data.rstrip(b'\x00').endswith(b'IEND\xaeB`\x82'), 'truncated (no IEND)'
PY
}
