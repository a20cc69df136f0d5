#!/usr/bin/env bash
# git init/add/commit/log/diff/gc/fsck on a temporary repository gives the
# same output, hashes included, with and without hakmem.
# shellcheck source=tests/compat/lib.sh
source "$(dirname "$0")/lib.sh"
need git
assert_preloaded

export HOME="$WORK" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME="Test Author" GIT_AUTHOR_EMAIL=author@example.invalid
export GIT_COMMITTER_NAME="Test Committer" GIT_COMMITTER_EMAIL=committer@example.invalid
export LC_ALL=C TZ=UTC

run_git() {
    local repo
    repo=$(mktemp -d "$WORK/repo.XXXXXX")
    cd "$repo" || exit
    git init -q -b main .
    for c in 1 2 3 4 5 6; do
        export GIT_AUTHOR_DATE="2024-01-0$c 12:00:00 +0000" GIT_COMMITTER_DATE="2024-01-0$c 12:00:00 +0000"
        for f in $(seq 1 12); do
            mkdir -p "dir$((f % 4))"
            seq "$((c * f))" "$((c * f * 40))" | sed "s/^/commit $c file $f: /" >"dir$((f % 4))/file$f.txt"
        done
        [[ $c -gt 3 ]] && git rm -q "dir1/file$c.txt" 2>/dev/null
        git add -A
        git commit -q -m "commit $c" -m "body of commit $c"
    done
    git log --stat --format='%H %an %ad %s'
    git diff --stat HEAD~3 HEAD
    git diff HEAD~1 HEAD | cksum
    git gc -q
    git fsck --strict 2>&1
    git count-objects -v | grep -v -e size -e prune
    git rev-parse 'HEAD^{tree}'
}
same_output git run_git
