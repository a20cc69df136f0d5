# Throughput against peak Rss: one point per allocator at the medians, min-max bars both ways.
# hak plot passes: data ("peak_MiB min max ops/s min max rgb" rows, one per allocator, in the
# order of `names`), names, n, title, out (path without extension).
set title title noenhanced
set xlabel "peak Rss (MiB)"
set ylabel "throughput (ops/s)"
set xrange [0:*]
set yrange [0:*]
set format y "%.2s%c"
set grid
set key outside right top noenhanced
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 800,500 noenhanced } else { set terminal svg size 800,500 dynamic noenhanced }
    set output out.".".fmt
    plot for [i=0:n-1] data every ::i::i using 1:4:2:3:5:6:7 with xyerrorbars pt 7 ps 1.5 lw 2 lc rgb variable title word(names, i+1)
    unset output
}
