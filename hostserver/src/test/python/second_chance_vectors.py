#!/usr/bin/env python3
"""Writes the byte-exact vectors of hostserver/SECOND-CHANCE.md from the spec alone.

An implementation independent of the Java one (the flow hash, the rendezvous ranking, the source
port, the headers and their checksums are written again here from the document's rules), so
SecondChanceVectorsTest compares two implementations, not one with itself.
Run: python3 hostserver/src/test/python/second_chance_vectors.py
"""
import struct

M64 = (1 << 64) - 1


def addr(text):
    a, b, c, d = (int(x) for x in text.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def mix(h):
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & M64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & M64
    h ^= h >> 33
    return h


def rotl(x, n):
    return ((x << n) | (x >> (64 - n))) & M64


def flow_hash(src, dst, proto, sport, dport):
    """RedirectLookup.flowHash, as a 32-bit unsigned value."""
    h = (src << 32) | dst
    h ^= rotl((proto << 32) | (sport << 16) | dport, 29)
    return mix(h) & 0xFFFFFFFF


def source_port(flow):
    return 0xC000 | ((flow ^ (flow >> 16)) & 0x3FFF)


def score(flow, host):
    return mix(((flow << 32) & M64) ^ host ^ 0x9E3779B97F4A7C15)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(tos, total, ident, flags, ttl, proto, src, dst):
    h = struct.pack("!BBHHHBBHII", 0x45, tos, total, ident, flags, ttl, proto, 0, src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:]


def tcp(src, dst, sport, dport, seq, ack, flags, window, payload):
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, window, 0, 0)
    pseudo = struct.pack("!IIBBH", src, dst, 0, 6, len(h) + len(payload))
    c = csum(pseudo + h + payload)
    return h[:16] + struct.pack("!H", c) + h[18:] + payload


def gue(sport, inner_len, hops, next_hop):
    n = len(hops)
    length = 16 + 4 * n
    out = struct.pack("!HHHH", sport, 19523, length + inner_len, 0)
    out += struct.pack("!BBH", 1 + n, 4, 0)
    out += struct.pack("!HBB", 0, next_hop, n)
    for h in hops:
        out += struct.pack("!I", h)
    return out


CLIENT, ORIGIN = addr("198.18.0.10"), addr("198.18.2.10")
REDIRECTOR = addr("198.18.1.1")
H1, H2, H3 = addr("198.18.1.20"), addr("198.18.1.21"), addr("198.18.1.22")
DF = 0x4000

payload = b"hi\r\n"
segment = tcp(CLIENT, ORIGIN, 40000, 80, 0x01020304, 0x05060708, 0x18, 502, payload)
inner = ipv4(0, 20 + len(segment), 0x1234, DF, 63, 6, CLIENT, ORIGIN) + segment

flow = flow_hash(CLIENT, ORIGIN, 6, 0, 0)
sport = source_port(flow)
candidates = sorted([H2, H3], key=lambda h: score(flow, h), reverse=True)
hops = candidates + [REDIRECTOR]


def tunnel(src, dst, ident, hops, next_hop, port=sport):
    body = gue(port, len(inner), hops, next_hop) + inner
    return ipv4(0, 20 + len(body), ident, DF, 64, 17, src, dst) + body


vectors = {
    "inner": inner,
    # The redirector to the chosen host server, H1: the other two, then itself.
    "redirect": tunnel(REDIRECTOR, H1, 1, hops, 0),
    # H1 has no socket: to the first candidate, next hop 1.
    "pass-on-1": tunnel(H1, hops[0], 1, hops, 1),
    # ...which has none either: to the second, next hop 2.
    "pass-on-2": tunnel(hops[0], hops[1], 1, hops, 2),
    # ...and the last candidate: back to the redirector, the list used up.
    "pass-on-origin": tunnel(hops[1], REDIRECTOR, 1, hops, 3),
    # IP-in-IP from the redirector (no list), no socket at H1: back to it in the same tunnel, 20
    # bytes, the outer TTL 255 marking it a pass-on (a redirector's is at most 191).
    "ipip": ipv4(0, 20 + len(inner), 1, DF, 64, 4, REDIRECTOR, H1) + inner,
    "ipip-to-origin": ipv4(0, 20 + len(inner), 1, DF, 255, 4, H1, REDIRECTOR) + inner,
}


def hop_taken(datagram, times):
    """The inner datagram after `times` more passes through the redirector: TTL less, checksum."""
    h = bytearray(datagram[:20])
    h[8] -= times
    h[10:12] = b"\0\0"
    h[10:12] = struct.pack("!H", csum(bytes(h)))
    return bytes(h) + datagram[20:]


# The redirector's walk (IP-in-IP has no list): the flow's consistent choice is H1 (the only host
# server of weight above 0), so its candidate order is H1, then the ranking above. H1's pass-back
# goes on to the candidate after H1, that one's to the next, the last one's to the origin; each
# pass through the redirector takes one from the inner TTL. The redirector's identifications go on
# from its `ipip` (1): 2, 3; each host server's pass-back is its first (1).
walk = candidates
for i, (ident, host) in enumerate(zip((2, 3), walk), start=1):
    again = hop_taken(inner, i)
    vectors["walk-%d" % i] = ipv4(0, 20 + len(again), ident, DF, 64, 4, REDIRECTOR, host) + again
    vectors["walk-%d-back" % i] = ipv4(0, 20 + len(again), 1, DF, 255, 4, host, REDIRECTOR) + again

for name, data in vectors.items():
    print("```")
    print("vector: " + name)
    for i in range(0, len(data), 16):
        print(" ".join("%02x" % b for b in data[i : i + 16]))
    print("```")
    print()
print("flow hash %08x, source port %d, hops %s" % (flow, sport,
      [".".join(str((h >> s) & 255) for s in (24, 16, 8, 0)) for h in hops]))
