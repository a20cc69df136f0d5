# Overhead (Rss - LazyFree - live bytes) per phase, grouped by allocator.
# hak plot passes: data (header: allocator and the four phases in words, quoted, then one row per
# allocator, MiB, "?" where the benchmark has no such phase), lastcol (the last column with data),
# title, out (path without extension).
set datafile missing "?"
set title title noenhanced
set ylabel "overhead: Rss - LazyFree - live bytes (MiB)"
set xlabel "allocator"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.7 border -1
set grid ytics
set key outside right top noenhanced
set xtics noenhanced
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 900,480 noenhanced } else { set terminal svg size 900,480 dynamic noenhanced }
    set output out.".".fmt
    plot for [c=2:lastcol] data using c:xtic(1) title columnheader(c)
    unset output
}
