package net.hydranet.forwarding.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.Arrays;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Coverage-guided fuzzing of the IPv6 readers and the error builder (FUZZING.md). Beside "no
 * exception": every offset a walk reports lies inside the frame; an error built about any packet is
 * at most 1280 bytes, has a valid ICMPv6 checksum and quotes the packet's own first bytes; an ND
 * message that passes validation has hop limit 255 and a checksum that verifies.
 */
class Ipv6WireFuzzTest {
  private static final int ETH = EthernetHeader.LENGTH;
  private static final int[] KINDS = {0, 43, 44, 51, 60, 6, 17, 58, 59, 50};
  private final Ipv6HeaderChain chain = new Ipv6HeaderChain();
  private final UnsafeBuffer error = new UnsafeBuffer(new byte[2048]);

  /** Any bytes after an Ethernet header. */
  @FuzzTest
  void ipv6Packet(byte[] bytes) {
    byte[] frame = new byte[ETH + bytes.length];
    System.arraycopy(bytes, 0, frame, ETH, bytes.length);
    check(frame);
  }

  /** A chain of extension headers chosen by the fuzzer, with lengths and a payload it picks. */
  @FuzzTest
  void ipv6Chain(FuzzedDataProvider data) {
    int count = data.consumeInt(0, 9);
    byte[] frame = new byte[ETH + Ipv6Header.LENGTH + 1600];
    UnsafeBuffer b = new UnsafeBuffer(frame);
    int at = ETH + Ipv6Header.LENGTH;
    int first = data.pickValue(KINDS);
    int kind = first;
    for (int i = 0; i < count && at + 16 < frame.length - 64; i++) {
      int next = data.pickValue(KINDS);
      int units = data.consumeInt(0, 3);
      frame[at] = (byte) next;
      frame[at + 1] = (byte) units;
      if (kind == 44) {
        Ipv6FragmentHeader.write(
            b, at, next, data.consumeInt(0, 8191) << 3, data.consumeBoolean(), data.consumeInt());
      }
      at += kind == 44 ? 8 : kind == 51 ? (units + 2) * 4 : (units + 1) * 8;
      kind = next;
    }
    byte[] rest = data.consumeBytes(Math.min(200, frame.length - at));
    System.arraycopy(rest, 0, frame, at, rest.length);
    at += rest.length;
    int payload = data.consumeBoolean() ? at - ETH - Ipv6Header.LENGTH : data.consumeInt(0, 2000);
    Ipv6Header.write(
        b,
        ETH,
        0,
        0,
        payload,
        first,
        data.consumeInt(0, 255),
        data.consumeLong(),
        data.consumeLong(),
        data.consumeLong(),
        data.consumeLong());
    check(Arrays.copyOf(frame, Math.max(ETH, Math.min(frame.length, at + data.consumeInt(-8, 8)))));
  }

  private void check(byte[] frame) {
    assertEquals(1, Ipv6WireProperties.exercise(frame, frame.length));
    UnsafeBuffer b = new UnsafeBuffer(frame);
    if (chain.walk(b, ETH, frame.length - ETH) != Ipv6HeaderChain.OK) {
      return;
    }
    int invokingLength = chain.payloadEnd() - ETH;
    int length =
        Icmpv6Header.writeError(
            error,
            0,
            Icmpv6Header.TYPE_PARAMETER_PROBLEM,
            0,
            6,
            64,
            0,
            1,
            2,
            b,
            ETH,
            invokingLength);
    assertTrue(length <= Icmpv6Header.MAX_ERROR_PACKET);
    assertTrue(
        Icmpv6Header.verifyChecksum(error, 0, Ipv6Header.LENGTH, length - Ipv6Header.LENGTH));
    int quoted = length - Ipv6Header.LENGTH - Icmpv6Header.LENGTH;
    assertEquals(Math.min(invokingLength, 1280 - 48), quoted);
    assertArrayEquals(
        Arrays.copyOfRange(frame, ETH, ETH + quoted),
        Arrays.copyOfRange(error.byteArray(), 48, 48 + quoted));
    if (chain.upperLayerProtocol() == Ipv6Header.NEXT_HEADER_ICMPV6
        && chain.hasUpperLayerHeader(b)
        && NeighbourDiscovery.validate(b, ETH, chain.upperLayerOffset(), chain.upperLayerLength())
            == NeighbourDiscovery.VALID) {
      assertEquals(NeighbourDiscovery.HOP_LIMIT, Ipv6Header.hopLimit(b, ETH));
      assertTrue(
          Icmpv6Header.verifyChecksum(b, ETH, chain.upperLayerOffset(), chain.upperLayerLength()));
    }
  }
}
