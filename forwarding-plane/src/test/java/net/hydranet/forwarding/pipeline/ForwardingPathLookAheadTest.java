package net.hydranet.forwarding.pipeline;

import static net.hydranet.forwarding.element.TestFrames.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.ToIntFunction;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.element.TestFrames;
import net.hydranet.forwarding.table.FlowTable;
import net.hydranet.forwarding.wire.ArpPacket;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.TcpHeader;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * The connection table's look-ahead ({@link ForwardingPath#prefetch}, {@link
 * ForwardingPath#loadPrefetched}) against the per-packet path it must not change: the same frames
 * through two paths, one frame at a time and in look-ahead batches as the pipeline makes them, give
 * the same frames out, byte for byte, and the same counters.
 */
class ForwardingPathLookAheadTest {
  private static final int OTHER = ip(198, 19, 0, 81);
  private static final int[] FLAGS = {
    TcpHeader.FLAG_SYN,
    TcpHeader.FLAG_ACK,
    TcpHeader.FLAG_ACK,
    TcpHeader.FLAG_ACK,
    TcpHeader.FLAG_SYN | TcpHeader.FLAG_ACK,
    TcpHeader.FLAG_FIN | TcpHeader.FLAG_ACK,
    TcpHeader.FLAG_RST
  };

  private final UnsafeBuffer scratch = TestFrames.slot();

  /** One frame of a mixed stream into {@link #scratch}; returns its length. */
  private int frame(Random random) {
    int kind = random.nextInt(10);
    int port = 1_000 + random.nextInt(300); // flows repeat, so the table is hit as well as missed
    int flags = FLAGS[random.nextInt(FLAGS.length)];
    int length =
        switch (kind) {
          case 0, 1, 2, 3 -> tcp(scratch, ORIGIN, port, HTTP, flags, random.nextInt(40));
          case 4 -> tcp(scratch, ORIGIN, port, 8080, flags, 0);
          case 5 -> tcp(scratch, OTHER, port, HTTP, flags, 0);
          case 6 -> ipv4(scratch, CLIENT_IF_MAC, CLIENT, ORIGIN, Ipv4Header.PROTOCOL_UDP, 8, 64, 0);
          case 7 ->
              // A first or a later fragment of a datagram to the service address.
              ipv4(
                  scratch,
                  CLIENT_IF_MAC,
                  CLIENT,
                  ORIGIN,
                  Ipv4Header.PROTOCOL_TCP,
                  24,
                  64,
                  random.nextBoolean() ? Ipv4Header.FLAG_MF : 3);
          case 8 -> echo(scratch, ORIGIN, 64);
          default -> arp(scratch);
        };
    if (random.nextInt(6) == 0) {
      // Corrupt a few bytes anywhere, or cut the frame short.
      for (int k = 1 + random.nextInt(3); k > 0; k--) {
        scratch.putByte(HEADROOM + random.nextInt(length), (byte) random.nextInt(256));
      }
      if (random.nextBoolean()) {
        length = random.nextInt(length + 1);
      }
    }
    return length;
  }

