#!/bin/sh
# The IPv6 host-server A/B of session 10: paper-fig3's cost step for the IPv6 virtual host only,
# the host server with --inject link (the default) or --inject tun, alternated.
cd /work/wt/s10-v6link
for i in "$@"; do
  case $i in *tun) H="--inject tun" ;; *) H="" ;; esac
  echo "$(date -u +%T) $i start, load $(cut -d' ' -f1-3 /proc/loadavg)"
  STEPS=cost COST_C=0 FAMILIES=6 COST_KINDS="pps-full tcp" NS_PREFIX=h10l JAVA_OPTS=-XX:+PreserveFramePointer \
    HS_OPTS="$H" OUT=/tmp/h10l-ab/$i nice -n 5 test-harness/bench/paper-fig3/paper-fig3 >/tmp/h10l-ab/$i.log 2>&1
  echo "$(date -u +%T) $i rc=$?"
done
