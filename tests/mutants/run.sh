#!/usr/bin/env bash
# Mutation check (make mutants): each tests/mutants/NAME.patch is a deliberate breakage of
# hakmem.  Its first line names the tests that must catch it:
#     # kills: unit_flush bench/test_battle_flush_hakmem
# Each patch is applied to a scratch copy of the tree in build/mutants/NAME (never to the
# working tree), built incrementally from a copy of build/, and only the named tests run there.
# A mutant is KILLED when every named test fails on it; one that any named test passes over
# SURVIVED, and the run fails.  docs/testing.md says how to add one.
#
#   tests/mutants/run.sh            every mutant
#   tests/mutants/run.sh FILTER     the mutants whose name contains FILTER
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 2
ROOT=$(pwd)
FILTER=${1:-}
SCRATCH=$ROOT/build/mutants
JOBS=${MUTANT_JOBS:-2}

# The mutants build on the tree's own build: objects a patch leaves alone are reused.
make -s -j"$JOBS" all test-build >/dev/null || {
    echo "the unmutated tree does not build"
    exit 2
}
# The build id embeds the git sha; the copies keep the tree's so that nothing else rebuilds.
sha=$(cut -d' ' -f1 build/build-id.txt)
mkdir -p "$SCRATCH"

killed=0
survived=0
broken=0
start=$(date +%s)
for patch in tests/mutants/*.patch; do
    name=$(basename "$patch" .patch)
    [[ -z $FILTER || $name == *"$FILTER"* ]] || continue
    read -r -a tests < <(sed -n '1s/^# kills: *//p' "$patch")
    dir=$SCRATCH/$name
    log=$SCRATCH/$name.log
    rm -rf "$dir"
    mkdir -p "$dir/build"
    # Tracked and untracked (not ignored) files, as the working tree has them now.
    git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
        [[ -e $f ]] && printf '%s\0' "$f"
    done | tar -c --null -T - -f - | tar -x -C "$dir" -f -
    tar -c --exclude=./mutants --exclude=./test-logs -C build -f - . | tar -x -C "$dir/build" -f -
    if [[ ${#tests[@]} -eq 0 ]]; then
        echo "BROKEN   $name: no '# kills:' line names its tests"
        broken=$((broken + 1))
        continue
    fi
    if ! patch -d "$dir" -p1 --fuzz=3 --no-backup-if-mismatch -s <"$patch" >"$log" 2>&1; then
        echo "BROKEN   $name: the patch no longer applies (see $log)"
        broken=$((broken + 1))
        continue
    fi
    if ! make -C "$dir" -s -j"$JOBS" GIT_SHA="$sha" all test-build >>"$log" 2>&1; then
        echo "BROKEN   $name: the mutant does not build (see $log)"
        broken=$((broken + 1))
        continue
    fi
    caught=()
    missed=()
    for t in "${tests[@]}"; do
        # Only a test that ran and failed counts: a name that matches nothing is not a kill.
        out=$(cd "$dir" && TEST_BUILD_DIR=build tests/run.sh "$t" 2>&1)
        echo "$out" >>"$log"
        if grep -q '^FAIL ' <<<"$out"; then
            caught+=("$t")
        elif grep -q '^\(PASS\|SKIP\) ' <<<"$out"; then
            missed+=("$t")
        else
            missed+=("$t (no such test)")
        fi
    done
    if [[ ${#missed[@]} -eq 0 ]]; then
        echo "KILLED   $name by ${caught[*]}"
        killed=$((killed + 1))
        rm -rf "$dir"
    else
        echo "SURVIVED $name: ${missed[*]} passed over it${caught:+ (caught by ${caught[*]})} (see $log)"
        survived=$((survived + 1))
    fi
done
echo "mutants: $killed killed, $survived survived, $broken broken in $(($(date +%s) - start)) s"
[[ $((killed + survived + broken)) -gt 0 && $survived -eq 0 && $broken -eq 0 ]]
