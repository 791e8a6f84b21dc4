#!/usr/bin/env bash
# Records mixed.pcap: real traffic between two namespaces, captured with tcpdump on an Ethernet
# veth: ARP, ICMP echo, UDP, TCP (a SYN answered by RST, and a full curl exchange), IPv6
# neighbour discovery, MLD and ICMPv6 echo on link-local addresses. This kernel has no 802.1Q
# (no vlan links, no bridge VLAN filtering), so the tagged frames are made the only way left:
# the IPv4 frames of the first capture are tagged with VID 7 by tcprewrite, put on the wire with
# tcpreplay, and captured by tcpdump like the rest; mergecap joins the two captures.
# Every address is in 198.18.0.0/15 or IPv6 link-local. Needs root, iproute2, tcpdump, curl,
# python3, tcpreplay (tcprewrite) and mergecap (wireshark-common). Usage: record-mixed.sh OUT.pcap
set -euo pipefail
out="$(readlink -f "${1:-mixed.pcap}")"
a=hnrec-a; b=hnrec-b
cleanup() { ip netns del $a 2>/dev/null || true; ip netns del $b 2>/dev/null || true; }
trap cleanup EXIT
cleanup
ip netns add $a; ip netns add $b
ip link add eth0 netns $a type veth peer name eth0 netns $b
for ns in $a $b; do
  ip -n $ns link set lo up; ip -n $ns link set eth0 up
  ip netns exec $ns ethtool -K eth0 gro off gso off tso off tx off >/dev/null 2>&1 || true
done
ip -n $a addr add 198.18.20.1/24 dev eth0; ip -n $b addr add 198.18.20.2/24 dev eth0
ip netns exec $b sh -c 'cd /tmp && exec python3 -m http.server 8000 --bind 198.18.20.2' >/dev/null 2>&1 &
web=$!
sleep 1
work=$(mktemp -d)
trap 'cleanup; rm -rf "$work"' EXIT
ip netns exec $b timeout 20 tcpdump -i eth0 -U -w "$work/plain.pcap" -s 9018 >/dev/null 2>&1 &
dump=$!
sleep 1
ip netns exec $a ping -c 2 -W 1 198.18.20.2 >/dev/null
ll=$(ip -n $b -6 -o addr show dev eth0 scope link | awk '{print $4}' | cut -d/ -f1)
ip netns exec $a ping -6 -c 2 -W 1 "$ll%eth0" >/dev/null || true
ip netns exec $a bash -c 'echo hydranet > /dev/udp/198.18.20.2/9999' || true
ip netns exec $a curl -s -m 2 http://198.18.20.2:81/ >/dev/null || true
ip netns exec $a curl -s -m 2 -o /dev/null http://198.18.20.2:8000/ || true
sleep 1
kill $dump 2>/dev/null || true; wait $dump 2>/dev/null || true
kill $web 2>/dev/null || true
tcpdump -r "$work/plain.pcap" -w "$work/ipv4.pcap" ip 2>/dev/null
tcprewrite --enet-vlan=add --enet-vlan-tag=7 --enet-vlan-cfi=0 --enet-vlan-pri=0 \
  --infile="$work/ipv4.pcap" --outfile="$work/tagged-in.pcap"
ip netns exec $b timeout 10 tcpdump -i eth0 -U -w "$work/tagged.pcap" -s 9018 vlan >/dev/null 2>&1 &
dump=$!
sleep 1
ip netns exec $a tcpreplay -q -i eth0 "$work/tagged-in.pcap" >/dev/null 2>&1
sleep 1
kill $dump 2>/dev/null || true; wait $dump 2>/dev/null || true
mergecap -F pcap -w "$out" "$work/plain.pcap" "$work/tagged.pcap"
echo "wrote $out"
