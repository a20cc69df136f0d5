# The instruction-count profile: the fast-path loop, a fixed 2 M malloc/free pairs of 8-1000 B.
# Run it with `hak bench icount --icount` to get instructions per pair (callgrind or perf),
# figures that do not depend on the machine's timing noise.
description = Fast-path loop: 2 M malloc/free pairs of 8-1000 B, 64 live (use --icount)

[mallocfree]
pairs    = 2000000
min_size = 8
max_size = 1000
window   = 64
seed     = 4141
