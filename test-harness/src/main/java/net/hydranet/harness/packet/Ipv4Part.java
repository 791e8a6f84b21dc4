package net.hydranet.harness.packet;

import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The IPv4 header of a {@link PacketBuilder} frame: its fields, their checks, and the datagram
 * written around a transport with the header checksum per RFC 791 §3.1 (or deliberately wrong).
 */
final class Ipv4Part {
  int src;
  int dst;
  int ttl = 64;
  int id;
  boolean dontFragment;
  boolean moreFragments;
  int fragmentOffsetBytes;
  int tos;
  byte[] options = new byte[0];
  int protocolOverride = -1;
  boolean badChecksum;
  int ihlOverride = -1;
  int totalLengthOverride = -1;

  void fragmentOffset(int bytes) {
    if (bytes < 0 || bytes % 8 != 0 || bytes / 8 > Ipv4Header.FRAGMENT_OFFSET_MASK) {
      throw new IllegalArgumentException("fragment offset must be a multiple of 8: " + bytes);
    }
    this.fragmentOffsetBytes = bytes;
  }

  void options(byte[] options) {
    if (options.length % 4 != 0 || options.length > Ipv4Header.MAX_LENGTH - Ipv4Header.MIN_LENGTH) {
      throw new IllegalArgumentException(
          "IPv4 options must be a multiple of 4 bytes, at most 40: " + options.length);
    }
    this.options = options.clone();
  }

  /** The datagram: this header, then {@code l4Bytes}; {@code protocol} unless overridden. */
  byte[] datagram(byte[] l4Bytes, int protocol) {
    int headerLength = Ipv4Header.MIN_LENGTH + options.length;
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
        protocolOverride >= 0 ? protocolOverride : protocol,
        src,
        dst);
    int ihl = ihlOverride >= 0 ? ihlOverride : headerLength / 4;
    ip.putByte(Ipv4Header.VERSION_IHL_OFFSET, (byte) (0x40 | ihl));
    ip.putBytes(Ipv4Header.MIN_LENGTH, options);
    // Over the bytes built as the header, not IHL × 4: an IHL override must not move the checksum.
    Ipv4Header.checksum(ip, 0, 0);
    int checksum = InternetChecksum.checksum(ip, 0, headerLength);
    Ipv4Header.checksum(ip, 0, badChecksum ? checksum ^ 0xFFFF : checksum);
    ip.putBytes(headerLength, l4Bytes);
    return ip.byteArray();
  }
}
