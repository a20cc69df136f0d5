# Large tier only (hakmem: above 32 KiB up to 1 MiB).  50 blocks per thread of ~540 KiB average
# keep about 27 MiB live per thread; every replacement is a span allocation.
description = Larson with Large blocks only: 32 KiB-1 MiB, 50 per thread, 2 threads, 5 s

[larson]
runtime  = 5
min_size = 32769
max_size = 1048576
blocks   = 50
rounds   = 200
seed     = 4141
threads  = 2
