#!/usr/bin/env bash
# HydraWeb's replica beside nginx on hits (issue 11's target: >= 50 % of nginx's requests/s).
# Both serve the same generated files on 127.0.0.1 with one worker each; wrk drives each with
# keep-alive, the servers alternating order round by round. Writes results/<UTC time>/results.md
# (and raw/ with every wrk output). Installs nothing; needs:
#   nginx, wrk, curl, java 17 (apt-get install nginx wrk curl openjdk-17-jre-headless)
#   hydraweb/target/hydraweb.jar (mvn -B -q -pl hydraweb -am package -DskipTests)
#
# Environment: ROUNDS (3), DURATION (wrk -d, 20s), THREADS (wrk -t, 2), CONNECTIONS (wrk -c, 50),
#   WARMUP (s per server before the rounds, 10), WORKLOADS ("pages large"), PIN (1: servers on
#   CPU 1 and wrk on CPU 0 with taskset; default 0), JAVA_OPTS, OUT.
#
# Why one worker each: the machine has two cores and wrk -t2 needs about one of them; with two
# workers each server would share its cores with the load generator and we would measure the
# scheduler. nginx gets `worker_processes 1`, HydraWeb `--threads 1` (one event loop; the JVM's
# JIT and GC threads run beside it, mostly idle after the warm-up since a hit allocates little).
set -euo pipefail

HERE="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
JAR="$ROOT/hydraweb/target/hydraweb.jar"
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-20s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-50}
WARMUP=${WARMUP:-10}
WORKLOADS=${WORKLOADS:-"pages large"}
PIN=${PIN:-0}
JAVA_OPTS=${JAVA_OPTS:-"-Xms512m -Xmx512m -XX:+UseParallelGC"}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-$HERE/results/$STAMP}
RAW="$OUT/raw"
NGINX_PORT=${NGINX_PORT:-18181}
HW_PORT=${HW_PORT:-18182}

log() { printf '%s %s\n' "$(date -u +%T)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

for tool in nginx wrk curl java; do
  command -v "$tool" >/dev/null || die "needs $tool (apt-get install nginx wrk curl openjdk-17-jre-headless)"
done
[ -f "$JAR" ] || die "needs $JAR: mvn -B -q -pl hydraweb -am package -DskipTests"

WORK=$(mktemp -d /tmp/hydraweb-bench.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$RAW"

# ---- the site: 100 pages of 1200 bytes (the paper's page size) and a few larger files ----
SITE="$WORK/site"
mkdir -p "$SITE"
python3 - "$SITE" <<'PY'
import random, sys
site = sys.argv[1]
rng = random.Random(1998)
def text(n):
    words = ["hydranet", "replica", "redirector", "host", "server", "origin", "cache", "page"]
    s = ""
    while len(s) < n:
        s += rng.choice(words) + " "
    return s[:n]
for i in range(100):
    head = "<html><body><h1>page %03d</h1><p>" % i
    tail = "</p></body></html>\n"
    open("%s/page-%03d.html" % (site, i), "w").write(head + text(1200 - len(head) - len(tail)) + tail)
for name, size in (("large-16k.bin", 16 << 10), ("large-64k.bin", 64 << 10), ("large-1m.bin", 1 << 20)):
    open("%s/%s" % (site, name), "wb").write(bytes(rng.getrandbits(8) for _ in range(size)))
PY
chmod -R a+rX "$SITE"
cat > "$WORK/pages.lua" <<'LUA'
-- Round robin over the 100 pages, so neither server answers one hot object only.
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", string.format("/page-%03d.html", i % 100))
end
LUA
cat > "$WORK/large.lua" <<'LUA'
request = function()
  return wrk.format("GET", "/large-64k.bin")
end
LUA

# ---- nginx: one worker, no access log, files cached open (its counterpart of our cache) ----
mkdir -p "$WORK/nginx/logs"
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 100000000;
  open_file_cache max=1000 inactive=60s;
  open_file_cache_valid 3600s;
  client_body_temp_path $WORK/nginx/tmp;
  proxy_temp_path $WORK/nginx/tmp;
  fastcgi_temp_path $WORK/nginx/tmp;
  uwsgi_temp_path $WORK/nginx/tmp;
  scgi_temp_path $WORK/nginx/tmp;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $SITE;
  }
}
CONF
SRV_PIN=()
WRK_PIN=()
if [ "$PIN" = 1 ]; then SRV_PIN=(taskset -c 1); WRK_PIN=(taskset -c 0); fi

log "starting nginx on :$NGINX_PORT and HydraWeb on :$HW_PORT"
"${SRV_PIN[@]}" nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' \
  >"$RAW/nginx.log" 2>&1 &
PIDS+=($!)
NGINX_MASTER=$!
# shellcheck disable=SC2086
"${SRV_PIN[@]}" java $JAVA_OPTS -jar "$JAR" --threads 1 --listen "127.0.0.1:$HW_PORT" \
  --root "$SITE" >"$RAW/hydraweb.log" 2>&1 &
PIDS+=($!)
HW_PID=$!
for port in $NGINX_PORT $HW_PORT; do
  for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/page-000.html" && break
    sleep 0.1
  done
  curl -sf -o /dev/null "http://127.0.0.1:$port/page-000.html" || die "no answer on :$port"
done

