#!/usr/bin/env bash
# Issue 19's per-packet A/B of PipelineBenchmark, with the machine's speed recorded beside every
# fork (BENCHMARKS.md, "Slow forks: the machine, not the JIT"). Alternates A B B A per round, one
# fork per benchmark, pinned to CPU 0, compiling in the foreground; time-stamps every JMH line;
# runs probe.c on CPU 0 (SCHED_IDLE) and CPU 1 throughout; with LOG=1 also each fork's
# -XX:+LogCompilation. Then: forks.py OUT.
# usage: ab.sh OUT ROUNDS A_JAR A_DIR B_JAR B_DIR   (a DIR holds the config/ its jar reads)
#        env LOG=1 for compile logs, NICE=5 (default) for the shared machine, NICE=0 when quiet,
#        SIDES="A B" (default "A B B A") for another order or a trial run
set -u
out=$1; ROUNDS=$2; AJ=$3; AD=$4; BJ=$5; BD=$6
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
gcc -O2 -o "$out/probe" "$here/probe.c"
chrt -i 0 taskset -c 0 "$out/probe" cpu0 86400 200 > "$out/probe0.log" & p0=$!
taskset -c 1 "$out/probe" cpu1 86400 200 > "$out/probe1.log" & p1=$!
taskset -c 1 python3 "$here/threadcpu.py" 0.1 > "$out/threadcpu.log" & p2=$!
trap 'kill $p0 $p1 $p2' EXIT
OPTS="-wi 5 -w 1s -i 5 -r 1s -bm avgt -tu ns -prof gc"
for r in $(seq "$ROUNDS"); do
  for side in ${SIDES:-A B B A}; do
    if [ $side = A ]; then jar=$AJ; dir=$AD; else jar=$BJ; dir=$BD; fi
    k=$side-$r-$RANDOM
    JV="-XX:-BackgroundCompilation"
    [ "${LOG:-0}" = 1 ] && JV="$JV -XX:+UnlockDiagnosticVMOptions -XX:+LogCompilation -XX:LogFile=$out/$k-%p.xml"
    echo "round $r side $side key $k $(date +%T) load $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out/log"
    for sel in "-p mode=forward,redirect -p size=64,1500" "-p mode=redirectFragment -p size=1500"; do
      suffix=; [[ $sel == *Fragment* ]] && suffix=-frag
      # shellcheck disable=SC2086
      (cd "$dir" && nice -n "${NICE:-5}" taskset -c 0 java -jar "$jar" 'PipelineBenchmark.process' \
        $sel -p flows=1K -f 1 $OPTS -jvmArgsAppend "$JV" -rf json -rff "$out/$k$suffix.json" 2>&1 |
        python3 "$here/tstamp.py" > "$out/$k$suffix.txt")
    done
  done
done
echo "done $(date +%T)" | tee -a "$out/log"
