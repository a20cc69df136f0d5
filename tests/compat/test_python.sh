#!/usr/bin/env bash
# python3 runs the same dict/list/str-heavy script with and without hakmem,
# both on pymalloc and with every allocation sent to malloc (PYTHONMALLOC=malloc).
# shellcheck source=tests/compat/lib.sh
source "$(dirname "$0")/lib.sh"
need python3
assert_preloaded

# hakmem's own API is reachable from the preloaded process: it is the allocator.
tier=$(LD_PRELOAD="$LIB" python3 -c '
import ctypes
f = ctypes.CDLL(None).hak_tier_of_size
f.restype = ctypes.c_char_p
f.argtypes = [ctypes.c_size_t]
print(f(100).decode(), f(5000).decode())')
[[ "$tier" == "tiny mid" ]] || fail "hak_tier_of_size via ctypes said '$tier'"

export PYTHONHASHSEED=0
same_output python-pymalloc python3 tests/compat/python_workload.py
same_output python-malloc env PYTHONMALLOC=malloc python3 tests/compat/python_workload.py
