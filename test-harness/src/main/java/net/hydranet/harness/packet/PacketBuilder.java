package net.hydranet.harness.packet;

import java.nio.ByteOrder;
import java.util.Arrays;
import net.hydranet.forwarding.wire.ArpPacket;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.IcmpHeader;
import net.hydranet.forwarding.wire.Icmpv6Header;
import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6FragmentHeader;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.forwarding.wire.TcpHeader;
import net.hydranet.forwarding.wire.UdpHeader;
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
 */
public final class PacketBuilder {
  private enum L3 {
    NONE,
    IPV4,
    ARP,
    IPV6
  }

  private enum L4 {
    NONE,
    UDP,
    TCP,
    ICMP_ECHO,
    ICMP_ERROR,
    RAW,
    ICMPV6_ECHO,
    ICMPV6_ERROR
  }

  private final long srcMac;
  private final long dstMac;
  private int vlan = -1;
  private int etherTypeOverride = -1;

  private L3 l3 = L3.NONE;
  private int ipSrc;
  private int ipDst;
  private int ttl = 64;
  private int id;
  private boolean dontFragment;
  private boolean moreFragments;
  private int fragmentOffsetBytes;
  private int tos;
  private byte[] ipOptions = new byte[0];
  private int protocolOverride = -1;
  private boolean badIpChecksum;
  private int ihlOverride = -1;
  private int totalLengthOverride = -1;

  private int arpOperation;
  private long arpSenderMac;
  private int arpSenderIp;
  private long arpTargetMac;
  private int arpTargetIp;

  private L4 l4 = L4.NONE;
  private int srcPort;
  private int dstPort;
  private int tcpFlags = TcpHeader.FLAG_ACK;
  private long seq;
  private long ack;
  private int window = 65535;
  private int mss = -1;
  private byte[] tcpOptions = new byte[0];
  private int icmpType;
  private int icmpCode;
  private int icmpRest;
  private byte[] icmpQuoted = new byte[0];
  private byte[] ipPayload = new byte[0];
  private boolean badL4Checksum;

  private long ip6SrcHigh;
  private long ip6SrcLow;
  private long ip6DstHigh;
  private long ip6DstLow;
  private int hopLimit = 64;
  private int flowLabel;
  private int trafficClass;
  private final java.util.List<byte[]> extensionHeaders = new java.util.ArrayList<>();
  private final java.util.List<Integer> extensionKinds = new java.util.ArrayList<>();
  private int nextHeaderOverride = -1;
  private int payloadLengthOverride = -1;

