# The release curve: Rss from each allocator's last load mark to the end of its run.
# hak plot passes: data (blocks of "ms_since_load_end MiB rgb", one per allocator, in the order of
# `names`), names, n, title, out (path without extension).
set datafile missing "?"
set title title noenhanced
set xlabel "time since the load ended (ms)"
set ylabel "Rss (MiB)"
set yrange [0:*]
set grid
set key outside right top noenhanced
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 960,540 noenhanced } else { set terminal svg size 960,540 dynamic noenhanced }
    set output out.".".fmt
    plot for [i=0:n-1] data index i using 1:2:3 with lines lw 2 lc rgb variable title word(names, i+1)
    unset output
}
