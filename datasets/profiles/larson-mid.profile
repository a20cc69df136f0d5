# Mid tier only (hakmem: above 1 KiB up to 32 KiB).  1000 blocks per thread of ~16 KiB average
# keep about 16 MiB live per thread.
description = Larson with Mid blocks only: 1-32 KiB, 1000 per thread, 2 threads, 5 s

[larson]
runtime  = 5
min_size = 1025
max_size = 32768
blocks   = 1000
rounds   = 100
seed     = 4141
threads  = 2
