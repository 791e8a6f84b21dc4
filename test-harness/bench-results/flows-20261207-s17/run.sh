#!/bin/bash
# Flow-count sweep of PipelineCpuTime redirect/64 with the temporary knobs of bench-knobs.diff
# (bench.flows: FlowFrames.FLOWS, the table's capacity and live flows; bench.spin: ns spun after pass one)
cd /work/main
J=/tmp/s17/exp.jar
{
echo "# $(date -u +%FT%T) $(grep -m1 MHz /proc/cpuinfo) load $(cut -d' ' -f1-3 /proc/loadavg)"
for f in 8192 16384 32768 65536 262144 1048576; do
  v=0/off,0/on,1M/off,1M/on; [ $f -lt 16384 ] && v=0/off,1M/off
  echo "## flows $f"; taskset -c 1 java -Dbench.flows=$f -cp $J net.hydranet.harness.bench.PipelineCpuTime redirect 7 $v 2>&1
done
echo "## flows 1048576, spin 2000 ns after pass one"; taskset -c 1 java -Dbench.spin=2000 -cp $J net.hydranet.harness.bench.PipelineCpuTime redirect 7 0/on,1M/on 2>&1
echo "# end $(date -u +%FT%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
} > /tmp/s17/sweep/sweep.txt