  @Test
  void shouldSendTheSameBytesAndCountTheSameWithAndWithoutLookAhead() {
    Counters plainCounters = new Counters();
    Counters aheadCounters = new Counters();
    List<ForwardingPathTest.Sent> plainSent = new ArrayList<>();
    List<ForwardingPathTest.Sent> aheadSent = new ArrayList<>();
    ForwardingPath plain = ForwardingPathTest.newPath(1500, plainCounters, plainSent);
    ForwardingPath ahead = ForwardingPathTest.newPath(1500, aheadCounters, aheadSent);
    ahead.lookAheadMinFlows(
        1); // a table this small would be skipped: look ahead from its first flow
    int most = Pipeline.LOOK_AHEAD + 4;
    UnsafeBuffer[] plainSlots = new UnsafeBuffer[most];
    UnsafeBuffer[] aheadSlots = new UnsafeBuffer[most];
    for (int j = 0; j < most; j++) {
      plainSlots[j] = TestFrames.slot();
      aheadSlots[j] = TestFrames.slot();
    }
    int[] lengths = new int[most];
    Random random = new Random(41);
    long now = 1_000_000_000L;
    long frames = 0;
    long lines = 0;
    while (frames < 20_000) {
      int batch = 1 + random.nextInt(most);
      for (int j = 0; j < batch; j++) {
        lengths[j] = frame(random);
        plainSlots[j].putBytes(HEADROOM, scratch, HEADROOM, lengths[j]);
        aheadSlots[j].putBytes(HEADROOM, scratch, HEADROOM, lengths[j]);
      }
      // Look-ahead windows over the batch, as Pipeline's forwarding thread takes them.
      for (int from = 0; from < batch; from += Pipeline.LOOK_AHEAD) {
        int to = Math.min(batch, from + Pipeline.LOOK_AHEAD);
        for (int j = from; j < to; j++) {
          ahead.prefetch(aheadSlots[j], HEADROOM, lengths[j]);
        }
        lines += ahead.loadPrefetched();
        for (int j = from; j < to; j++) {
          now += random.nextInt(50_000_000);
          plain.tick(now);
          plain.process(plainSlots[j], HEADROOM, lengths[j], CLIENT_IF);
          ahead.tick(now);
          ahead.process(aheadSlots[j], HEADROOM, lengths[j], CLIENT_IF);
          frames++;
        }
      }
      plain.flush();
      ahead.flush();
    }
    assertEquals(plainSent.size(), aheadSent.size(), "frames sent");
    for (int i = 0; i < plainSent.size(); i++) {
      assertEquals(plainSent.get(i).port(), aheadSent.get(i).port(), "port of frame " + i);
      assertArrayEquals(
          bytes(plainSent.get(i).frame()), bytes(aheadSent.get(i).frame()), "frame " + i);
    }
    for (Counter c : Counter.values()) {
      assertEquals(plainCounters.get(c), aheadCounters.get(c), c.name());
    }
    assertEquals(frames, aheadCounters.get(Counter.RX_FRAMES));
    assertEquals(aheadCounters.get(Counter.RX_FRAMES), aheadCounters.outcomes());
    assertEquals(plain.flows().size(), ahead.flows().size());
    assertTrue(aheadCounters.get(Counter.REDIRECTED) > 1_000, "the stream redirects");
    assertTrue(aheadCounters.get(Counter.FLOWS_CREATED) > 100, "the stream records flows");
    assertTrue(lines > frames / 4 && lines < frames, "lines read ahead: " + lines);
  }

  /** A frame written into a slot, and how many table lines the look-ahead must read for it. */
  private record Case(String name, ToIntFunction<UnsafeBuffer> write, int lines) {}

