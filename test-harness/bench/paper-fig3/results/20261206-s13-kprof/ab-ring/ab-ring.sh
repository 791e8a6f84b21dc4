#!/bin/bash
# A B A B: default ring (4096 slots) against ringSize 256, one jar, one sitting
OUT=/tmp/s13p/abring; mkdir -p $OUT
cd /work/wt/s13-prof/test-harness/bench/paper-fig3
n=0
for arm in A B A B; do
  n=$((n+1))
  if [ $arm = B ]; then lim="ringSize: 256"; else lim=""; fi
  echo "$(date -u +%T) run $n $arm '$lim' load $(cut -d' ' -f1-3 /proc/loadavg) MHz $(grep -m1 MHz /proc/cpuinfo | sed 's/.*: //')" | tee -a $OUT/ab.log
  RED_LIMITS="$lim" FAMILIES=4 STEPS="bw cost" SIZES=8192 ROUNDS=1 PROFILE=0 COST_C=ring COST_REDIRECT=0 COST_STACKS=1 \
    COST_KINDS="tcp-8192 tcp-1472" COST_DUR=4 JAR=/tmp/s13p/A.jar NS_PREFIX=s13q OUT=$OUT/run$n-$arm nice -n 5 ./paper-fig3 >$OUT/run$n-$arm.log 2>&1
  echo "$(date -u +%T) run $n $arm rc=$? load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $OUT/ab.log
done
