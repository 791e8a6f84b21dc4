#!/bin/bash
for run in 1 2 3; do
  JAR=/tmp/s17/main.jar NS_PREFIX=s17c OUT=/tmp/s17/c1/$run STEPS="conn" FAMILIES=4 PROFILE=0 CONN_WARM=cold \
    timeout 900 /tmp/s17/run/test-harness/bench/paper-fig3/paper-fig3 > /tmp/s17/c1-$run.log 2>&1
  echo "$run rc=$? $(date -u +%T)" >> /tmp/s17/c1.done
done
