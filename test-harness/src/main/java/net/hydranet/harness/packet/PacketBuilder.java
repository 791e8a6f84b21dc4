package net.hydranet.harness.packet;

import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Locale;
import net.hydranet.forwarding.wire.ArpPacket;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.IcmpHeader;
import net.hydranet.forwarding.wire.Icmpv6Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.harness.packet.Transport.Kind;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Fluent builder of whole Ethernet frames for unit tests and golden traces.
 *
 * <p>One mutable builder for every layer: choose the link ({@link #ethernet}, {@link #vlan}), then
 * the network layer ({@link #ipv4}, {@link #ipv6} or an ARP message), then at most one transport
 * ({@link #udp}, {@link #tcp}, {@link #icmpEcho}, {@link #icmpError}, {@link #icmpv6Echo}, {@link
 * #icmpv6Error}, {@link #ipPayload}). Setters that belong to a layer not chosen throw {@link
 * IllegalStateException}, so a fixture cannot silently build something other than what it reads as.
 *
 * <p>{@link #build()} fills every length and checksum (IPv4 header per RFC 791 §3.1; UDP and TCP
 * over the RFC 768 / RFC 793 §3.1 pseudo-header; ICMP per RFC 792). The escape hatches — {@link
 * #badIpChecksum()}, {@link #badL4Checksum()}, {@link #ihl(int)}, {@link #totalLength(int)}, {@link
 * #truncateTo(int)}, {@link #padTo(int)}, {@link #etherType(int)} — each break exactly one thing,
 * everything else stays correct, so a malformed-input test exercises the one check it names.
 *
 * <p>This class is the fluent front and the order of the layers; each layer's fields and wire
 * writing are in {@link Ipv4Part}, {@link Ipv6Part} and {@link Transport}.
 */
public final class PacketBuilder {
  private enum L3 {
    NONE,
    IPV4,
    ARP,
    IPV6
  }

  private final long srcMac;
  private final long dstMac;
  private int vlan = -1;
  private int etherTypeOverride = -1;

  private L3 l3 = L3.NONE;
  private final Ipv4Part ip4 = new Ipv4Part();
  private final Ipv6Part ip6 = new Ipv6Part();
  private final Transport l4 = new Transport();

  private int arpOperation;
  private long arpSenderMac;
  private int arpSenderIp;
  private long arpTargetMac;
  private int arpTargetIp;

  private int truncateTo = -1;
  private int padTo = -1;

  private PacketBuilder(long srcMac, long dstMac) {
    this.srcMac = srcMac & 0xFFFF_FFFF_FFFFL;
    this.dstMac = dstMac & 0xFFFF_FFFF_FFFFL;
  }

  /**
   * Starts a frame; MACs are the low 48 bits of each long (0x02005e100001 is 02:00:5e:10:00:01).
   */
  public static PacketBuilder ethernet(long srcMac, long dstMac) {
    return new PacketBuilder(srcMac, dstMac);
  }

  /** Adds one 802.1Q tag (TPID 0x8100, priority 0) with this VLAN id. */
  public PacketBuilder vlan(int vid) {
    if (vid < 0 || vid > 0xFFF) {
      throw new IllegalArgumentException("VLAN id out of range: " + vid);
    }
    this.vlan = vid;
    return this;
  }

  /** Overrides the (inner) EtherType, e.g. 0x86DD to feed IPv6-typed bytes to a v4-only check. */
  public PacketBuilder etherType(int type) {
    this.etherTypeOverride = type & 0xFFFF;
    return this;
  }

  // ---- IPv4 ----

  public PacketBuilder ipv4(int src, int dst) {
    requireL3(L3.NONE, "ipv4");
    this.l3 = L3.IPV4;
    ip4.src = src;
    ip4.dst = dst;
    return this;
  }

  public PacketBuilder ipv4(String src, String dst) {
    return ipv4(Ipv4Addr.of(src), Ipv4Addr.of(dst));
  }

  public PacketBuilder ttl(int ttl) {
    v4("ttl").ttl = range("ttl", ttl, 0xFF);
    return this;
  }

  public PacketBuilder id(int id) {
    v4("id").id = range("id", id, 0xFFFF);
    return this;
  }

  public PacketBuilder dontFragment(boolean df) {
    v4("dontFragment").dontFragment = df;
    return this;
  }

  public PacketBuilder moreFragments(boolean mf) {
    v4("moreFragments").moreFragments = mf;
    return this;
  }

  /** Fragment offset in bytes; a multiple of 8 because the field counts 8-byte units. */
  public PacketBuilder fragmentOffset(int bytes) {
    v4("fragmentOffset").fragmentOffset(bytes);
    return this;
  }

  public PacketBuilder tos(int tos) {
    v4("tos").tos = range("tos", tos, 0xFF);
    return this;
  }

  /** IPv4 options, already padded: a multiple of 4 bytes, at most 40 (IHL is 4 bits of words). */
  public PacketBuilder options(byte[] options) {
    v4("options").options(options);
    return this;
  }

  /** Overrides the protocol field (otherwise taken from the transport chosen; 4 for raw). */
  public PacketBuilder protocol(int protocol) {
    v4("protocol").protocolOverride = range("protocol", protocol, 0xFF);
    return this;
  }

  // ---- IPv6 (RFC 8200) ----

  public PacketBuilder ipv6(long srcHigh, long srcLow, long dstHigh, long dstLow) {
    requireL3(L3.NONE, "ipv6");
    this.l3 = L3.IPV6;
    ip6.srcHigh = srcHigh;
    ip6.srcLow = srcLow;
    ip6.dstHigh = dstHigh;
    ip6.dstLow = dstLow;
    return this;
  }

  public PacketBuilder ipv6(String src, String dst) {
    long[] s = Ipv6Header.parseAddress(src);
    long[] d = Ipv6Header.parseAddress(dst);
    return ipv6(s[0], s[1], d[0], d[1]);
  }

  public PacketBuilder hopLimit(int hopLimit) {
    v6("hopLimit").hopLimit = range("hopLimit", hopLimit, 0xFF);
    return this;
  }

  public PacketBuilder flowLabel(int flowLabel) {
    v6("flowLabel").flowLabel = range("flowLabel", flowLabel, 0xF_FFFF);
    return this;
  }

  public PacketBuilder trafficClass(int trafficClass) {
    v6("trafficClass").trafficClass = range("trafficClass", trafficClass, 0xFF);
    return this;
  }

  /**
   * Appends an extension header of this kind (hop-by-hop 0, routing 43, destination options 60) and
   * {@code length} bytes, a multiple of 8: options headers are filled with one PadN option, a
   * routing header is type 4 with no segments left. Headers go in the order added; the next-header
   * fields are chained by {@link #build()}.
   */
  public PacketBuilder extensionHeader(int kind, int length) {
    v6("extensionHeader").extensionHeader(kind, length);
    return this;
  }

  /** Appends a fragment header (RFC 8200 §4.5); the offset in bytes, a multiple of 8. */
  public PacketBuilder ipv6Fragment(int offsetBytes, boolean more, int identification) {
    v6("ipv6Fragment").fragment(offsetBytes, more, identification);
    return this;
  }

  /** Overrides the next-header value that names the upper layer (after the last extension). */
  public PacketBuilder nextHeader(int nextHeader) {
    v6("nextHeader").nextHeaderOverride = range("nextHeader", nextHeader, 0xFF);
    return this;
  }

  /** Writes this payload length instead of the true one. */
  public PacketBuilder payloadLength(int length) {
    v6("payloadLength").payloadLengthOverride = range("payloadLength", length, 0xFFFF);
    return this;
  }

  /** ICMPv6 echo request (RFC 4443 §4.1); {@link #payload} becomes the echo data. */
  public PacketBuilder icmpv6Echo(int id, int seq) {
    return icmpv6(Kind.ICMPV6_ECHO, Icmpv6Header.TYPE_ECHO_REQUEST, 0, echoWord(id, seq));
  }

  public PacketBuilder icmpv6EchoReply(int id, int seq) {
    return icmpv6(Kind.ICMPV6_ECHO, Icmpv6Header.TYPE_ECHO_REPLY, 0, echoWord(id, seq));
  }

  /**
   * An ICMPv6 message with a body given whole: an error quoting a packet (RFC 4443 §3), or any type
   * — the checksum over the pseudo-header is computed by {@link #build()}.
   *
   * @param restWord the 32-bit word after the checksum: MTU, pointer, or 0
   */
  public PacketBuilder icmpv6Error(int type, int code, int restWord, byte[] quoted) {
    icmpv6(Kind.ICMPV6_ERROR, range("type", type, 0xFF), range("code", code, 0xFF), restWord);
    l4.icmpQuoted = quoted.clone();
    return this;
  }

  private PacketBuilder icmpv6(Kind kind, int type, int code, int rest) {
    requireL3(L3.IPV6, "icmpv6");
    return icmpKind(kind, type, code, rest, "icmpv6");
  }

  // ---- transports ----

  public PacketBuilder udp(int srcPort, int dstPort) {
    return ports(Kind.UDP, srcPort, dstPort);
  }

  public PacketBuilder tcp(int srcPort, int dstPort) {
    return ports(Kind.TCP, srcPort, dstPort);
  }

  /** TCP flags byte, e.g. {@code TcpHeader.FLAG_SYN}; the default is ACK. */
  public PacketBuilder flags(int flags) {
    tcpOnly("flags").tcpFlags = range("flags", flags, 0xFF);
    return this;
  }

  public PacketBuilder seq(long seq) {
    tcpOnly("seq").seq = seq & 0xFFFF_FFFFL;
    return this;
  }

  public PacketBuilder ack(long ack) {
    tcpOnly("ack").ack = ack & 0xFFFF_FFFFL;
    return this;
  }

  public PacketBuilder window(int window) {
    tcpOnly("window").window = range("window", window, 0xFFFF);
    return this;
  }

  /** Adds an MSS option (kind 2, length 4) first in the option list. */
  public PacketBuilder mss(int mss) {
    tcpOnly("mss").mss = range("mss", mss, 0xFFFF);
    return this;
  }

  /** Raw TCP options after any MSS option; padded with end-of-list bytes to a 4-byte boundary. */
  public PacketBuilder tcpOptions(byte[] options) {
    tcpOnly("tcpOptions").tcpOptions = options.clone();
    return this;
  }

  /** ICMP echo request; {@link #payload} becomes the echo data. */
  public PacketBuilder icmpEcho(int id, int seq) {
    return icmp(Kind.ICMP_ECHO, IcmpHeader.TYPE_ECHO_REQUEST, 0, echoWord(id, seq));
  }

  /** ICMP echo reply, for the answers a host sends back. */
  public PacketBuilder icmpEchoReply(int id, int seq) {
    return icmp(Kind.ICMP_ECHO, IcmpHeader.TYPE_ECHO_REPLY, 0, echoWord(id, seq));
  }

  /**
   * An ICMP error quoting an offending datagram (RFC 792; RFC 1812 §4.3.2.3 says how much).
   *
   * @param restWord the 32-bit word after the checksum: unused, pointer, or next-hop MTU (low 16)
   * @param quotedIpDatagram the quoted IP header and leading bytes, as the sender chose to quote
   */
  public PacketBuilder icmpError(int type, int code, int restWord, byte[] quotedIpDatagram) {
    icmp(Kind.ICMP_ERROR, range("type", type, 0xFF), range("code", code, 0xFF), restWord);
    l4.icmpQuoted = quotedIpDatagram.clone();
    return this;
  }

  /** A raw IP payload with no transport built around it, e.g. an inner datagram for IP-in-IP. */
  public PacketBuilder ipPayload(byte[] raw) {
    if (l3 != L3.IPV6) {
      requireL3(L3.IPV4, "ipPayload");
    }
    requireL4(Kind.NONE, "ipPayload");
    l4.kind = Kind.RAW;
    l4.ipPayload = raw.clone();
    return this;
  }

  /** Application bytes after the transport header (or after the Ethernet header if no L3). */
  public PacketBuilder payload(byte[] bytes) {
    final Kind kind = l4.kind;
    if (kind == Kind.ICMP_ERROR || kind == Kind.ICMPV6_ERROR || kind == Kind.RAW || l3 == L3.ARP) {
      throw new IllegalStateException(
          "payload() does not apply after " + (kind == Kind.NONE ? l3 : kind));
    }
    l4.payload = bytes.clone();
    return this;
  }

  /** {@code size} bytes of a recognisable pattern (i mod 256), so a cut or shift shows. */
  public PacketBuilder payload(int size) {
    byte[] bytes = new byte[size];
    for (int i = 0; i < size; i++) {
      bytes[i] = (byte) i;
    }
    return payload(bytes);
  }

  // ---- ARP ----

  /** Who-has {@code targetIp}: target MAC zero (RFC 826). */
  public PacketBuilder arpRequest(long senderMac, int senderIp, int targetIp) {
    return arp(ArpPacket.OPERATION_REQUEST, senderMac, senderIp, 0, targetIp);
  }

  public PacketBuilder arpReply(long senderMac, int senderIp, long targetMac, int targetIp) {
    return arp(ArpPacket.OPERATION_REPLY, senderMac, senderIp, targetMac, targetIp);
  }

  // ---- escape hatches ----

  /** Flips the IPv4 header checksum so it no longer verifies. */
  public PacketBuilder badIpChecksum() {
    v4("badIpChecksum").badChecksum = true;
    return this;
  }

  /** Flips the UDP, TCP or ICMP checksum so it no longer verifies. */
  public PacketBuilder badL4Checksum() {
    if (l4.kind == Kind.NONE || l4.kind == Kind.RAW) {
      throw new IllegalStateException("badL4Checksum() needs udp, tcp or icmp");
    }
    l4.badChecksum = true;
    return this;
  }

  /**
   * Writes this IHL (header words) instead of the true one. The header checksum is still computed
   * over the bytes actually built as the header, so the IHL check, not the checksum, should fire.
   */
  public PacketBuilder ihl(int words) {
    v4("ihl").ihlOverride = range("ihl", words, 0xF);
    return this;
  }

  /** Writes this total length instead of the true one; the header checksum stays valid for it. */
  public PacketBuilder totalLength(int length) {
    v4("totalLength").totalLengthOverride = range("totalLength", length, 0xFFFF);
    return this;
  }

  /** Cuts the finished frame to {@code length} bytes, after every checksum is computed. */
  public PacketBuilder truncateTo(int length) {
    if (length < 0) {
      throw new IllegalArgumentException("negative length: " + length);
    }
    this.truncateTo = length;
    return this;
  }

  /** Appends zero bytes after the datagram up to {@code length}, as Ethernet's 60-byte minimum. */
  public PacketBuilder padTo(int length) {
    this.padTo = length;
    return this;
  }

  // ---- build ----

  /** The finished frame, without FCS. */
  public byte[] build() {
    int linkLength = vlan >= 0 ? EthernetHeader.VLAN_LENGTH : EthernetHeader.LENGTH;
    byte[] l3Bytes =
        switch (l3) {
          case IPV4 -> ip4.datagram(l4.encode(ip4.src, ip4.dst), l4.ipv4Protocol());
          case IPV6 -> ip6.packet(l4.encode(ip4.src, ip4.dst), l4);
          case ARP -> arpMessage();
          case NONE -> l4.payload;
        };
    int length = Math.max(linkLength + l3Bytes.length, padTo);
    UnsafeBuffer frame = new UnsafeBuffer(new byte[length]);
    int innerType =
        etherTypeOverride >= 0
            ? etherTypeOverride
            : l3 == L3.ARP
                ? EthernetHeader.TYPE_ARP
                : l3 == L3.IPV6 ? EthernetHeader.TYPE_IPV6 : EthernetHeader.TYPE_IPV4;
    if (vlan >= 0) {
      EthernetHeader.write(frame, 0, dstMac, srcMac, EthernetHeader.TYPE_VLAN);
      frame.putShort(EthernetHeader.VLAN_TCI_OFFSET, (short) vlan, ByteOrder.BIG_ENDIAN);
      frame.putShort(EthernetHeader.VLAN_TYPE_OFFSET, (short) innerType, ByteOrder.BIG_ENDIAN);
    } else {
      EthernetHeader.write(frame, 0, dstMac, srcMac, innerType);
    }
    frame.putBytes(linkLength, l3Bytes);
    byte[] bytes = frame.byteArray();
    return truncateTo >= 0 && truncateTo < bytes.length ? Arrays.copyOf(bytes, truncateTo) : bytes;
  }

  private byte[] arpMessage() {
    UnsafeBuffer arp = new UnsafeBuffer(new byte[ArpPacket.LENGTH]);
    ArpPacket.write(arp, 0, arpOperation, arpSenderMac, arpSenderIp, arpTargetMac, arpTargetIp);
    return arp.byteArray();
  }

  // ---- helpers ----

  /** The IPv4 part, once {@code method} is allowed: after {@link #ipv4}. */
  private Ipv4Part v4(String method) {
    requireL3(L3.IPV4, method);
    return ip4;
  }

  /** The IPv6 part, once {@code method} is allowed: after {@link #ipv6}. */
  private Ipv6Part v6(String method) {
    requireL3(L3.IPV6, method);
    return ip6;
  }

  /** The transport, once {@code method} is allowed: after {@link #tcp}. */
  private Transport tcpOnly(String method) {
    requireL4(Kind.TCP, method);
    return l4;
  }

  private static int echoWord(int id, int seq) {
    return (range("id", id, 0xFFFF) << 16) | range("seq", seq, 0xFFFF);
  }

  private PacketBuilder ports(Kind kind, int srcPort, int dstPort) {
    if (l3 != L3.IPV6) {
      requireL3(L3.IPV4, kind.name().toLowerCase(Locale.ROOT));
    }
    requireL4(Kind.NONE, kind.name().toLowerCase(Locale.ROOT));
    l4.kind = kind;
    l4.srcPort = range("srcPort", srcPort, 0xFFFF);
    l4.dstPort = range("dstPort", dstPort, 0xFFFF);
    return this;
  }

  private PacketBuilder icmp(Kind kind, int type, int code, int rest) {
    requireL3(L3.IPV4, "icmp");
    return icmpKind(kind, type, code, rest, "icmp");
  }

  private PacketBuilder icmpKind(Kind kind, int type, int code, int rest, String method) {
    requireL4(Kind.NONE, method);
    l4.kind = kind;
    l4.icmpType = type;
    l4.icmpCode = code;
    l4.icmpRest = rest;
    return this;
  }

  private PacketBuilder arp(
      int operation, long senderMac, int senderIp, long targetMac, int targetIp) {
    requireL3(L3.NONE, "arp");
    this.l3 = L3.ARP;
    this.arpOperation = operation;
    this.arpSenderMac = senderMac & 0xFFFF_FFFF_FFFFL;
    this.arpSenderIp = senderIp;
    this.arpTargetMac = targetMac & 0xFFFF_FFFF_FFFFL;
    this.arpTargetIp = targetIp;
    return this;
  }

  private void requireL3(L3 wanted, String method) {
    if (l3 != wanted) {
      throw new IllegalStateException(
          method
              + "() needs "
              + (wanted == L3.NONE ? "no network layer yet" : wanted)
              + ", not "
              + l3);
    }
  }

  private void requireL4(Kind wanted, String method) {
    if (l4.kind != wanted) {
      throw new IllegalStateException(
          method
              + "() needs "
              + (wanted == Kind.NONE ? "no transport yet" : wanted)
              + ", not "
              + l4.kind);
    }
  }

  private static int range(String name, int value, int max) {
    if (value < 0 || value > max) {
      throw new IllegalArgumentException(name + " out of range 0.." + max + ": " + value);
    }
    return value;
  }
}
