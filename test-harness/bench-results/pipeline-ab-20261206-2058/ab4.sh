#!/usr/bin/env bash
# Quiet A/B/P: A = hub 9c6eef4 (/tmp/s9-A), F = final main (/tmp/s11/F), P = main before s11-fwdctx (/tmp/s11/Pd)
set -u
ROUNDS=${1:-3}
OPTS="-wi 5 -w 1s -i 5 -r 1s -bm avgt -tu ns -prof gc -jvmArgsAppend -XX:-BackgroundCompilation"
out=/tmp/s12/ab-$(date +%H%M)
mkdir -p $out
for r in $(seq $ROUNDS); do
  for side in ${SIDES:-A F F A}; do
    case $side in A) dir=/tmp/s9-A; jar=/tmp/h1-A/benchmarks.jar;; F) dir=/tmp/s12/F; jar=/tmp/s12/F/benchmarks.jar;; P) dir=/tmp/s11/Pd; jar=/tmp/s11/Pd/benchmarks.jar;; esac
    k=$side-$r-$RANDOM
    echo "round $r side $side key $k $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)" | tee -a $out/log
    (cd $dir && taskset -c 0 java -jar $jar 'PipelineBenchmark.process' -p mode=forward,redirect -p size=64,1500 -p flows=1K -f 1 $OPTS -rf json -rff $out/$k.json > $out/$k.txt 2>&1)
    (cd $dir && taskset -c 0 java -jar $jar 'PipelineBenchmark.process' -p mode=redirectFragment -p size=1500 -p flows=1K -f 1 $OPTS -rf json -rff $out/$k-frag.json > $out/$k-frag.txt 2>&1)
  done
done
echo done $(date +%T) | tee -a $out/log
