# hakmem's thread caches over time: the adaptive capacity of every thread's caches per tier, the
# free slabs kept for reuse and the pages given back inside slabs still in use (cumulative).
# hak plot passes: data ("ms tiny_cap mid_cap free purged" rows, MiB), title, out (path without
# extension).
set title title noenhanced
set xlabel "time since start (ms)"
set ylabel "MiB"
set yrange [0:*]
set grid
set key outside right top noenhanced
names = "tiny-cache-capacity mid-cache-capacity free-slabs-kept pages-purged-so-far"
colours = "#0072B2 #009E73 #D55E00 #CC79A7"
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 960,540 noenhanced } else { set terminal svg size 960,540 dynamic noenhanced }
    set output out.".".fmt
    plot for [c=2:5] data using 1:c with linespoints lw 2 pt 7 ps 0.6 lc rgb word(colours, c-1) title word(names, c-1)
    unset output
}
