# Mixed sizes under load, no idle time: every burst allocates 64 MiB in Tiny, Mid and Large blocks
# (half, 30 %, 20 % of the bytes), churns, and frees a quarter of it from another thread.  A
# throughput profile: the flush is off and nothing waits.
description = Mixed Tiny/Mid/Large bursts back to back: 4 threads, 64 MiB, 5 cycles, no idle

[battle]
threads     = 4
cycles      = 5
working_set = 64M
tiny_pct    = 50
mid_pct     = 30
large_pct   = 20
churn       = 50000
remote_pct  = 25
keep_pct    = 0
idle_ms     = 0
flush       = 0
touch       = 1
seed        = 4141
