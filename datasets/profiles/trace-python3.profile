# Replays the allocations of python3 running a short script (json, collections: many small objects),
# recorded on this machine by scripts/make-traces.sh into datasets/traces/python3.trace (with
# PYTHONMALLOC=malloc, so every object goes through malloc; 6.5 MB, not in the repository: run the
# script once first): how each allocator serves a real program's exact sequence of calls.
description = replay of a recorded trace: python3 running a short script (json, collections: many small objects)

[replay]
trace = 0    # python3 (bench/bench_params.c: replay_trace_names)
rounds = 50  # replayed 50 times, each from an empty heap: long enough to time
