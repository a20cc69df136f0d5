# Tiny tier only: the smallest objects, where per-block headers and size-class rounding weigh
# most.  Twice the blocks of the server profile keep the live set comparable in count.
description = Larson with Tiny blocks only: 8-128 B, 10000 per thread, 2 threads, 5 s

[larson]
runtime  = 5
min_size = 8
max_size = 128
blocks   = 10000
rounds   = 50
seed     = 4141
threads  = 2
