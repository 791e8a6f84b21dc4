#!/usr/bin/env bash
# Reproduces the paper's Figure 5 (HydraWeb across a long WAN) in one run, in namespaces hnf5-*:
# ApacheBench fetches 1200-byte pages from the client with no replica (the origin's nginx across
# a 390 ms round-trip WAN built by hydranet wan), from a replica the origin's manager installed on
# the client's host server (hits), and through that replica to the manager (misses: a page the
# origin marks no-store). A local nginx on the host server is the reference for hits.
# Writes results/<UTC time>/{results.md,fig5.png,raw/}. Needs root and the built jars:
#   mvn -B -q package -DskipTests      (lab/target/hydranet-lab.jar, hydraweb/target/hydraweb.jar,
#                                       test-harness/target/benchmarks.jar)
# Environment: REQUESTS (per series, 2000), CONCURRENCY (ab -c, 10), ONE_WAY_MS (195),
#   PAIRS (curl pairs for the hit-vs-local target, 500), CPUS (the replica bundle's CPU ask, 1.0),
#   OUT.
set -euo pipefail
HERE="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
REQUESTS=${REQUESTS:-2000}
CONCURRENCY=${CONCURRENCY:-10}
ONE_WAY_MS=${ONE_WAY_MS:-195}
PAIRS=${PAIRS:-500}
CPUS=${CPUS:-1.0}
OUT=${OUT:-$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)}
for f in lab/target/hydranet-lab.jar hydraweb/target/hydraweb.jar test-harness/target/benchmarks.jar; do
  [ -f "$ROOT/$f" ] || { echo "needs $ROOT/$f: mvn -B -q package -DskipTests" >&2; exit 1; }
done
for tool in ab curl nginx; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
    { echo "needs $tool (apt-get install apache2-utils curl nginx)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
mkdir -p "$OUT"
cd "$ROOT"
exec java -Djava.awt.headless=true -cp test-harness/target/benchmarks.jar \
  net.hydranet.harness.bench.PaperFig5 lab/target/hydranet-lab.jar "$OUT" \
  "$REQUESTS" "$CONCURRENCY" "$ONE_WAY_MS" "$PAIRS" "$CPUS"
