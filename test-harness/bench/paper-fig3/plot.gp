# gnuplot -e "datafile='bandwidth.dat'; outfile='bandwidth.png'; ncols=6" plot.gp
# (optionally plottitle='...': paper-fig3 draws bandwidth6.dat, the IPv6 columns, with its own title)
if (!exists("plottitle")) plottitle = "Sustained TCP bandwidth (iperf3 -N), one run side by side"
set terminal pngcairo size 900,560 font ",10"
set output outfile
set title plottitle
set xlabel "message size (bytes)"
set ylabel "Mb/s"
set logscale x 2
set xrange [52:10000]
set xtics ("64" 64, "128" 128, "256" 256, "512" 512, "1024" 1024, "1472" 1472, "2048" 2048, "4096" 4096, "8192" 8192)
set key top left
set grid
set datafile missing "?"
plot for [i=2:ncols] datafile using 1:i with linespoints lw 2 pt (i+4) title columnhead(i)
