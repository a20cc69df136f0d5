# A single-threaded small-object program: binary trees of named nodes built and torn down, and
# bignum arithmetic whose temporaries live for one operation.
description = Small objects: 40 trees of depth 16 with names, 200 k bignum operations, 1 thread

[smallobj]
trees   = 40
depth   = 16
numbers = 200000
seed    = 4141
