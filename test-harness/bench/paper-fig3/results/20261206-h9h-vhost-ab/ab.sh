#!/bin/bash
# A/B: host server injecting through TUN vs onto the virtual host's link, alternated.
# usage: ab.sh ORDER...   (each "tun" or "link")
cd /work/wt/s9-hsvhost
JAR=/tmp/h9h/hydranet.jar
for mode in "$@"; do
  n=$(ls /tmp/h9h/runs 2>/dev/null | wc -l)
  out=/tmp/h9h/runs/$(printf %02d $n)-$mode
  mkdir -p /tmp/h9h/runs
  echo "=== $(date -u +%T) $mode -> $out; load $(cut -d' ' -f1-3 /proc/loadavg); MHz $(grep -m1 MHz /proc/cpuinfo | sed 's/.*: //')"
  NS_PREFIX=h9h STEPS=cost COST_C=${COST_C:-0} COST_KINDS="${KINDS:-tcp pps-full}" COST_DUR=${COST_DUR:-5} \
    JAVA_OPTS=-XX:+PreserveFramePointer HS_OPTS="--inject $mode" JAR=$JAR OUT=$out \
    nice -n 5 test-harness/bench/paper-fig3/paper-fig3 >$out.log 2>&1
  echo "rc $? end $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
done
