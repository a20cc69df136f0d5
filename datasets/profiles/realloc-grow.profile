# Realloc growth: 20 k buffers grown 16 B at a time up to 16 KiB (string builders, vectors),
# 8 growing at once.
description = Realloc growth: 20 k buffers grown by 16 B steps up to 16 KiB, 8 at once

[reallocgrow]
buffers  = 20000
step     = 16
max_size = 16K
live     = 8
seed     = 4141
