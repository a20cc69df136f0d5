# Every throughput workload in one run, for the speed comparison: each section is the named profile
# it comes from (same parameters), and hak bench ends with the geometric mean of hakmem's
# throughput over the best peer's across the tables, and the table where it stands lowest.
# About 15 minutes for five allocators at --repeat 3 on two cores.
description = All throughput workloads (Larson, producer/consumer, small objects, realloc growth, mixed, churn, big buffers, malloc/free loop hot and cold, four traces): geometric mean against the best peer

# larson-server
[larson]
runtime  = 5
min_size = 8
max_size = 1000
blocks   = 5000
rounds   = 100
seed     = 4141
threads  = 2

# prodcons
[prodcons]
blocks     = 1000000
block_size = 64
queue      = 1024
pairs      = 1

# smallobj
[smallobj]
trees   = 40
depth   = 16
numbers = 200000
seed    = 4141

# realloc-grow
[reallocgrow]
buffers  = 20000
step     = 16
max_size = 16K
live     = 8
seed     = 4141

# mixed
[battle]
threads     = 4
cycles      = 5
working_set = 64M
tiny_pct    = 50
mid_pct     = 30
large_pct   = 20
churn       = 50000
remote_pct  = 25
keep_pct    = 0
idle_ms     = 0
flush       = 0
touch       = 1
seed        = 4141

# churn
[churn]
threads   = 8
waves     = 40
blocks    = 4000
small_pct = 90
keep_pct  = 20
seed      = 4141

# bigbuf
[bigbuf]
buffers  = 12
min_size = 2M
max_size = 16M
rounds   = 100
idle_ms  = 1000
flush    = 1
seed     = 4141

# icount (timed here)
[mallocfree]
pairs    = 2000000
min_size = 8
max_size = 1000
window   = 64
seed     = 4141

# coldfree
[mallocfree]
pairs    = 5000000
min_size = 8
max_size = 1000
window   = 50000
seed     = 4141

# trace-python3, trace-sqlite3, trace-gcc, trace-sort
[replay]
trace  = 0
rounds = 50

[replay]
trace  = 1
rounds = 100

[replay]
trace  = 2
rounds = 100

[replay]
trace  = 3
rounds = 200
