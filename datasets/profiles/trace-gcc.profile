# Replays the allocations of gcc's compiler proper (cc1) compiling one file at -O0 (obstacks, GC
# pages, many short-lived nodes), recorded on this machine by scripts/make-traces.sh into
# datasets/traces/gcc.trace: how each allocator serves a real program's exact sequence of calls.
description = replay of a recorded trace: gcc's compiler proper (cc1) compiling one file at -O0 (obstacks, GC pages, many short-lived nodes)

[replay]
trace = 2    # gcc (bench/bench_params.c: replay_trace_names)
rounds = 100  # replayed 100 times, each from an empty heap: long enough to time
