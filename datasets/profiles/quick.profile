# Seconds per allocator, for demos and CI: a short Larson run and one small battle cycle.
description = Smoke test: 1 s of Larson and one 8 MiB battle cycle, 2 threads

[larson]
runtime  = 1
min_size = 8
max_size = 1000
blocks   = 1000
rounds   = 20
seed     = 4141
threads  = 2

[battle]
threads     = 2
cycles      = 1
working_set = 8M
tiny_pct    = 50
mid_pct     = 30
large_pct   = 20
churn       = 2000
remote_pct  = 25
keep_pct    = 0
idle_ms     = 50
flush       = 1
touch       = 1
seed        = 4141
