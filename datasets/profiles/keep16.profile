# Every 16th block kept: one 128 MiB mixed burst (Tiny and Mid, every byte written), all blocks
# but every 16th freed, 500 ms with no call, then the allocator's release call.  Almost every
# slab keeps a live block, so what comes back is the free pages inside partly used slabs:
# compare RSS idle (no call) and RSS flush with the ~8 MiB still live.
description = 128 MiB mixed burst, every 16th block kept; idle 500 ms; flush; 1 cycle

[battle]
threads     = 1
cycles      = 1
working_set = 128M
tiny_pct    = 70
mid_pct     = 30
large_pct   = 0
churn       = 0
remote_pct  = 0
keep_pct    = 6
idle_ms     = 500
flush       = 1
touch       = 1
seed        = 4141
