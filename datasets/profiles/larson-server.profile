# The classic Larson server workload, as published benchmark suites run it:
#   larson 5 8 1000 5000 100 4141 THREADS
# 5 s, blocks of 8-1000 B, 5000 blocks per thread, successors every 100 rounds.
# Two threads by default; `hak bench larson-server --threads N` scales it.
description = Classic Larson server: 8-1000 B blocks, 5000 per thread, 2 threads, 5 s

[larson]
runtime  = 5
min_size = 8
max_size = 1000
blocks   = 5000
rounds   = 100
seed     = 4141
threads  = 2
