#!/bin/bash
# pts.sh DIR: per run, per 8192 point: Mb/s and vmstat (in cs us sy id st) over the 3 s before the result line
cd $1
for l in run*.log; do r=${l%.log}; for p in "c-pcap-ring 8192" "hydranet-forward 8192" "hydranet-redirect 8192"; do line=$(grep "  $p:" $l) || continue; t=${line:0:8}; v=$(echo "$line" | awk '{printf "%.0f", $(NF-1)/1e6}'); s=$(date -d "$t" +%s); rows=""; for k in 4 3 2; do tt=$(date -u -d @$((s-k)) +%T); rows="$rows$(grep " $tt\$" $r.vmstat | awk '{print $12","$13"/"$14"/"$15"/st"$17}') "; done; printf "%-14s %-24s %5s  %s\n" $r "$p" $v "$rows"; done; done
