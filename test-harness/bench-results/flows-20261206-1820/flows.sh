#!/usr/bin/env bash
out=/tmp/s11/flows-$(date +%H%M); mkdir -p $out
for side in P B P B; do
  case $side in P) dir=/tmp/s11/Pd;; B) dir=/tmp/s11/Fl;; esac
  echo "side $side $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)" | tee -a $out/log
  (cd $dir && taskset -c 0 java -cp $dir/benchmarks.jar net.hydranet.harness.bench.PipelineCpuTime redirect 9 0/off,1M/on,1K/on > $out/$side-$(date +%H%M%S).txt 2>&1)
done
echo done $(date +%T) | tee -a $out/log
