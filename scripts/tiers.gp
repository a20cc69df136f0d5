# hakmem's resident memory per tier over time, stacked areas.
# hak plot passes: data ("ms tiny tiny+mid tiny+mid+large all" rows, MiB, cumulative), title,
# out (path without extension).
set title title noenhanced
set xlabel "time since start (ms)"
set ylabel "resident (MiB)"
set yrange [0:*]
set grid
set key outside right top noenhanced
set style fill solid 0.6 border -1
tiers = "tiny mid large huge"
colours = "#0072B2 #009E73 #D55E00 #CC79A7"
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 960,540 noenhanced } else { set terminal svg size 960,540 dynamic noenhanced }
    set output out.".".fmt
    plot for [c=2:5] data using 1:(c == 2 ? 0 : column(c-1)):c with filledcurves lc rgb word(colours, c-1) title word(tiers, c-1)
    unset output
}
