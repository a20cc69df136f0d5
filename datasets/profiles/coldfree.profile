# Frees of blocks the program has not touched for a long time: the malloc/free loop with 50,000
# blocks live (about 25 MB, beyond this machine's caches), each step freeing the block allocated
# 50,000 steps before, which left the caches long ago.  A program's teardown of a large structure
# whose blocks it does not read before freeing them looks like this.
description = Malloc/free loop, 50,000 blocks live (8-1000 B): every free is of a cold block

[mallocfree]
pairs    = 5000000
min_size = 8
max_size = 1000
window   = 50000
seed     = 4141
