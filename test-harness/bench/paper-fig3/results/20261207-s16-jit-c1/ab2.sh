#!/bin/bash
# A/B: C1-only JIT thresholds for the daemons (B) against none (A), STEPS=conn, alternated A B A B A B
B_OPTS="-XX:Tier3InvocationThreshold=20 -XX:Tier3MinInvocationThreshold=10 -XX:Tier3CompileThreshold=200 -XX:Tier3BackEdgeThreshold=6000"
for run in 1 2 3; do   # then 4 5 6 7
  for v in A B; do
    opts=""; [ $v = B ] && opts="$B_OPTS"
    JAR=/tmp/s16/main-c614d9f.jar NS_PREFIX=s16h OUT=/tmp/s16/ab2/$run$v STEPS="conn" FAMILIES=4 PROFILE=0 JAVA_OPTS="$opts" \
      timeout 900 /tmp/s16/run/test-harness/bench/paper-fig3/paper-fig3 > /tmp/s16/ab2-$run$v.log 2>&1
    echo "$run$v rc=$? $(date -u +%T)" >> /tmp/s16/ab2.done
  done
done
