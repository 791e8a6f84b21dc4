#!/usr/bin/env bash
# Records dual-stack.pcap: real IPv4 and IPv6 traffic of a client, captured with tcpdump on its
# Ethernet veth, in the place and with the MACs and addresses of config/replay-sample.yaml's
# client link, so that `hydranet replay --config config/replay-sample.yaml` routes and redirects
# it. Three namespaces: the client (198.18.1.10, 2001:2:0:1::10), a Linux router in the
# redirector's place (its client0 and core0 MACs and addresses) and the origin (198.18.2.10,
# 2001:2:0:2::10) serving HTTP on port 80 with python's http.server on both families. Traffic:
# neighbour discovery and ARP as the kernel does them, ping -6 to the router and to the origin,
# ping -6 -s 3000 (IPv6 fragments, both ways), ping -6 with hop limit 1 (the router's time
# exceeded), UDP over IPv6 answered by port unreachable, curl -6 and curl -4 to the origin's
# port 80 (the sample's redirected services), ping -4.
# Every address is in 198.18.0.0/15, 2001:2::/48 or IPv6 link-local. Needs root, iproute2,
# tcpdump, curl, python3 and iputils-ping. Usage: record-dual-stack.sh OUT.pcap
set -euo pipefail
out="$(readlink -f "${1:-dual-stack.pcap}")"
c=h9d-rec-c; r=h9d-rec-r; o=h9d-rec-o
cleanup() { for ns in $c $r $o; do ip netns del $ns 2>/dev/null || true; done; }
trap cleanup EXIT
cleanup
for ns in $c $r $o; do
  ip netns add $ns
  ip -n $ns link set lo up
done
ip link add eth0 netns $c address 02:00:00:00:01:0a type veth peer name client0 netns $r address 02:00:00:00:01:01
ip link add core0 netns $r address 02:00:00:00:02:01 type veth peer name eth0 netns $o address 02:00:00:00:02:0a
for pair in "$c eth0" "$r client0" "$r core0" "$o eth0"; do
  set -- $pair
  ip netns exec $1 sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ip netns exec $1 ethtool -K $2 gro off gso off tso off tx off >/dev/null 2>&1 || true
  ip -n $1 link set $2 up
done
ip netns exec $r sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip -n $c addr add 198.18.1.10/24 dev eth0
ip -n $c addr add 2001:2:0:1::10/64 dev eth0 nodad
ip -n $r addr add 198.18.1.1/24 dev client0
ip -n $r addr add 2001:2:0:1::1/64 dev client0 nodad
ip -n $r addr add 198.18.2.1/24 dev core0
ip -n $r addr add 2001:2:0:2::1/64 dev core0 nodad
ip -n $o addr add 198.18.2.10/24 dev eth0
ip -n $o addr add 2001:2:0:2::10/64 dev eth0 nodad
ip -n $c route add default via 198.18.1.1
ip -n $c -6 route add default via 2001:2:0:1::1
ip -n $o route add default via 198.18.2.1
ip -n $o -6 route add default via 2001:2:0:2::1
work=$(mktemp -d)
trap 'cleanup; rm -rf "$work"' EXIT
mkdir "$work/www"
echo "hydranet dual-stack capture" > "$work/www/index.html"
ip netns exec $o sh -c "cd '$work/www' && exec python3 -m http.server 80 --bind ::" >/dev/null 2>&1 &
web=$!
sleep 1
ip netns exec $c timeout 30 tcpdump -i eth0 -U -w "$work/dual.pcap" -s 9018 >/dev/null 2>&1 &
dump=$!
sleep 1
ip netns exec $c ping -6 -c 1 -W 1 2001:2:0:1::1 >/dev/null
ip netns exec $c ping -6 -c 1 -W 1 2001:2:0:2::10 >/dev/null
ip netns exec $c ping -6 -c 1 -W 1 -s 3000 2001:2:0:2::10 >/dev/null
ip netns exec $c ping -6 -c 1 -W 1 -t 1 2001:2:0:2::10 >/dev/null || true
ip netns exec $c bash -c 'echo hydranet > /dev/udp/2001:2:0:2::10/9999' || true
ip netns exec $c curl -6 -s -m 3 -o /dev/null "http://[2001:2:0:2::10]/"
ip netns exec $c curl -4 -s -m 3 -o /dev/null "http://198.18.2.10/"
ip netns exec $c ping -4 -c 1 -W 1 198.18.2.10 >/dev/null
sleep 1
kill $dump 2>/dev/null || true; wait $dump 2>/dev/null || true
kill $web 2>/dev/null || true
cp "$work/dual.pcap" "$out"
echo "wrote $out"
