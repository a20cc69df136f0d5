# The big-buffer loop: a ring of 12 buffers of 2-16 MiB, each replaced 100 times with every page
# written, then everything is freed and the process idles 1 s with no release call, then flushes.
# Shows both halves of "keep while busy, give back when quiet": the loop's speed (a fresh mapping
# per buffer faults every page in again) and RSS idle against RSS base (memory kept after the
# last free).
description = Ring of 12 buffers of 2-16 MiB, 100 rounds, every page written; free all, idle 1 s, flush

[bigbuf]
buffers  = 12
min_size = 2M
max_size = 16M
rounds   = 100
idle_ms  = 1000
flush    = 1
seed     = 4141
