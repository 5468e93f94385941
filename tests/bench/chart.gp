# SPDX-License-Identifier: Apache-2.0
#
# The chart of `make bench`: gnuplot -e "datafile='D'; outfile='O'" chart.gp
# D is chart.dat from tests/bench/bench_report.py: one line per path, its
# label, then median, min and max of each figure (columns 2-4 max req/s,
# 5-7 p99 at 25% load, 8-10 p99 at 50%, 11-13 new connections/s, 14-16 CPU
# per request, 17-19 memory per idle connection, 20-22 new mTLS
# connections/s, 23-25 bulk MB/s); "?" marks a figure that failed or does
# not apply.  Bars are medians, whiskers the min..max spread.
if (!exists("datafile")) datafile = 'build/bench/chart.dat'
if (!exists("outfile")) outfile = 'build/bench/chart.png'

set terminal pngcairo size 1500,900 font "sans,10"
set output outfile
set datafile missing "?"
set style fill solid 0.6 border -1
set grid ytics
set xtics scale 0
set key off
set offsets 0.5, 0.5, 0, 0

set multiplot layout 2,3 title "meshforge benchmarks: median, whiskers min..max"

set boxwidth 0.6
set yrange [0:*]
set title "max requests/s (keep-alive, 1 KiB)"
plot datafile using 0:2:xtic(1) with boxes lc rgb "#4477aa", \
     '' using 0:2:3:4 with yerrorbars lc rgb "black" pt 0

# Saturated runs reach seconds: a log scale keeps the others readable.
set title "p99 latency, ms, at 25% | 50% of the direct maximum (log scale)"
set logscale y
set yrange [0.1:*]
set boxwidth 0.35
set key top left
plot datafile using ($0-0.18):5:xtic(1) with boxes lc rgb "#66ccee" title "25%", \
     '' using ($0-0.18):5:6:7 with yerrorbars lc rgb "black" pt 0 notitle, \
     '' using ($0+0.18):8 with boxes lc rgb "#ee6677" title "50%", \
     '' using ($0+0.18):8:9:10 with yerrorbars lc rgb "black" pt 0 notitle
unset logscale y
set yrange [0:*]

set title "new connections/s, 1 request each: any | with an mTLS handshake"
set key top right
plot datafile using ($0-0.18):11:xtic(1) with boxes lc rgb "#228833" title "any", \
     '' using ($0-0.18):11:12:13 with yerrorbars lc rgb "black" pt 0 notitle, \
     '' using ($0+0.18):20 with boxes lc rgb "#ccbb44" title "mTLS handshake", \
     '' using ($0+0.18):20:21:22 with yerrorbars lc rgb "black" pt 0 notitle
set key off
set boxwidth 0.6

set title "proxy CPU per request, µs (both nodes)"
plot datafile using 0:14:xtic(1) with boxes lc rgb "#ccbb44", \
     '' using 0:14:15:16 with yerrorbars lc rgb "black" pt 0

set title "memory per idle connection, KiB (both nodes)"
plot datafile using 0:17:xtic(1) with boxes lc rgb "#aa3377", \
     '' using 0:17:18:19 with yerrorbars lc rgb "black" pt 0

set title "100 MiB download, MB/s"
plot datafile using 0:23:xtic(1) with boxes lc rgb "#66ccee", \
     '' using 0:23:24:25 with yerrorbars lc rgb "black" pt 0

unset multiplot
