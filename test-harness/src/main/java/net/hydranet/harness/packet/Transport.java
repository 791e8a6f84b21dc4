package net.hydranet.harness.packet;

import java.nio.ByteOrder;
import net.hydranet.forwarding.wire.IcmpHeader;
import net.hydranet.forwarding.wire.Icmpv6Header;
import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.forwarding.wire.TcpHeader;
import net.hydranet.forwarding.wire.UdpHeader;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The transport part of a {@link PacketBuilder} frame — UDP, TCP, ICMP, ICMPv6 or a raw IP payload
 * — and how each is written, checksums included (UDP and TCP over the RFC 768 / RFC 793 §3.1 IPv4
 * pseudo-header, ICMP per RFC 792; an IPv6 packet recomputes them over its own, see {@link
 * Ipv6Part}).
 */
final class Transport {
  enum Kind {
    NONE,
    UDP,
    TCP,
    ICMP_ECHO,
    ICMP_ERROR,
    RAW,
    ICMPV6_ECHO,
    ICMPV6_ERROR
  }

  Kind kind = Kind.NONE;
  int srcPort;
  int dstPort;
  int tcpFlags = TcpHeader.FLAG_ACK;
  long seq;
  long ack;
  int window = 65535;
  int mss = -1;
  byte[] tcpOptions = new byte[0];
  int icmpType;
  int icmpCode;
  int icmpRest;
  byte[] icmpQuoted = new byte[0];
  byte[] ipPayload = new byte[0];
  byte[] payload = new byte[0];
  boolean badChecksum;

  /**
   * The transport's bytes; UDP and TCP checksummed over an IPv4 pseudo-header of these addresses.
   */
  byte[] encode(int ipSrc, int ipDst) {
    return switch (kind) {
      case UDP -> udpDatagram(ipSrc, ipDst);
      case TCP -> tcpSegment(ipSrc, ipDst);
      case ICMP_ECHO -> icmpMessage(payload);
      case ICMP_ERROR -> icmpMessage(icmpQuoted);
      case ICMPV6_ECHO -> icmpMessage(payload);
      case ICMPV6_ERROR -> icmpMessage(icmpQuoted);
      case RAW -> ipPayload;
      case NONE -> payload;
    };
  }

  /** The IPv4 protocol field for this transport (IP-in-IP for raw bytes or none). */
  int ipv4Protocol() {
    return switch (kind) {
      case UDP -> Ipv4Header.PROTOCOL_UDP;
      case TCP -> Ipv4Header.PROTOCOL_TCP;
      case ICMP_ECHO, ICMP_ERROR -> Ipv4Header.PROTOCOL_ICMP;
      case ICMPV6_ECHO, ICMPV6_ERROR -> Ipv6Header.NEXT_HEADER_ICMPV6;
      case RAW, NONE -> Ipv4Header.PROTOCOL_IPIP;
    };
  }

  /** The IPv6 next-header value for this transport (no next header for raw bytes or none). */
  int ipv6NextHeader() {
    return switch (kind) {
      case UDP -> Ipv6Header.NEXT_HEADER_UDP;
      case TCP -> Ipv6Header.NEXT_HEADER_TCP;
      case ICMPV6_ECHO, ICMPV6_ERROR -> Ipv6Header.NEXT_HEADER_ICMPV6;
      default -> Ipv6Header.NEXT_HEADER_NONE;
    };
  }

  /** Where the checksum an IPv6 packet recomputes sits in the transport, or -1 for none. */
  int ipv6ChecksumOffset() {
    return switch (kind) {
      case UDP -> UdpHeader.CHECKSUM_OFFSET;
      case TCP -> TcpHeader.CHECKSUM_OFFSET;
      case ICMPV6_ECHO, ICMPV6_ERROR -> Icmpv6Header.CHECKSUM_OFFSET;
      default -> -1;
    };
  }

  private byte[] udpDatagram(int ipSrc, int ipDst) {
    int length = UdpHeader.LENGTH + payload.length;
    UnsafeBuffer udp = new UnsafeBuffer(new byte[length]);
    udp.putShort(UdpHeader.SOURCE_PORT_OFFSET, (short) srcPort, ByteOrder.BIG_ENDIAN);
    udp.putShort(UdpHeader.DESTINATION_PORT_OFFSET, (short) dstPort, ByteOrder.BIG_ENDIAN);
    udp.putShort(UdpHeader.LENGTH_OFFSET, (short) length, ByteOrder.BIG_ENDIAN);
    udp.putBytes(UdpHeader.LENGTH, payload);
    int checksum =
        transportChecksum(ipSrc, ipDst, Ipv4Header.PROTOCOL_UDP, udp, length, badChecksum);
    // RFC 768: a computed zero is sent as all ones, since zero means "no checksum".
    if (checksum == 0) {
      checksum = 0xFFFF;
    }
    udp.putShort(UdpHeader.CHECKSUM_OFFSET, (short) checksum, ByteOrder.BIG_ENDIAN);
    return udp.byteArray();
  }

  private byte[] tcpSegment(int ipSrc, int ipDst) {
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
        transportChecksum(ipSrc, ipDst, Ipv4Header.PROTOCOL_TCP, tcp, length, badChecksum);
    TcpHeader.checksum(tcp, 0, checksum);
    return tcp.byteArray();
  }

  private byte[] icmpMessage(byte[] body) {
    int length = IcmpHeader.LENGTH + body.length;
    UnsafeBuffer icmp = new UnsafeBuffer(new byte[length]);
    IcmpHeader.write(icmp, 0, icmpType, icmpCode, icmpRest);
    icmp.putBytes(IcmpHeader.LENGTH, body);
    IcmpHeader.updateChecksum(icmp, 0, length);
    if (badChecksum) {
      int checksum = icmp.getShort(IcmpHeader.CHECKSUM_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
      icmp.putShort(IcmpHeader.CHECKSUM_OFFSET, (short) (checksum ^ 0xFFFF), ByteOrder.BIG_ENDIAN);
    }
    return icmp.byteArray();
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
}
