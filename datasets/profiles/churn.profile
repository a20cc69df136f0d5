# Thread churn: 40 waves of 8 threads, each allocating 4,000 blocks (90 % 16 B - 4 KiB, 10 % 4 - 32
# KiB, every byte written), freeing 80 % and leaving 20 % to the same lane's thread of the next
# wave, which frees them after their owner exited.  About 120 MiB is allocated per wave and 25 MiB
# handed on: peak RSS shows what an allocator strands when threads come and go.
description = 40 waves of 8 threads, 4000 mixed blocks each, 20 % freed by the next wave

[churn]
threads   = 8
waves     = 40
blocks    = 4000
small_pct = 90
keep_pct  = 20
seed      = 4141
