package net.hydranet.forwarding.wire;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Runs every IPv6 reader over a frame cut to {@code length} bytes, in a buffer exactly that long so
 * that any read past the end throws: the readers must answer with a verdict instead, and whatever
 * offset they report must lie inside the frame.
 */
final class Ipv6WireProperties {
  private static final int ETH = EthernetHeader.LENGTH;
  private static final Ipv6HeaderChain CHAIN = new Ipv6HeaderChain();
  private static final UnsafeBuffer OUT = new UnsafeBuffer(new byte[2048]);

  private Ipv6WireProperties() {}

  /** Returns 1 when the cut was exercised, 0 when it is too short to hold an Ethernet header. */
  static int exercise(byte[] frame, int length) {
    if (length < ETH) {
      return 0;
    }
    UnsafeBuffer b = new UnsafeBuffer(Arrays.copyOf(frame, length));
    int verdict = CHAIN.walk(b, ETH, length - ETH);
    if (verdict != Ipv6HeaderChain.OK) {
      int pointer = CHAIN.problemPointer();
      assertTrue(pointer == Ipv6HeaderChain.NONE || (pointer >= 0 && pointer < length - ETH));
      return 1;
    }
    int end = CHAIN.payloadEnd();
    int upper = CHAIN.upperLayerOffset();
    assertTrue(end <= length && upper >= ETH + Ipv6Header.LENGTH && upper <= end, "offsets");
    int upperLength = CHAIN.upperLayerLength();
    boolean hasHeader = CHAIN.hasUpperLayerHeader(b);
    if (CHAIN.isFragment()) {
      assertTrue(CHAIN.fragmentHeaderOffset() + Ipv6FragmentHeader.LENGTH <= end);
    }
    int protocol = CHAIN.upperLayerProtocol();
    Ipv6Header.verifyUpperLayer(b, ETH, upper, upperLength, protocol);
    if (protocol == Ipv6Header.NEXT_HEADER_ICMPV6 && hasHeader) {
      boolean error = Icmpv6Header.isErrorOrRedirect(b, CHAIN);
      Icmpv6Header.mayReplyTo(b, ETH, Icmpv6Header.TYPE_TIME_EXCEEDED, 0, error);
      NeighbourDiscovery.validate(b, ETH, upper, upperLength);
      NeighbourDiscovery.linkLayerAddress(
          b, upper, upperLength, NeighbourDiscovery.OPTION_SOURCE_LINK_LAYER);
      NeighbourDiscovery.linkLayerAddress(
          b, upper, upperLength, NeighbourDiscovery.OPTION_TARGET_LINK_LAYER);
      NeighbourDiscovery.mtuOption(b, upper, upperLength);
    }
    int written =
        Icmpv6Header.writeError(
            OUT, 0, Icmpv6Header.TYPE_PACKET_TOO_BIG, 0, 1280, 64, 0, 1, 2, b, ETH, end - ETH);
    assertTrue(written <= Icmpv6Header.MAX_ERROR_PACKET);
    return 1;
  }
}
