# Producer/consumer: one thread allocates 64-byte blocks, another frees them, through a bounded
# lock-free queue of 1024 slots.  Every free is a remote free.
description = Producer/consumer: 1 M blocks of 64 B allocated by one thread, freed by another

[prodcons]
blocks     = 1000000
block_size = 64
queue      = 1024
pairs      = 1