# The same bytes from both, for every file.
for f in "$SITE"/*; do
  p=/$(basename "$f")
  a=$(curl -s "http://127.0.0.1:$NGINX_PORT$p" | md5sum)
  b=$(curl -s "http://127.0.0.1:$HW_PORT$p" | md5sum)
  [ "$a" = "$b" ] || die "nginx and HydraWeb differ on $p"
done
log "both serve the same 103 files"

cpu_ticks() { # cpu_ticks PID...: user + system clock ticks of the processes (all threads)
  local t=0 pid
  for pid in "$@"; do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$t"
}
server_pids() { # the processes that serve: nginx's workers (not the idle master), or the JVM
  if [ "$1" = nginx ]; then pgrep -P "$NGINX_MASTER" | tr '\n' ' '; else echo "$HW_PID"; fi
}

run_wrk() { # run_wrk NAME PORT WORKLOAD DURATION FILE
  local name=$1 port=$2 workload=$3 dur=$4 file=$5 pids before after
  pids=$(server_pids "$name")
  # shellcheck disable=SC2086
  before=$(cpu_ticks $pids)
  {
    echo "# $name $workload $(date -u +%T) load: $(cut -d' ' -f1-3 /proc/loadavg)"
    "${WRK_PIN[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$dur" --latency -s "$WORK/$workload.lua" \
      "http://127.0.0.1:$port"
    echo "# end load: $(cut -d' ' -f1-3 /proc/loadavg)"
  } >"$file" 2>&1
  # shellcheck disable=SC2086
  after=$(cpu_ticks $pids)
  echo "# server cpu ticks: $((after - before)) at $(getconf CLK_TCK)/s" >>"$file"
}

log "warm-up: ${WARMUP}s per server and workload (JIT for HydraWeb, caches for both)"
for workload in $WORKLOADS; do
  run_wrk nginx $NGINX_PORT "$workload" "${WARMUP}s" "$RAW/warmup-nginx-$workload.txt"
  run_wrk hydraweb $HW_PORT "$workload" "${WARMUP}s" "$RAW/warmup-hydraweb-$workload.txt"
done

for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then order="nginx hydraweb"; else order="hydraweb nginx"; fi
  for workload in $WORKLOADS; do
    for name in $order; do
      port=$NGINX_PORT
      [ "$name" = hydraweb ] && port=$HW_PORT
      log "round $r: $name, $workload, $DURATION"
      run_wrk "$name" "$port" "$workload" "$DURATION" "$RAW/round$r-$name-$workload.txt"
    done
  done
done

grep -h "Non-2xx\|Socket errors" "$RAW"/round*.txt && log "some requests failed: see raw/"

python3 - "$RAW" "$OUT/results.md" "$ROUNDS" "$WORKLOADS" <<'PY'
import re, statistics, sys, glob, os
raw, out, rounds, workloads = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].split()

def ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

def parse(path):
    t = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    pct = {p: ms(v, u) for p, v, u in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\b", t, re.M)}
    load = re.search(r"load: ([\d.]+)", t).group(1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    n = int(re.search(r"(\d+) requests in", t).group(1))
    ticks, hz = re.search(r"server cpu ticks: (\d+) at (\d+)", t).groups()
    cpu_us = int(ticks) / int(hz) * 1e6 / n
    return rps, pct, load, int(errors.group(1)) if errors else 0, cpu_us

lines = ["| workload | round | server | requests/s | p50 ms | p75 ms | p90 ms | p99 ms | server CPU µs/request | load (1 min) | non-2xx |",
         "|---|---|---|---|---|---|---|---|---|---|---|"]
summary = ["| workload | nginx requests/s (median) | HydraWeb requests/s (median) | HydraWeb / nginx per round | median ratio |",
           "|---|---|---|---|---|"]
for w in workloads:
    ratios, rn, rh = [], [], []
    for r in range(1, rounds + 1):
        res = {}
        for s in ("nginx", "hydraweb"):
            rps, pct, load, err, cpu = parse(os.path.join(raw, "round%d-%s-%s.txt" % (r, s, w)))
            res[s] = rps
            lines.append("| %s | %d | %s | %.0f | %.2f | %.2f | %.2f | %.2f | %.1f | %s | %d |" % (
                w, r, s, rps, pct["50"], pct["75"], pct["90"], pct["99"], cpu, load, err))
        ratios.append(res["hydraweb"] / res["nginx"])
        rn.append(res["nginx"]); rh.append(res["hydraweb"])
    summary.append("| %s | %.0f | %.0f | %s | **%.0f %%** |" % (
        w, statistics.median(rn), statistics.median(rh),
        ", ".join("%.0f %%" % (100 * x) for x in ratios), 100 * statistics.median(ratios)))
open(out, "w").write("\n".join(summary) + "\n\n" + "\n".join(lines) + "\n")
print("\n".join(summary) + "\n\n" + "\n".join(lines))
PY
{
  echo
  echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "nginx: $(nginx -v 2>&1 | cut -d/ -f2); wrk: $(wrk -v 2>&1 | head -1 | cut -d' ' -f2); java: $(java -version 2>&1 | head -1)"
  echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, keep-alive; rounds: $ROUNDS; PIN=$PIN; JAVA_OPTS=$JAVA_OPTS"
  echo "pages: round robin over 100 files of 1200 bytes; large: one 64 KiB file"
} >>"$OUT/results.md"
log "results: $OUT/results.md"