  private byte[] payload = new byte[0];
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
    this.ipSrc = src;
    this.ipDst = dst;
    return this;
  }

  public PacketBuilder ipv4(String src, String dst) {
    return ipv4(Ipv4Addr.of(src), Ipv4Addr.of(dst));
  }

  public PacketBuilder ttl(int ttl) {
    requireL3(L3.IPV4, "ttl");
    this.ttl = range("ttl", ttl, 0xFF);
    return this;
  }

  public PacketBuilder id(int id) {
    requireL3(L3.IPV4, "id");
    this.id = range("id", id, 0xFFFF);
    return this;
  }

  public PacketBuilder dontFragment(boolean df) {
    requireL3(L3.IPV4, "dontFragment");
    this.dontFragment = df;
    return this;
  }

  public PacketBuilder moreFragments(boolean mf) {
    requireL3(L3.IPV4, "moreFragments");
    this.moreFragments = mf;
    return this;
  }

  /** Fragment offset in bytes; a multiple of 8 because the field counts 8-byte units. */
  public PacketBuilder fragmentOffset(int bytes) {
    requireL3(L3.IPV4, "fragmentOffset");
    if (bytes < 0 || bytes % 8 != 0 || bytes / 8 > Ipv4Header.FRAGMENT_OFFSET_MASK) {
      throw new IllegalArgumentException("fragment offset must be a multiple of 8: " + bytes);
    }
    this.fragmentOffsetBytes = bytes;
    return this;
  }

  public PacketBuilder tos(int tos) {
    requireL3(L3.IPV4, "tos");
    this.tos = range("tos", tos, 0xFF);
    return this;
  }

  /** IPv4 options, already padded: a multiple of 4 bytes, at most 40 (IHL is 4 bits of words). */
  public PacketBuilder options(byte[] options) {
    requireL3(L3.IPV4, "options");
    if (options.length % 4 != 0 || options.length > Ipv4Header.MAX_LENGTH - Ipv4Header.MIN_LENGTH) {
      throw new IllegalArgumentException(
          "IPv4 options must be a multiple of 4 bytes, at most 40: " + options.length);
    }
    this.ipOptions = options.clone();
    return this;
  }

  /** Overrides the protocol field (otherwise taken from the transport chosen; 4 for raw). */
  public PacketBuilder protocol(int protocol) {
    requireL3(L3.IPV4, "protocol");
    this.protocolOverride = range("protocol", protocol, 0xFF);
    return this;
  }

  // ---- IPv6 (RFC 8200) ----

  public PacketBuilder ipv6(long srcHigh, long srcLow, long dstHigh, long dstLow) {
    requireL3(L3.NONE, "ipv6");
    this.l3 = L3.IPV6;
    this.ip6SrcHigh = srcHigh;
    this.ip6SrcLow = srcLow;
    this.ip6DstHigh = dstHigh;
    this.ip6DstLow = dstLow;
    return this;
  }

  public PacketBuilder ipv6(String src, String dst) {
    long[] s = Ipv6Header.parseAddress(src);
    long[] d = Ipv6Header.parseAddress(dst);
    return ipv6(s[0], s[1], d[0], d[1]);
  }

  public PacketBuilder hopLimit(int hopLimit) {
    requireL3(L3.IPV6, "hopLimit");
    this.hopLimit = range("hopLimit", hopLimit, 0xFF);
    return this;
  }

  public PacketBuilder flowLabel(int flowLabel) {
    requireL3(L3.IPV6, "flowLabel");
    this.flowLabel = range("flowLabel", flowLabel, 0xF_FFFF);
    return this;
  }

  public PacketBuilder trafficClass(int trafficClass) {
    requireL3(L3.IPV6, "trafficClass");
    this.trafficClass = range("trafficClass", trafficClass, 0xFF);
    return this;
  }

  /**
   * Appends an extension header of this kind (hop-by-hop 0, routing 43, destination options 60) and
   * {@code length} bytes, a multiple of 8: options headers are filled with one PadN option, a
   * routing header is type 4 with no segments left. Headers go in the order added; the next-header
   * fields are chained by {@link #build()}.
   */
  public PacketBuilder extensionHeader(int kind, int length) {
    requireL3(L3.IPV6, "extensionHeader");
    if (kind != Ipv6Header.NEXT_HEADER_HOP_BY_HOP
        && kind != Ipv6Header.NEXT_HEADER_ROUTING
        && kind != Ipv6Header.NEXT_HEADER_DESTINATION_OPTIONS) {
      throw new IllegalArgumentException("not an options or routing header: " + kind);
    }
    if (length < 8 || length % 8 != 0 || length > 2048) {
      throw new IllegalArgumentException("extension header length must be 8..2048, ×8: " + length);
    }
    byte[] h = new byte[length];
    h[1] = (byte) (length / 8 - 1);
    if (kind == Ipv6Header.NEXT_HEADER_ROUTING) {
      h[2] = 4;
    } else {
      h[2] = 1; // PadN over the remaining length - 4 bytes
      h[3] = (byte) (length - 4);
    }
    extensionKinds.add(kind);
    extensionHeaders.add(h);
    return this;
  }

  /** Appends a fragment header (RFC 8200 §4.5); the offset in bytes, a multiple of 8. */
  public PacketBuilder ipv6Fragment(int offsetBytes, boolean more, int identification) {
    requireL3(L3.IPV6, "ipv6Fragment");
    if (offsetBytes < 0 || offsetBytes % 8 != 0 || offsetBytes > 0xFFF8) {
      throw new IllegalArgumentException("fragment offset must be a multiple of 8: " + offsetBytes);
    }
    UnsafeBuffer h = new UnsafeBuffer(new byte[Ipv6FragmentHeader.LENGTH]);
    Ipv6FragmentHeader.write(h, 0, 0, offsetBytes, more, identification);
    extensionKinds.add(Ipv6Header.NEXT_HEADER_FRAGMENT);
    extensionHeaders.add(h.byteArray());
    return this;
  }

  /** Overrides the next-header value that names the upper layer (after the last extension). */
  public PacketBuilder nextHeader(int nextHeader) {
    requireL3(L3.IPV6, "nextHeader");
    this.nextHeaderOverride = range("nextHeader", nextHeader, 0xFF);
    return this;
  }

  /** Writes this payload length instead of the true one. */
  public PacketBuilder payloadLength(int length) {
    requireL3(L3.IPV6, "payloadLength");
    this.payloadLengthOverride = range("payloadLength", length, 0xFFFF);
    return this;
  }

  /** ICMPv6 echo request (RFC 4443 §4.1); {@link #payload} becomes the echo data. */
  public PacketBuilder icmpv6Echo(int id, int seq) {
    return icmpv6(
        L4.ICMPV6_ECHO,
        Icmpv6Header.TYPE_ECHO_REQUEST,
        0,
        (range("id", id, 0xFFFF) << 16) | range("seq", seq, 0xFFFF));
  }

  public PacketBuilder icmpv6EchoReply(int id, int seq) {
    return icmpv6(
        L4.ICMPV6_ECHO,
        Icmpv6Header.TYPE_ECHO_REPLY,
        0,
        (range("id", id, 0xFFFF) << 16) | range("seq", seq, 0xFFFF));
  }

  /**
   * An ICMPv6 message with a body given whole: an error quoting a packet (RFC 4443 §3), or any type
   * — the checksum over the pseudo-header is computed by {@link #build()}.
   *
   * @param restWord the 32-bit word after the checksum: MTU, pointer, or 0
   */
  public PacketBuilder icmpv6Error(int type, int code, int restWord, byte[] quoted) {
    icmpv6(L4.ICMPV6_ERROR, range("type", type, 0xFF), range("code", code, 0xFF), restWord);
    this.icmpQuoted = quoted.clone();
    return this;
  }

  private PacketBuilder icmpv6(L4 kind, int type, int code, int rest) {
    requireL3(L3.IPV6, "icmpv6");
    requireL4(L4.NONE, "icmpv6");
    this.l4 = kind;
    this.icmpType = type;
    this.icmpCode = code;
    this.icmpRest = rest;
    return this;
  }

  // ---- transports ----

  public PacketBuilder udp(int srcPort, int dstPort) {
    return ports(L4.UDP, srcPort, dstPort);
  }

  public PacketBuilder tcp(int srcPort, int dstPort) {
    return ports(L4.TCP, srcPort, dstPort);
  }

  /** TCP flags byte, e.g. {@code TcpHeader.FLAG_SYN}; the default is ACK. */
  public PacketBuilder flags(int flags) {
    requireL4(L4.TCP, "flags");
    this.tcpFlags = range("flags", flags, 0xFF);
    return this;
  }

  public PacketBuilder seq(long seq) {
    requireL4(L4.TCP, "seq");
    this.seq = seq & 0xFFFF_FFFFL;
    return this;
  }

  public PacketBuilder ack(long ack) {
    requireL4(L4.TCP, "ack");
    this.ack = ack & 0xFFFF_FFFFL;
    return this;
  }

  public PacketBuilder window(int window) {
    requireL4(L4.TCP, "window");
    this.window = range("window", window, 0xFFFF);
    return this;
  }

  /** Adds an MSS option (kind 2, length 4) first in the option list. */
  public PacketBuilder mss(int mss) {
    requireL4(L4.TCP, "mss");
    this.mss = range("mss", mss, 0xFFFF);
    return this;
  }

  /** Raw TCP options after any MSS option; padded with end-of-list bytes to a 4-byte boundary. */
  public PacketBuilder tcpOptions(byte[] options) {
    requireL4(L4.TCP, "tcpOptions");
    this.tcpOptions = options.clone();
    return this;
  }

  /** ICMP echo request; {@link #payload} becomes the echo data. */
  public PacketBuilder icmpEcho(int id, int seq) {
    return icmp(
        L4.ICMP_ECHO,
        IcmpHeader.TYPE_ECHO_REQUEST,
        0,
        (range("id", id, 0xFFFF) << 16) | range("seq", seq, 0xFFFF));
  }

  /** ICMP echo reply, for the answers a host sends back. */
  public PacketBuilder icmpEchoReply(int id, int seq) {
    return icmp(
        L4.ICMP_ECHO,
        IcmpHeader.TYPE_ECHO_REPLY,
        0,
        (range("id", id, 0xFFFF) << 16) | range("seq", seq, 0xFFFF));
  }

  /**
   * An ICMP error quoting an offending datagram (RFC 792; RFC 1812 §4.3.2.3 says how much).
   *
   * @param restWord the 32-bit word after the checksum: unused, pointer, or next-hop MTU (low 16)
   * @param quotedIpDatagram the quoted IP header and leading bytes, as the sender chose to quote
   */
  public PacketBuilder icmpError(int type, int code, int restWord, byte[] quotedIpDatagram) {
    icmp(L4.ICMP_ERROR, range("type", type, 0xFF), range("code", code, 0xFF), restWord);
    this.icmpQuoted = quotedIpDatagram.clone();
    return this;
  }

  /** A raw IP payload with no transport built around it, e.g. an inner datagram for IP-in-IP. */
  public PacketBuilder ipPayload(byte[] raw) {
    if (l3 != L3.IPV6) {
      requireL3(L3.IPV4, "ipPayload");
    }
    requireL4(L4.NONE, "ipPayload");
    this.l4 = L4.RAW;
    this.ipPayload = raw.clone();
    return this;
  }

  /** Application bytes after the transport header (or after the Ethernet header if no L3). */
  public PacketBuilder payload(byte[] bytes) {
    if (l4 == L4.ICMP_ERROR || l4 == L4.ICMPV6_ERROR || l4 == L4.RAW || l3 == L3.ARP) {
      throw new IllegalStateException(
          "payload() does not apply after " + (l4 == L4.NONE ? l3 : l4));
    }
    this.payload = bytes.clone();
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
    requireL3(L3.IPV4, "badIpChecksum");
    this.badIpChecksum = true;
    return this;
  }

  /** Flips the UDP, TCP or ICMP checksum so it no longer verifies. */
  public PacketBuilder badL4Checksum() {
    if (l4 == L4.NONE || l4 == L4.RAW) {
      throw new IllegalStateException("badL4Checksum() needs udp, tcp or icmp");
    }
    this.badL4Checksum = true;
    return this;
  }

  /**
   * Writes this IHL (header words) instead of the true one. The header checksum is still computed
   * over the bytes actually built as the header, so the IHL check, not the checksum, should fire.
   */
  public PacketBuilder ihl(int words) {
    requireL3(L3.IPV4, "ihl");
    this.ihlOverride = range("ihl", words, 0xF);
    return this;
  }

  /** Writes this total length instead of the true one; the header checksum stays valid for it. */
  public PacketBuilder totalLength(int length) {
    requireL3(L3.IPV4, "totalLength");
    this.totalLengthOverride = range("totalLength", length, 0xFFFF);
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
          case IPV4 -> ipv4Datagram();
          case IPV6 -> ipv6Packet();
          case ARP -> arpMessage();
          case NONE -> payload;
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

  private byte[] ipv4Datagram() {
    byte[] l4Bytes = transport();
    int headerLength = Ipv4Header.MIN_LENGTH + ipOptions.length;
    int total = headerLength + l4Bytes.length;
    if (total > 0xFFFF) {
      throw new IllegalStateException("IPv4 datagram longer than 65535 bytes: " + total);
    }
    UnsafeBuffer ip = new UnsafeBuffer(new byte[total]);
    int flagsFragment =
        (dontFragment ? Ipv4Header.FLAG_DF : 0)
            | (moreFragments ? Ipv4Header.FLAG_MF : 0)
            | (fragmentOffsetBytes >>> 3);
    Ipv4Header.write(
        ip,
        0,
        tos,
        totalLengthOverride >= 0 ? totalLengthOverride : total,
        id,
        flagsFragment,
        ttl,
        ipProtocol(),
        ipSrc,
        ipDst);
    int ihl = ihlOverride >= 0 ? ihlOverride : headerLength / 4;
    ip.putByte(Ipv4Header.VERSION_IHL_OFFSET, (byte) (0x40 | ihl));
    ip.putBytes(Ipv4Header.MIN_LENGTH, ipOptions);
    // Over the bytes built as the header, not IHL × 4: an IHL override must not move the checksum.
    Ipv4Header.checksum(ip, 0, 0);
    int checksum = InternetChecksum.checksum(ip, 0, headerLength);
    Ipv4Header.checksum(ip, 0, badIpChecksum ? checksum ^ 0xFFFF : checksum);
    ip.putBytes(headerLength, l4Bytes);
    return ip.byteArray();
  }

  /**
   * The IPv6 packet: fixed header, the extension headers chained in the order added, and the
   * transport, whose checksum is computed over the IPv6 pseudo-header (RFC 8200 §8.1).
   */
  private byte[] ipv6Packet() {
    byte[] l4Bytes = transport();
    int extensionLength = 0;
    for (byte[] h : extensionHeaders) {
      extensionLength += h.length;
    }
    int payloadLength = extensionLength + l4Bytes.length;
    if (payloadLength > 0xFFFF) {
      throw new IllegalStateException("IPv6 payload longer than 65535 bytes: " + payloadLength);
    }
    int upperProtocol =
        switch (l4) {
          case UDP -> Ipv6Header.NEXT_HEADER_UDP;
          case TCP -> Ipv6Header.NEXT_HEADER_TCP;
          case ICMPV6_ECHO, ICMPV6_ERROR -> Ipv6Header.NEXT_HEADER_ICMPV6;
          default -> Ipv6Header.NEXT_HEADER_NONE;
        };
    int upper = nextHeaderOverride >= 0 ? nextHeaderOverride : upperProtocol;
    UnsafeBuffer ip = new UnsafeBuffer(new byte[Ipv6Header.LENGTH + payloadLength]);
    Ipv6Header.write(
        ip,
        0,
        trafficClass,
        flowLabel,
        payloadLengthOverride >= 0 ? payloadLengthOverride : payloadLength,
        extensionKinds.isEmpty() ? upper : extensionKinds.get(0),
        hopLimit,
        ip6SrcHigh,
        ip6SrcLow,
        ip6DstHigh,
        ip6DstLow);
    int at = Ipv6Header.LENGTH;
    for (int i = 0; i < extensionHeaders.size(); i++) {
      byte[] h = extensionHeaders.get(i).clone();
      h[0] = (byte) (i + 1 < extensionKinds.size() ? extensionKinds.get(i + 1) : upper);
      ip.putBytes(at, h);
      at += h.length;
    }
    ip.putBytes(at, l4Bytes);
    int checksumOffset =
        switch (l4) {
          case UDP -> UdpHeader.CHECKSUM_OFFSET;
          case TCP -> TcpHeader.CHECKSUM_OFFSET;
          case ICMPV6_ECHO, ICMPV6_ERROR -> Icmpv6Header.CHECKSUM_OFFSET;
          default -> -1;
        };
    if (checksumOffset >= 0) {
      ip.putShort(at + checksumOffset, (short) 0);
      int checksum = Ipv6Header.upperLayerChecksum(ip, 0, at, l4Bytes.length, upperProtocol);
      if (l4 == L4.UDP && checksum == 0) {
        checksum = 0xFFFF; // zero means "no checksum", which IPv6 forbids (RFC 8200 §8.1)
      }
      ip.putShort(
          at + checksumOffset,
          (short) (badL4Checksum ? checksum ^ 0xFFFF : checksum),
          ByteOrder.BIG_ENDIAN);
    }
    return ip.byteArray();
  }

  private int ipProtocol() {
    if (protocolOverride >= 0) {
      return protocolOverride;
    }
    return switch (l4) {
      case UDP -> Ipv4Header.PROTOCOL_UDP;
      case TCP -> Ipv4Header.PROTOCOL_TCP;
      case ICMP_ECHO, ICMP_ERROR -> Ipv4Header.PROTOCOL_ICMP;
      case ICMPV6_ECHO, ICMPV6_ERROR -> Ipv6Header.NEXT_HEADER_ICMPV6;
      case RAW, NONE -> Ipv4Header.PROTOCOL_IPIP;
    };
  }

  private byte[] transport() {
    return switch (l4) {
      case UDP -> udpDatagram();
      case TCP -> tcpSegment();
      case ICMP_ECHO -> icmpMessage(payload);
      case ICMP_ERROR -> icmpMessage(icmpQuoted);
      case ICMPV6_ECHO -> icmpMessage(payload);
      case ICMPV6_ERROR -> icmpMessage(icmpQuoted);
      case RAW -> ipPayload;
      case NONE -> payload;
    };
  }

  private byte[] udpDatagram() {
    int length = UdpHeader.LENGTH + payload.length;
    UnsafeBuffer udp = new UnsafeBuffer(new byte[length]);
    udp.putShort(UdpHeader.SOURCE_PORT_OFFSET, (short) srcPort, ByteOrder.BIG_ENDIAN);
    udp.putShort(UdpHeader.DESTINATION_PORT_OFFSET, (short) dstPort, ByteOrder.BIG_ENDIAN);
    udp.putShort(UdpHeader.LENGTH_OFFSET, (short) length, ByteOrder.BIG_ENDIAN);
    udp.putBytes(UdpHeader.LENGTH, payload);
    int checksum =
        transportChecksum(ipSrc, ipDst, Ipv4Header.PROTOCOL_UDP, udp, length, badL4Checksum);
    // RFC 768: a computed zero is sent as all ones, since zero means "no checksum".
    if (checksum == 0) {
      checksum = 0xFFFF;
    }
    udp.putShort(UdpHeader.CHECKSUM_OFFSET, (short) checksum, ByteOrder.BIG_ENDIAN);
    return udp.byteArray();
  }

  private byte[] tcpSegment() {
    int optionLength = (mss >= 0 ? 4 : 0) + tcpOptions.length;
    int paddedOptions = (optionLength + 3) & ~3;
    if (paddedOptions > 40) {
      throw new IllegalStateException("TCP options longer than 40 bytes: " + optionLength);
    }
    int headerLength = TcpHeader.MIN_LENGTH + paddedOptions;
    int length = headerLength + payload.length;
    UnsafeBuffer tcp = new UnsafeBuffer(new byte[length]);
    tcp.putShort(TcpHeader.SOURCE_PORT_OFFSET, (short) srcPort, ByteOrder.BIG_ENDIAN);
    tcp.putShort(TcpHeader.DESTINATION_PORT_OFFSET, (short) dstPort, ByteOrder.BIG_ENDIAN);
    tcp.putInt(TcpHeader.SEQUENCE_OFFSET, (int) seq, ByteOrder.BIG_ENDIAN);
    tcp.putInt(TcpHeader.ACK_OFFSET, (int) ack, ByteOrder.BIG_ENDIAN);
    tcp.putByte(TcpHeader.DATA_OFFSET_OFFSET, (byte) ((headerLength / 4) << 4));
    tcp.putByte(TcpHeader.FLAGS_OFFSET, (byte) tcpFlags);
    tcp.putShort(TcpHeader.WINDOW_OFFSET, (short) window, ByteOrder.BIG_ENDIAN);
    int at = TcpHeader.MIN_LENGTH;
    if (mss >= 0) {
      tcp.putByte(at, (byte) TcpHeader.OPTION_MSS);
      tcp.putByte(at + 1, (byte) 4);
      tcp.putShort(at + 2, (short) mss, ByteOrder.BIG_ENDIAN);
      at += 4;
    }
    tcp.putBytes(at, tcpOptions);
    tcp.putBytes(headerLength, payload);
    int checksum =
        transportChecksum(ipSrc, ipDst, Ipv4Header.PROTOCOL_TCP, tcp, length, badL4Checksum);
    TcpHeader.checksum(tcp, 0, checksum);
    return tcp.byteArray();
  }

  private byte[] icmpMessage(byte[] body) {
    int length = IcmpHeader.LENGTH + body.length;
    UnsafeBuffer icmp = new UnsafeBuffer(new byte[length]);
    IcmpHeader.write(icmp, 0, icmpType, icmpCode, icmpRest);
    icmp.putBytes(IcmpHeader.LENGTH, body);
    IcmpHeader.updateChecksum(icmp, 0, length);
    if (badL4Checksum) {
      int checksum = icmp.getShort(IcmpHeader.CHECKSUM_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
      icmp.putShort(IcmpHeader.CHECKSUM_OFFSET, (short) (checksum ^ 0xFFFF), ByteOrder.BIG_ENDIAN);
    }
    return icmp.byteArray();
  }

  private byte[] arpMessage() {
    UnsafeBuffer arp = new UnsafeBuffer(new byte[ArpPacket.LENGTH]);
    ArpPacket.write(arp, 0, arpOperation, arpSenderMac, arpSenderIp, arpTargetMac, arpTargetIp);
    return arp.byteArray();
  }

  /**
   * The TCP/UDP checksum over the pseudo-header (source, destination, zero, protocol, length) and
   * the segment, whose checksum field must read zero.
   */
  static int transportChecksum(
      int src, int dst, int protocol, UnsafeBuffer segment, int length, boolean bad) {
    long pseudo =
        ((src >>> 16) & 0xFFFF)
            + (src & 0xFFFF)
            + ((dst >>> 16) & 0xFFFF)
            + (dst & 0xFFFF)
            + protocol
            + length;
    int checksum =
        ~InternetChecksum.fold(InternetChecksum.sum(segment, 0, length, pseudo)) & 0xFFFF;
    return bad ? checksum ^ 0xFFFF : checksum;
  }

  // ---- helpers ----

  private PacketBuilder ports(L4 kind, int srcPort, int dstPort) {
    if (l3 != L3.IPV6) {
      requireL3(L3.IPV4, kind.name().toLowerCase(java.util.Locale.ROOT));
    }
    requireL4(L4.NONE, kind.name().toLowerCase(java.util.Locale.ROOT));
    this.l4 = kind;
    this.srcPort = range("srcPort", srcPort, 0xFFFF);
    this.dstPort = range("dstPort", dstPort, 0xFFFF);
    return this;
  }

  private PacketBuilder icmp(L4 kind, int type, int code, int rest) {
    requireL3(L3.IPV4, "icmp");
    requireL4(L4.NONE, "icmp");
    this.l4 = kind;
    this.icmpType = type;
    this.icmpCode = code;
    this.icmpRest = rest;
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

  private void requireL4(L4 wanted, String method) {
    if (l4 != wanted) {
      throw new IllegalStateException(
          method + "() needs " + (wanted == L4.NONE ? "no transport yet" : wanted) + ", not " + l4);
    }
  }

  private static int range(String name, int value, int max) {
    if (value < 0 || value > max) {
      throw new IllegalArgumentException(name + " out of range 0.." + max + ": " + value);
    }
    return value;
  }
}
