# Replays the allocations of sort -n over 60000 numbers (a few big buffers), recorded on this
# machine by scripts/make-traces.sh into datasets/traces/sort.trace: how each allocator serves a
# real program's exact sequence of calls.
description = replay of a recorded trace: sort -n over 60000 numbers (a few big buffers)

[replay]
trace = 3    # sort (bench/bench_params.c: replay_trace_names)
rounds = 200  # replayed 200 times, each from an empty heap: long enough to time
