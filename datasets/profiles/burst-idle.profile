# The question the toolkit exists for: does memory come back when the process goes quiet?  Each
# cycle allocates 64 MiB, frees it all, idles 1 s (time enough for any decay to act), then calls
# the allocator's own flush.  Compare RSS after free, after idle and after flush.
description = Burst 64 MiB, free all, idle 1 s, flush; 3 cycles, 4 threads

[battle]
threads     = 4
cycles      = 3
working_set = 64M
tiny_pct    = 50
mid_pct     = 30
large_pct   = 20
churn       = 20000
remote_pct  = 25
keep_pct    = 0
idle_ms     = 1000
flush       = 1
touch       = 1
seed        = 4141
