#!/usr/bin/env bash
# Each run records its allocator library: the file, and for a Debian peer the package dpkg-query
# names and that package's version (hakmem: its build id); hak runs, hak report (Markdown and
# JSON) and hak diff show it.  dpkg-query gets the path as an argument, never through a shell.
source "$(dirname "$0")/lib.sh"
command -v dpkg-query >/dev/null 2>&1 || skip "dpkg-query is not installed (not a Debian system)"

DB=$WORK/run.db
make_db "$DB" hakmem glibc
lib=$(readlink -f "$ROOT/build/libhakmem.so")
[[ $(sql "$DB" "SELECT alloc_file FROM runs WHERE allocator = 'hakmem'") == "$lib" ]] ||
    fail "hakmem's run does not name its library file"
[[ $(sql "$DB" "SELECT alloc_version = alloc_build AND alloc_package IS NULL FROM runs WHERE allocator = 'hakmem'") == 1 ]] ||
    fail "hakmem's version is not its build id: $(sql "$DB" "SELECT alloc_package, alloc_version FROM runs WHERE allocator = 'hakmem'")"
pkg=$(sql "$DB" "SELECT alloc_package FROM runs WHERE allocator = 'glibc'")
ver=$(sql "$DB" "SELECT alloc_version FROM runs WHERE allocator = 'glibc'")
[[ $pkg == libc6* ]] || fail "glibc's run names package '$pkg', not libc6"
[[ -n $ver && $ver == "$(dpkg-query -W -f='${Version}' "$pkg")" ]] || fail "glibc's version '$ver' is not dpkg's"

"$HAK" runs "$DB" >"$WORK/runs.txt" || fail "hak runs failed"
grep -qF -- "$ver" "$WORK/runs.txt" || fail "hak runs does not show glibc's version"
"$HAK" report "$DB" >"$WORK/report.md" || fail "hak report failed"
grep -qF "Allocator library: $pkg $ver" "$WORK/report.md" || fail "hak report does not show glibc's library"
grep -qF "$lib" "$WORK/report.md" || fail "hak report does not show hakmem's library"
"$HAK" report "$DB" --json >"$WORK/report.json" || fail "hak report --json failed"
grep -qF "\"alloc_version\":\"$ver\"" "$WORK/report.json" || fail "hak report --json lacks alloc_version"
cp "$DB" "$WORK/other.db"
sql "$WORK/other.db" "UPDATE runs SET alloc_version = '0.0-other' WHERE allocator = 'glibc'"
"$HAK" diff "$DB" "$WORK/other.db" >"$WORK/diff.md" || fail "hak diff failed"
grep -qF "| glibc | $pkg $ver" "$WORK/diff.md" || fail "hak diff does not show A's glibc library"
grep -qF "0.0-other" "$WORK/diff.md" || fail "hak diff does not show B's glibc library"
grep -q "| glibc |.*(differs)" "$WORK/diff.md" || fail "hak diff does not flag versions that differ"

# A peer whose path holds shell syntax: dpkg-query sees the path, no shell runs it.
peer=$(readlink -f /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 2>/dev/null || true)
if [[ -n $peer && -f $peer ]]; then
    # Run from WORK, where a command that did run would leave its file.
    cd "$WORK"
    odd="$WORK/lib\$(touch pwned);\`touch pwned2\`.so"
    ln -s "$peer" "$odd"
    HAK_LIB_JEMALLOC=$odd "$HAK" record -q -o "$DB" --alloc jemalloc -- true >/dev/null 2>&1 ||
        fail "hak record through a symlink with an odd name failed"
    [[ -e $WORK/pwned || -e $WORK/pwned2 ]] && fail "the library path ran as a shell command"
    [[ $(sql "$DB" "SELECT alloc_file FROM runs WHERE allocator = 'jemalloc'") == "$peer" ]] ||
        fail "jemalloc's run does not name the real file behind the symlink"
    [[ -n $(sql "$DB" "SELECT alloc_version FROM runs WHERE allocator = 'jemalloc'") ]] ||
        fail "jemalloc's run has no version"
fi
echo PASS
