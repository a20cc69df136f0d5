# Throughput per allocator: median as a bar, min-max as a whisker.
# hak plot passes: data ("index name median min max" rows, ops/s), title, out (path without extension).
set title title noenhanced
set ylabel "throughput (ops/s)"
set xlabel "allocator"
set yrange [0:*]
set grid ytics
set boxwidth 0.6
set style fill solid 0.5
set format y "%.2s%c"
set xtics noenhanced
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 800,480 noenhanced } else { set terminal svg size 800,480 dynamic noenhanced }
    set output out.".".fmt
    plot data using 1:3:xtic(2) with boxes title "median", \
         data using 1:3:4:5 with yerrorbars lc rgb "black" pt 0 title "min - max"
    unset output
}
