#!/bin/bash
# A/B: the host server's --inline-burst, 32 (A, default) against 4096 (B), alternated A B A B
for run in 1 2; do
  for v in A B; do
    opts=""; [ $v = B ] && opts="--inline-burst 4096"
    JAR=/tmp/s16/main-c614d9f.jar NS_PREFIX=s16f OUT=/tmp/s16/ab1/$run$v STEPS="bw" CROSS=1 SIZES="8192" ROUNDS=3 FAMILIES=4 PROFILE=0 HS_OPTS="$opts" \
      timeout 1200 /tmp/s16/run/test-harness/bench/paper-fig3/paper-fig3 > /tmp/s16/ab1-$run$v.log 2>&1
    echo "$run$v rc=$? $(date -u +%T)" >> /tmp/s16/ab1.done
  done
done
