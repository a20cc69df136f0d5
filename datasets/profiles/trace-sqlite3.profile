# Replays the allocations of sqlite3 building two indexes over 10000 rows (page cache, sorter
# buffers), recorded on this machine by scripts/make-traces.sh into datasets/traces/sqlite3.trace:
# how each allocator serves a real program's exact sequence of calls.
description = replay of a recorded trace: sqlite3 building two indexes over 10000 rows (page cache, sorter buffers)

[replay]
trace = 1    # sqlite3 (bench/bench_params.c: replay_trace_names)
rounds = 100  # replayed 100 times, each from an empty heap: long enough to time
