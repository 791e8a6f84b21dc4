#!/usr/bin/env bash
# Where a replica hit's time goes, hop by hop (tcpdump on each side of the redirector and the host
# server, curl alternating hits and a local nginx). Needs root, tcpdump, tshark, curl, nginx and
# the built jars (mvn -B -q package -DskipTests). Writes results/hops-<UTC time>/hops.md.
# Environment: PAIRS (200), OUT.
set -euo pipefail
HERE="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
PAIRS=${PAIRS:-200}
OUT=${OUT:-$HERE/results/hops-$(date -u +%Y%m%dT%H%M%SZ)}
for tool in tcpdump tshark curl; do
  command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)" >&2; exit 1; }
cd "$ROOT"
exec java -cp test-harness/target/benchmarks.jar net.hydranet.harness.bench.HitHops \
  lab/target/hydranet-lab.jar "$OUT" "$PAIRS"
