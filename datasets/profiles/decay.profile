# Does small-object memory come back by itself?  Two workers each allocate a mixed burst of
# 64 MiB (80 % of the blocks 1 KiB or less, 17 % up to 32 KiB, 3 % up to 1 MiB), every byte
# written; half of each worker's blocks are freed by the other worker.  Once all is freed nothing
# is called for 500 ms while the workers stay alive, blocked (the quiet-thread case), then the
# main thread makes the allocator's release call.  Compare RSS idle and RSS flush with RSS base.
# Three variants: workers alive and quiet; workers exited; 16-byte blocks only.
description = Mixed 64 MiB burst per thread, half freed remotely; idle 500 ms with no call; flush

[decay]
threads      = 2
burst        = 64M
tiny_pct     = 80
mid_pct      = 17
remote_pct   = 50
idle_ms      = 500
exit_threads = 0
flush        = 1
seed         = 4141

[decay]
threads      = 2
burst        = 64M
tiny_pct     = 80
mid_pct      = 17
remote_pct   = 50
idle_ms      = 500
exit_threads = 1
flush        = 1
seed         = 4141

[decay]
threads      = 2
burst        = 64M
block_size   = 16
remote_pct   = 50
idle_ms      = 500
exit_threads = 0
flush        = 1
seed         = 4141
