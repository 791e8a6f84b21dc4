#!/usr/bin/env bash
# abenv.sh OUT ARM...  ARM = name:VAR=value|VAR=value  (JAR, JAVA_OPTS, RED_LIMITS, HS_OPTS...)
# each run: paper-fig3 STEPS=bw SIZES="1472 8192" ROUNDS=1 FAMILIES=4 PROFILE=0, own NS prefix
set -uo pipefail
PF=${PF:-/tmp/s15/pf3/paper-fig3}
OUT=$1; shift; mkdir -p "$OUT"
n=1
for arm in "$@"; do
  name=${arm%%:*}; envs=${arm#*:}
  d=$OUT/run$(printf %02d $n)-$name
  echo "$(date -u +%T) run $n $name [$envs] load $(cut -d' ' -f1-3 /proc/loadavg) MHz $(grep -m1 MHz /proc/cpuinfo | sed 's/.*: //')" | tee -a "$OUT/ab.log"
  ( IFS='|'; for kv in $envs; do [ -n "$kv" ] && export "$kv"; done
    export STEPS=${STEPS:-bw} SIZES=${SIZES:-"1472 8192"} ROUNDS=${ROUNDS:-1} FAMILIES=${FAMILIES:-4} PROFILE=0
    vmstat -t 1 > $d.vmstat 2>&1 & vm=$!
    NS_PREFIX=z$(printf %03d $n) OUT=$d timeout 900 "$PF" >"$d.log" 2>&1; r=$?; kill $vm; exit $r ); rc=$?
  echo "$(date -u +%T) run $n $name rc=$rc load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/ab.log"
  [ -f $d/raw/bw.tsv ] && awk -v n=$name '{printf "  %s %s %s %.0f\n", n, $1, $2, $3/1e6}' $d/raw/bw.tsv | tee -a "$OUT/ab.log"
  n=$((n+1))
done
