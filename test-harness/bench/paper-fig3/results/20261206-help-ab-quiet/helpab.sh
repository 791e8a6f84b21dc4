#!/bin/bash
RES=/tmp/s11/helpab; mkdir -p $RES; n=1
for arm in "$@"; do
  d=$RES/run$(printf %02d $n)-$arm
  echo "$(date -u +%T) run $n $arm load $(cut -d' ' -f1-3 /proc/loadavg) MHz $(grep -m1 MHz /proc/cpuinfo | sed 's/.*: //')" | tee -a $RES/ab.log
  cd /work/main && NS_PREFIX=h11q FAMILIES=4 STEPS="bw pps cost" SIZES=8192 ROUNDS=1 PROFILE=0 PPS_WARM=cold \
    COST_KINDS="pps-full tcp" COST_SIZE=8192 COST_DUR=4 PPS_DUR=5 JAR=/tmp/s11-live/$arm.jar OUT=$d \
    test-harness/bench/paper-fig3/paper-fig3 >$d.log 2>&1
  echo "$(date -u +%T) run $n $arm rc=$? load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a $RES/ab.log
  n=$((n + 1))
done
