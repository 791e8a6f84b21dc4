package net.hydranet.harness.packet;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import net.hydranet.forwarding.wire.Ipv6FragmentHeader;
import net.hydranet.forwarding.wire.Ipv6Header;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The IPv6 header of a {@link PacketBuilder} frame (RFC 8200): its fields, the extension headers in
 * the order added, and the packet written around a transport whose checksum is recomputed over the
 * IPv6 pseudo-header (§8.1).
 */
final class Ipv6Part {
  long srcHigh;
  long srcLow;
  long dstHigh;
  long dstLow;
  int hopLimit = 64;
  int flowLabel;
  int trafficClass;
  private final List<byte[]> extensionHeaders = new ArrayList<>();
  private final List<Integer> extensionKinds = new ArrayList<>();
  int nextHeaderOverride = -1;
  int payloadLengthOverride = -1;

  /** See {@link PacketBuilder#extensionHeader}. */
  void extensionHeader(int kind, int length) {
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
  }

  /** A fragment header (RFC 8200 §4.5); the offset in bytes, a multiple of 8. */
  void fragment(int offsetBytes, boolean more, int identification) {
    if (offsetBytes < 0 || offsetBytes % 8 != 0 || offsetBytes > 0xFFF8) {
      throw new IllegalArgumentException("fragment offset must be a multiple of 8: " + offsetBytes);
    }
    UnsafeBuffer h = new UnsafeBuffer(new byte[Ipv6FragmentHeader.LENGTH]);
    Ipv6FragmentHeader.write(h, 0, 0, offsetBytes, more, identification);
    extensionKinds.add(Ipv6Header.NEXT_HEADER_FRAGMENT);
    extensionHeaders.add(h.byteArray());
  }

  /**
   * The IPv6 packet: fixed header, the extension headers chained in the order added, and the
   * transport, whose checksum is computed over the IPv6 pseudo-header (RFC 8200 §8.1).
   */
  byte[] packet(byte[] l4Bytes, Transport transport) {
    int extensionLength = 0;
    for (byte[] h : extensionHeaders) {
      extensionLength += h.length;
    }
    int payloadLength = extensionLength + l4Bytes.length;
    if (payloadLength > 0xFFFF) {
      throw new IllegalStateException("IPv6 payload longer than 65535 bytes: " + payloadLength);
    }
    int upperProtocol = transport.ipv6NextHeader();
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
        srcHigh,
        srcLow,
        dstHigh,
        dstLow);
    int at = Ipv6Header.LENGTH;
    for (int i = 0; i < extensionHeaders.size(); i++) {
      byte[] h = extensionHeaders.get(i).clone();
      h[0] = (byte) (i + 1 < extensionKinds.size() ? extensionKinds.get(i + 1) : upper);
      ip.putBytes(at, h);
      at += h.length;
    }
    ip.putBytes(at, l4Bytes);
    int checksumOffset = transport.ipv6ChecksumOffset();
    if (checksumOffset >= 0) {
      ip.putShort(at + checksumOffset, (short) 0);
      int checksum = Ipv6Header.upperLayerChecksum(ip, 0, at, l4Bytes.length, upperProtocol);
      if (transport.kind == Transport.Kind.UDP && checksum == 0) {
        checksum = 0xFFFF; // zero means "no checksum", which IPv6 forbids (RFC 8200 §8.1)
      }
      ip.putShort(
          at + checksumOffset,
          (short) (transport.badChecksum ? checksum ^ 0xFFFF : checksum),
          ByteOrder.BIG_ENDIAN);
    }
    return ip.byteArray();
  }
}
