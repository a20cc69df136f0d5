# Fragmentation: after each burst 10 % of the blocks, spread evenly, stay alive through idle and
# flush.  Every slab still holds a survivor or two, so an allocator can only return the pages it
# manages to empty: RSS after flush against the ~6 MiB still live shows how much it strands.
description = Burst 64 MiB mostly Tiny, keep 10 % alive spread out, idle 500 ms, flush; 3 cycles

[battle]
threads     = 4
cycles      = 3
working_set = 64M
tiny_pct    = 80
mid_pct     = 20
large_pct   = 0
churn       = 20000
remote_pct  = 25
keep_pct    = 10
idle_ms     = 500
flush       = 1
touch       = 1
seed        = 4141
