# RSS over time, one line per allocator, the phases of a reference run shaded.
# hak plot passes: data (blocks of "ms MiB", one per allocator, in the order of `names`),
# phases ("start_ms end_ms name colour" rows), names, n, ymax, title, out (path without extension).
set datafile missing "?"
set title title noenhanced
set xlabel "time since start (ms)"
set ylabel "Rss (MiB)"
set yrange [0:ymax]
set grid
set key outside right top noenhanced
set style fill transparent solid 0.15 noborder
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 960,540 noenhanced } else { set terminal svg size 960,540 dynamic noenhanced }
    set output out.".".fmt
    plot phases using (($1+$2)/2):(ymax/2):1:2:(0):(ymax):4 with boxxyerror lc variable notitle, \
         phases using (($1+$2)/2):(ymax*0.97):3 with labels notitle, \
         for [i=0:n-1] data index i using 1:2 with lines lw 2 title word(names, i+1)
    unset output
}
