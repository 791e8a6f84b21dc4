#!/usr/bin/env bash
# Live A/B: 1 pipeline (default) against limits.pipelines 2, same jar, alternated.
cd /work/main/test-harness/bench/paper-fig3
for run in ${RUNS:-1:one 2:two}; do
  n=${run%%:*}; name=${run#*:}
  lim=""; [ "$name" = two ] && lim="pipelines: 2"
  echo "run $n $name start $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)" >> /tmp/s12/pipes.log
  NS_PREFIX=p12$n FAMILIES=4 STEPS="bw pps cost" SIZES=8192 ROUNDS=1 PPS_WARM=cold COST_KINDS="pps-full tcp" COST_SIZE=8192 \
    RED_LIMITS="$lim" JAR=/tmp/s12/main.jar OUT=/tmp/s12/pipes-$n-$name ./paper-fig3 > /tmp/s12/pipes-$n.out 2>&1
  echo "run $n $name end $(date +%T) rc $? load $(cut -d' ' -f1 /proc/loadavg)" >> /tmp/s12/pipes.log
done
