#!/bin/bash
# A/B: bandwidth with the C1-only JIT thresholds (B) against none (A), STEPS=bw 1472 and 8192 B, alternated
B_OPTS="-XX:Tier3InvocationThreshold=20 -XX:Tier3MinInvocationThreshold=10 -XX:Tier3CompileThreshold=200 -XX:Tier3BackEdgeThreshold=6000"
for run in 1 2 3; do
  for v in A B; do
    opts=""; [ $v = B ] && opts="$B_OPTS"
    JAR=/tmp/s16/main-c614d9f.jar NS_PREFIX=s16i OUT=/tmp/s16/ab3/$run$v STEPS="bw" SIZES="1472 8192" ROUNDS=1 FAMILIES=4 PROFILE=0 JAVA_OPTS="$opts" \
      timeout 900 /tmp/s16/run/test-harness/bench/paper-fig3/paper-fig3 > /tmp/s16/ab3-$run$v.log 2>&1
    echo "$run$v rc=$? $(date -u +%T)" >> /tmp/s16/ab3.done
  done
done