  @Test
  void shouldReadAheadTheLineOfEveryFrameThatWillProbeTheTableAndNoOther() {
    int ack = TcpHeader.FLAG_ACK;
    // Probes: TCP to a service address (a first fragment too), UDP to a service (this table has
    // none); a SYN, FIN or RST to any other address (pinned to the origin, or its pin closed).
    List<Case> cases =
        List.of(
            new Case("data to the service", s -> tcp(s, ORIGIN, 1_000, HTTP, ack, 0), 1),
            new Case("data to the service address", s -> tcp(s, ORIGIN, 1_000, 8080, ack, 0), 1),
            new Case("UDP to the service address, no UDP service", s -> udp(s, ORIGIN), 0),
            new Case("VLAN-tagged data to the service", ForwardingPathLookAheadTest::vlan, 1),
            new Case("first fragment", s -> fragment(s, Ipv4Header.FLAG_MF), 1),
            new Case("SYN elsewhere", s -> tcp(s, OTHER, 1_000, HTTP, TcpHeader.FLAG_SYN, 0), 1),
            new Case("RST elsewhere", s -> tcp(s, OTHER, 1_000, HTTP, TcpHeader.FLAG_RST, 0), 1),
            new Case("FIN elsewhere", s -> tcp(s, OTHER, 1, HTTP, TcpHeader.FLAG_FIN | ack, 0), 1),
            new Case("data elsewhere", s -> tcp(s, OTHER, 1_000, HTTP, ack, 0), 0),
            new Case("UDP elsewhere", s -> udp(s, OTHER), 0),
            new Case("later fragment", s -> fragment(s, 3), 0),
            new Case("echo to the service address", s -> echo(s, ORIGIN, 64), 0),
            new Case("ARP", ForwardingPathLookAheadTest::arp, 0),
            new Case(
                "ports cut off",
                s -> {
                  tcp(s, ORIGIN, 1_000, HTTP, ack, 0);
                  return EthernetHeader.LENGTH + Ipv4Header.MIN_LENGTH + 3;
                },
                0),
            new Case(
                "IP version 5",
                s -> {
                  int length = tcp(s, ORIGIN, 1_000, HTTP, ack, 0);
                  s.putByte(ipOffset(), (byte) 0x55);
                  return length;
                },
                0),
            new Case("link header cut off", s -> 13, 0));
    ForwardingPath path = ForwardingPathTest.newPath(1500, new Counters(), new ArrayList<>());
    UnsafeBuffer slot = TestFrames.slot();
    // An empty table, or one small enough to stay in cache, is not looked ahead in.
    path.prefetch(slot, HEADROOM, tcp(slot, ORIGIN, 1_000, HTTP, ack, 0));
    assertEquals(0, path.loadPrefetched(), "an empty table");
    path.process(slot, HEADROOM, tcp(slot, ORIGIN, 1_000, HTTP, TcpHeader.FLAG_SYN, 0), CLIENT_IF);
    assertEquals(1, path.flows().size());
    path.prefetch(slot, HEADROOM, tcp(slot, ORIGIN, 1_000, HTTP, ack, 0));
    assertEquals(0, path.loadPrefetched(), "one flow, below the threshold");
    path.lookAheadMinFlows(1);
    for (Case c : cases) {
      path.prefetch(slot, HEADROOM, c.write().applyAsInt(slot));
      assertEquals(c.lines(), path.loadPrefetched(), c.name());
    }
    // More than one pass notes: the rest are skipped, not an error.
    int length = tcp(slot, ORIGIN, 1_000, HTTP, ack, 0);
    for (int i = 0; i < 40; i++) {
      path.prefetch(slot, HEADROOM, length);
    }
    assertEquals(FlowTable.PREFETCH_MAX, path.loadPrefetched());
    assertEquals(0, path.loadPrefetched(), "nothing noted since");
  }

  private static int udp(UnsafeBuffer slot, int destination) {
    return ipv4(slot, CLIENT_IF_MAC, CLIENT, destination, Ipv4Header.PROTOCOL_UDP, 8, 64, 0);
  }

  private static int fragment(UnsafeBuffer slot, int flagsFragment) {
    return ipv4(
        slot, CLIENT_IF_MAC, CLIENT, ORIGIN, Ipv4Header.PROTOCOL_TCP, 24, 64, flagsFragment);
  }

  /** TCP data to the service behind an 802.1Q tag. */
  private static int vlan(UnsafeBuffer slot) {
    UnsafeBuffer untagged = TestFrames.slot();
    int length = tcp(untagged, ORIGIN, 1_000, HTTP, TcpHeader.FLAG_ACK, 0);
    slot.putBytes(HEADROOM, untagged, HEADROOM, 12);
    slot.putShort(HEADROOM + 12, (short) EthernetHeader.TYPE_VLAN, ByteOrder.BIG_ENDIAN);
    slot.putShort(HEADROOM + 14, (short) 5, ByteOrder.BIG_ENDIAN);
    slot.putBytes(HEADROOM + 16, untagged, HEADROOM + 12, length - 12);
    return length + 4;
  }

  private static int arp(UnsafeBuffer slot) {
    EthernetHeader.write(
        slot, HEADROOM, EthernetHeader.BROADCAST, CLIENT_MAC, EthernetHeader.TYPE_ARP);
    ArpPacket.write(
        slot,
        HEADROOM + EthernetHeader.LENGTH,
        ArpPacket.OPERATION_REQUEST,
        CLIENT_MAC,
        CLIENT,
        0,
        CLIENT_IF_IP);
    return EthernetHeader.LENGTH + ArpPacket.LENGTH;
  }

  private static byte[] bytes(UnsafeBuffer frame) {
    byte[] copy = new byte[frame.capacity()];
    frame.getBytes(0, copy);
    return copy;
  }
}
