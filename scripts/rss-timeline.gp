# Rss over time: every run of a benchmark, one colour per allocator, thinner lines for the largest
# processes of a run that started several, and above the curves one strip per allocator showing its
# own phases (load, idle, flush).
# hak plot passes: data (blocks of "ms MiB rgb": one per run, then one per process line), titles
# (one word per run block: the allocator at its first run, "-" for the others), n (run blocks),
# ptitles (one word per process block: "comm(pid)" or "others(N)"), np (process blocks), phases
# (block 0: "start_ms end_ms phase rgb strip", block 1 unused), strips (the allocators, one strip
# each, in order), ymax, title, out (path without extension).
if (!exists("np")) np = 0
if (!exists("ptitles")) ptitles = ""
set datafile missing "?"
set title title noenhanced
set xlabel "time since start (ms)"
set ylabel "Rss (MiB)"
nstrip = words(strips)
band = ymax * 0.09
set yrange [0:ymax + band * nstrip + ymax * 0.02]
tic = 10.0 ** floor(log10(ymax))  # a float: 1 / 2 would be 0 in integers
while (ymax / tic < 4) { tic = tic / 2 }
set ytics 0, tic, ymax
set grid
set key outside right bottom noenhanced
set style fill transparent solid 0.35 noborder
lo(r) = ymax * 1.02 + band * r
do for [r=0:nstrip-1] {
    set label r + 1 word(strips, r + 1) at graph 1.01, first lo(r) + band * 0.42 left front noenhanced
}
# The process lines, thinner and dashed, in the colour of their run's allocator; none without.
procs = np > 0 ? ", for [i=n:n+np-1] data index i using 1:2:3 with lines lw 1 dt int(2 + (i - n) % 4) lc rgb variable title word(ptitles, i-n+1)" : ""
do for [fmt in "png svg"] {
    if (fmt eq "png") { set terminal pngcairo size 960,540 noenhanced } else { set terminal svg size 960,540 dynamic noenhanced }
    set output out.".".fmt
    plot phases index 0 using (($1+$2)/2):(lo($5) + band*0.42):1:2:(lo($5)):(lo($5) + band*0.85):4 with boxxyerror lc rgb variable notitle, \
         phases index 0 using (($1+$2)/2):(lo($5) + band*0.42):3 with labels notitle, \
         for [i=0:n-1] data index i using 1:2:3 with lines lw 2 lc rgb variable title (word(titles, i+1) eq "-" ? "" : word(titles, i+1)) @procs
    unset output
}
