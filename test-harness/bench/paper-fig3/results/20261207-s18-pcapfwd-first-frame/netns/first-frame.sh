#!/bin/bash
# Does a pcapfwd binary forward the first frame after its start? Three namespaces (client, forwarder,
# origin) on veth pairs, 198.18.0.0/15 only; the forwarder's kernel forwarding off, so only pcapfwd
# carries transit frames. Five TCP connections with a 2 s timeout (c.py); before the fix the first
# timed out: its SYN, and the SYN-ACK of its retransmit, were each the first frame on a capture.
#   first-frame.sh PCAPFWD [--tx-ring]      (as root; prints c.py's five lines)
set -u
BIN=$1 MODE=${2:-} HERE=$(cd "$(dirname "$0")" && pwd) P=s18ff FWD="" SRV=""
x() { local ns=$1; shift; ip netns exec "$P-$ns" "$@"; }
cleanup() {
  [ -z "$FWD" ] || kill -KILL "$FWD" 2>/dev/null
  [ -z "$SRV" ] || kill -KILL "$SRV" 2>/dev/null
  wait 2>/dev/null
  for n in cl rd or; do ip netns del "$P-$n" 2>/dev/null; done
}
cleanup; trap cleanup EXIT
for n in cl rd or; do ip netns add "$P-$n"; x "$n" ip link set lo up; done
ip link add "$P-a" type veth peer name "$P-b"; ip link add "$P-c" type veth peer name "$P-d"
ip link set "$P-a" netns "$P-cl" name eth0; ip link set "$P-b" netns "$P-rd" name client0
ip link set "$P-c" netns "$P-rd" name core0; ip link set "$P-d" netns "$P-or" name eth0
x cl ip addr add 198.18.0.2/24 dev eth0; x cl ip link set eth0 up; x cl ip route add default via 198.18.0.1
x rd ip addr add 198.18.0.1/24 dev client0; x rd ip addr add 198.18.2.1/24 dev core0
x rd ip link set client0 up; x rd ip link set core0 up
x or ip addr add 198.18.2.10/24 dev eth0; x or ip link set eth0 up; x or ip route add default via 198.18.2.1
for d in "rd client0" "rd core0" "cl eth0" "or eth0"; do
  set -- $d; x "$1" ethtool -K "$2" tx off rx off gso off tso off gro off >/dev/null 2>&1
done
x rd sysctl -qw net.ipv4.ip_forward=0
x cl ping -c1 -W1 198.18.0.1 >/dev/null; x or ping -c1 -W1 198.18.2.1 >/dev/null
CM=$(x cl cat /sys/class/net/eth0/address); OM=$(x or cat /sys/class/net/eth0/address)
# Started by ip netns exec itself (it execs), not through x, so that $! is the process to stop.
ip netns exec "$P-or" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.2.10", 5301)); s.listen(64)
while True:
    c, _ = s.accept(); c.close()' >/dev/null 2>&1 &
SRV=$!
# shellcheck disable=SC2086
ip netns exec "$P-rd" "$BIN" $MODE client0 198.18.0.1 "$CM" core0 198.18.2.1 "$OM" >/dev/null 2>&1 &
FWD=$!
sleep 1
x cl timeout 30 python3 "$HERE/c.py" 198.18.2.10
