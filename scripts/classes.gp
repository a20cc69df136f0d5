# hakmem's thread caches per size class over time: the capacity of the classes that grew most,
# summed over the threads.  hak plot passes: data ("ms kib_1 ... kib_n" rows, one column per class
# in the order of `names`), names ("CLASS:SIZEB" words), n, title, out (path without extension).
set title title noenhanced
set xlabel "time since start (ms)"
set ylabel "cache capacity (KiB)"
set yrange [0:*]
set grid
set key outside right top noenhanced
colours = "#0072B2 #009E73 #D55E00 #CC79A7 #56B4E9 #E69F00 #000000 #9400D3"
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 960,540 noenhanced } else { set terminal svg size 960,540 dynamic noenhanced }
    set output out.".".fmt
    plot for [i=1:n] data using 1:(column(i+1)) with linespoints lw 2 pt 7 ps 0.6 lc rgb word(colours, i) title word(names, i)
    unset output
}
