#!/usr/bin/env bash
# Records client.pcap and server.pcap: real IPv6 traffic made by the Linux kernel, ping and curl in
# three namespaces (client — router — server), captured with tcpdump on both of the router's links.
# Only 2001:2::/48 (RFC 5180) and link-local addresses are used. The router's server-side link has
# MTU 1280, so a 1400-byte ping with DF semantics earns a Packet Too Big; a ping with hop limit 1
# earns a Time Exceeded; a ping to 2001:2:0:5::1 (no route) a Destination Unreachable; a UDP datagram
# to a closed port a Port Unreachable from the server; a 3000-byte ping is fragmented by the client;
# curl fetches a page from python's http.server over the router. ICMPv6 rate limiting is off in the
# router so every error is sent. MACs are fixed so the fixtures read the same on every run.
# Needs root, iproute2, tcpdump, iputils-ping, curl, python3. Usage: record-ipv6.sh OUTDIR
set -euo pipefail
out="$(readlink -f "${1:-.}")"
c=h8v6-c; r=h8v6-r; s=h8v6-s
cleanup() { for ns in $c $r $s; do ip netns del $ns 2>/dev/null || true; done; }
trap cleanup EXIT
cleanup
for ns in $c $r $s; do ip netns add $ns; ip -n $ns link set lo up; done
ip link add c0 netns $c address 02:00:00:00:01:10 type veth peer name r0 netns $r address 02:00:00:00:01:01
ip link add s0 netns $s address 02:00:00:00:02:10 type veth peer name r1 netns $r address 02:00:00:00:02:01
ip -n $r link set r1 mtu 1280; ip -n $s link set s0 mtu 1280
for l in "$c c0" "$r r0" "$r r1" "$s s0"; do
  set -- $l
  ip netns exec $1 ethtool -K $2 gro off gso off tso off tx off >/dev/null 2>&1 || true
done
ip netns exec $r sysctl -qw net.ipv6.conf.all.forwarding=1
ip netns exec $r sysctl -qw net.ipv6.icmp.ratelimit=0
ip -n $c addr add 2001:2:0:1::10/64 dev c0 nodad
ip -n $r addr add 2001:2:0:1::1/64 dev r0 nodad
ip -n $r addr add 2001:2:0:2::1/64 dev r1 nodad
ip -n $s addr add 2001:2:0:2::10/64 dev s0 nodad
work=$(mktemp -d)
trap 'cleanup; rm -rf "$work"' EXIT
# tcpdump opens only an interface that is up; the peers come up after it, so the capture starts
# with the client's and the server's own link-up traffic (MLD reports, router solicitations).
ip -n $r link set r0 up; ip -n $r link set r1 up
ip netns exec $r timeout 40 tcpdump -i r0 -U -w "$work/client.pcap" -s 9018 >/dev/null 2>&1 &
d1=$!
ip netns exec $r timeout 40 tcpdump -i r1 -U -w "$work/server.pcap" -s 9018 >/dev/null 2>&1 &
d2=$!
sleep 1
ip -n $c link set c0 up; ip -n $s link set s0 up
ip -n $c -6 route add default via 2001:2:0:1::1
ip -n $s -6 route add default via 2001:2:0:2::1
ip netns exec $s sh -c 'cd /tmp && exec python3 -m http.server 8000 --bind 2001:2:0:2::10' >/dev/null 2>&1 &
web=$!
sleep 3
ip netns exec $c ping -6 -c 1 -W 1 2001:2:0:1::1 >/dev/null || true
ip netns exec $c ping -6 -c 1 -W 1 -t 1 2001:2:0:2::10 >/dev/null || true
ip netns exec $c ping -6 -c 1 -W 1 -s 1400 -M do 2001:2:0:2::10 >/dev/null || true
ip netns exec $c ping -6 -c 1 -W 1 2001:2:0:5::1 >/dev/null || true
ip netns exec $c ping -6 -c 1 -W 1 -s 3000 2001:2:0:1::1 >/dev/null || true
ip netns exec $c bash -c 'echo hydranet > /dev/udp/2001:2:0:2::10/9999' || true
sleep 0.5
ip netns exec $c curl -6 -s -m 3 -o /dev/null 'http://[2001:2:0:2::10]:8000/' || true
sleep 1
kill $d1 $d2 2>/dev/null || true; wait $d1 $d2 2>/dev/null || true
kill $web 2>/dev/null || true
cp "$work/client.pcap" "$work/server.pcap" "$out/"
echo "wrote $out/client.pcap $out/server.pcap"
