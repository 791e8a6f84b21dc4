package net.hydranet.forwarding;

import static net.hydranet.forwarding.element.TestFrames.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.lmax.disruptor.BlockingWaitStrategy;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import net.hydranet.forwarding.config.ForwardingContext;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.element.TestFrames;
import net.hydranet.forwarding.element.TestFrames6;
import net.hydranet.forwarding.io.FrameSource;
import net.hydranet.forwarding.io.TxPort;
import net.hydranet.forwarding.pipeline.Pipeline;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.wire.ArpPacket;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.forwarding.wire.NeighbourDiscovery;
import net.hydranet.forwarding.wire.TcpHeader;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Two pipelines in one plane: each has its own path, counters and ports; a change made while they
 * run reaches both replicas of the tables; counters and per-service counts add up; commands are
 * counted once.
 */
@Timeout(30)
class ForwardingPlanePipelinesTest {
  private final List<List<Integer>> sentBy =
      List.of(new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>());
  private final List<List<Long>> macsBy =
      List.of(new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>());

  private ForwardingPlane plane(boolean gatewayKnown) {
    ForwardingPlane plane = new ForwardingPlane(TestFrames.context(1500).pipelines(2), ports());
    plane.addRoute(ip(198, 19, 0, 0), 16, GATEWAY, CORE_IF);
    plane.addNeighbour(CLIENT, CLIENT_MAC, CLIENT_IF);
    if (gatewayKnown) {
      plane.addNeighbour(GATEWAY, GATEWAY_MAC, CORE_IF);
    }
    plane.addNeighbour(HOST_SERVER, HOST_SERVER_MAC, HS_IF);
    return plane;
  }

  private TxPort[][] ports() {
    TxPort[][] ports = new TxPort[2][];
    for (int p = 0; p < 2; p++) {
      ports[p] = new TxPort[3];
      for (int i = 0; i < 3; i++) {
        ports[p][i] = new Recording(sentBy.get(p), macsBy.get(p), i);
      }
    }
    return ports;
  }

  @Test
  void shouldRunTwoPipelinesOverReplicatedTables() throws Exception {
    ForwardingPlane plane = plane(true);
    assertEquals(2, plane.pipelines());

    Queued[] sources = {new Queued(), new Queued()};
    plane.start(
        new FrameSource[][] {{sources[0]}, {sources[1]}},
        Pipeline.Clock.LIVE,
        BlockingWaitStrategy::new,
        null);
    try {
      // Made while both run: each pipeline's replica gets it.
      plane.addRedirect(
          ORIGIN, Ipv4Header.PROTOCOL_TCP, HTTP, new int[] {HOST_SERVER}, new int[] {1});
      // A bad one fails once, not once per pipeline.
      plane.addRedirect(ORIGIN, Ipv4Header.PROTOCOL_TCP, 81, new int[] {HOST_SERVER}, new int[0]);
      UnsafeBuffer slot = TestFrames.slot();
      sources[0].add(slot, tcp(slot, ORIGIN, 40_000, HTTP, TcpHeader.FLAG_SYN, 0));
      sources[1].add(slot, tcp(slot, ORIGIN, 40_001, HTTP, TcpHeader.FLAG_SYN, 0));
      for (int i = 0; i < 3; i++) {
        sources[1].add(slot, tcp(slot, ORIGIN, 40_100 + i, 8080, TcpHeader.FLAG_ACK, 10));
      }
      Counters all = plane.counters();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (all.get(Counter.RX_FRAMES) < 5 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }

      assertEquals(5, all.get(Counter.RX_FRAMES));
      assertEquals(1, plane.counters(0).get(Counter.REDIRECTED), "pipeline 0's replica");
      assertEquals(1, plane.counters(1).get(Counter.REDIRECTED), "pipeline 1's replica");
      assertEquals(3, plane.counters(1).get(Counter.FORWARDED));
      assertEquals(2, all.get(Counter.REDIRECTED));
      assertEquals(3, all.get(Counter.FORWARDED));
      assertEquals(all.get(Counter.RX_FRAMES), all.outcomes());
      assertEquals(List.of(HS_IF), sentBy.get(0), "each pipeline sends on its own ports");
      assertEquals(List.of(HS_IF, CORE_IF, CORE_IF, CORE_IF), sentBy.get(1));
      // 4 before start, 2 redirects after it: each counted once.
      assertEquals(6, all.get(Counter.COMMANDS_APPLIED) + all.get(Counter.COMMANDS_FAILED));
      assertEquals(1, all.get(Counter.COMMANDS_FAILED));
      assertNotNull(plane.lastCommandError());

      int service = on(plane, 0, p -> p.redirects().lookup(ORIGIN, Ipv4Header.PROTOCOL_TCP, HTTP));
      assertTrue(service != RedirectorTable.NOT_FOUND);
      assertEquals(
          service,
          (int) on(plane, 1, p -> p.redirects(1).lookup(ORIGIN, Ipv4Header.PROTOCOL_TCP, HTTP)),
          "the same index in both replicas");
      assertEquals(2, plane.servicePackets(service));
      assertEquals(2, plane.targetPackets(service, 0));
      assertEquals(1, (int) on(plane, 0, p -> p.path(0).flows().size()));
      assertEquals(1, (int) on(plane, 1, p -> p.path(1).flows().size()));
    } finally {
      plane.close();
    }
    assertTrue(plane.awaitEnd(1_000));
  }

  @Test
  void shouldReleaseAFrameHeldForANeighbourThatAnotherPipelineLearned() throws Exception {
    ForwardingPlane plane = plane(false);
    Queued[] sources = {new Queued(), new Queued()};
    plane.start(
        new FrameSource[][] {{sources[0]}, {sources[1]}},
        Pipeline.Clock.LIVE,
        BlockingWaitStrategy::new,
        null);
    try {
      UnsafeBuffer slot = TestFrames.slot();
      // Pipeline 1 must forward via the gateway, whose MAC it does not know: it holds the frame
      // and asks.
      sources[1].add(slot, tcp(slot, ORIGIN, 40_000, 8080, TcpHeader.FLAG_ACK, 10), CLIENT_IF);
      await(() -> sentBy.get(1).size() == 1);
      assertEquals(CORE_IF, sentBy.get(1).get(0));
      assertEquals(EthernetHeader.BROADCAST, macsBy.get(1).get(0), "an ARP request");
      // The answer, as the fanout may hand it: to pipeline 0.
      int frame = HEADROOM;
      EthernetHeader.write(slot, frame, CORE_IF_MAC, GATEWAY_MAC, EthernetHeader.TYPE_ARP);
      ArpPacket.write(
          slot,
          frame + EthernetHeader.LENGTH,
          ArpPacket.OPERATION_REPLY,
          GATEWAY_MAC,
          GATEWAY,
          CORE_IF_MAC,
          CORE_IF_IP);
      sources[0].add(slot, EthernetHeader.LENGTH + ArpPacket.LENGTH, CORE_IF);
      await(() -> sentBy.get(1).size() == 2);
      assertEquals(CORE_IF, sentBy.get(1).get(1), "pipeline 1 sent the frame it held");
      assertEquals(GATEWAY_MAC, macsBy.get(1).get(1), "to the MAC pipeline 0 learned");
      assertEquals(1, plane.counters(0).get(Counter.ARP_REPLIES_RECEIVED));
      assertEquals(List.of(), sentBy.get(0), "pipeline 0 learned, and sent nothing");
    } finally {
      plane.close();
    }
  }

  @Test
  void shouldShareWhatOnePipelineHearsByNeighbourDiscovery() throws Exception {
    ForwardingPlane plane = new ForwardingPlane(TestFrames6.context(1500).pipelines(2), ports());
    Queued[] sources = {new Queued(), new Queued()};
    plane.start(
        new FrameSource[][] {{sources[0]}, {sources[1]}},
        Pipeline.Clock.LIVE,
        BlockingWaitStrategy::new,
        null);
    try {
      UnsafeBuffer slot = TestFrames.slot();
      long asked = 0x99;
      long askedMac = 0x02_00_00_00_00_99L;
      // Pipeline 1 must forward to a neighbour on hs0 it does not know: it holds the frame and
      // solicits.
      sources[1].add(
          slot, TestFrames6.tcp(slot, TestFrames6.HS_NET, asked, 40_000, 8080, 0x10, 0, 10, 64));
      await(() -> sentBy.get(1).size() == 1);
      assertEquals(HS_IF, sentBy.get(1).get(0));
      assertEquals(0x3333_FF00_0099L, macsBy.get(1).get(0), "a solicitation");
      // The answer, as the fanout (or the interface's own pipeline) may hand it: to pipeline 0,
      // which did not ask.
      EthernetHeader.write(slot, HEADROOM, HS_IF_MAC, askedMac, EthernetHeader.TYPE_IPV6);
      int na =
          NeighbourDiscovery.writeNeighbourAdvertisement(
              slot,
              TestFrames6.ipOffset(),
              TestFrames6.HS_NET,
              asked,
              TestFrames6.HS_NET,
              1,
              TestFrames6.HS_NET,
              asked,
              NeighbourDiscovery.NA_FLAG_SOLICITED | NeighbourDiscovery.NA_FLAG_OVERRIDE,
              askedMac);
      sources[0].add(slot, EthernetHeader.LENGTH + na, HS_IF);
      await(() -> sentBy.get(1).size() == 2);
      assertEquals(HS_IF, sentBy.get(1).get(1), "pipeline 1 sent the frame it held");
      assertEquals(askedMac, macsBy.get(1).get(1), "to the MAC pipeline 0 heard");
      assertEquals(1, plane.counters(0).get(Counter.ND_ADVERTISEMENTS_RECEIVED));
      assertEquals(List.of(), sentBy.get(0), "pipeline 0 sent nothing");
      assertEquals(
          -1L,
          (long) on(plane, 0, p -> p.neighbours6().macOf(TestFrames6.HS_NET, asked)),
          "an advertisement creates no entry where none was asked for");

      // A solicitation heard by pipeline 1 teaches pipeline 0 its sender.
      long solicitor = 0x77;
      long solicitorMac = 0x02_00_00_00_00_77L;
      EthernetHeader.write(
          slot,
          HEADROOM,
          Ipv6Header.multicastMac(Ipv6Header.solicitedNodeLow(1)),
          solicitorMac,
          EthernetHeader.TYPE_IPV6);
      int ns =
          NeighbourDiscovery.writeNeighbourSolicitation(
              slot,
              TestFrames6.ipOffset(),
              TestFrames6.HS_NET,
              solicitor,
              Ipv6Header.solicitedNodeHigh(),
              Ipv6Header.solicitedNodeLow(1),
              TestFrames6.HS_NET,
              1,
              solicitorMac);
      sources[1].add(slot, EthernetHeader.LENGTH + ns, HS_IF);
      await(() -> sentBy.get(1).size() == 3);
      assertEquals(solicitorMac, macsBy.get(1).get(2), "pipeline 1 answered it");
      sources[0].add(
          slot,
          TestFrames6.tcp(slot, TestFrames6.HS_NET, solicitor, 40_001, 8080, 0x10, 0, 10, 64));
      await(() -> !sentBy.get(0).isEmpty());
      assertEquals(HS_IF, sentBy.get(0).get(0));
      assertEquals(solicitorMac, macsBy.get(0).get(0), "pipeline 0 knew the solicitor's MAC");
    } finally {
      plane.close();
    }
  }

  private static void await(java.util.function.BooleanSupplier condition) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertTrue(condition.getAsBoolean(), "in time");
  }

  @Test
  void shouldAddThePartsOfASum() {
    Counters a = new Counters();
    Counters b = new Counters();
    a.add(Counter.RX_FRAMES, 3);
    b.add(Counter.RX_FRAMES, 4);
    b.increment(Counter.DROP_NO_ROUTE);
    Counters sum = Counters.sum(a, b);
    assertEquals(7, sum.get(Counter.RX_FRAMES));
    assertEquals(1, sum.drops());
    a.increment(Counter.RX_FRAMES);
    assertEquals(8, sum.get(Counter.RX_FRAMES), "read at the time of asking");
    assertThrows(IllegalArgumentException.class, () -> Counters.sum(a, new Counters(2)));
  }

  @Test
  void shouldRefusePortsForAnotherNumberOfPipelines() {
    ForwardingContext context = TestFrames.context(1500).pipelines(2);
    TxPort[] one = new TxPort[3];
    assertThrows(IllegalArgumentException.class, () -> new ForwardingPlane(context, one));
    assertThrows(
        IllegalArgumentException.class,
        () -> new ForwardingPlane(TestFrames.context(1500).pipelines(0), new TxPort[0][]));
  }

  private static <T> T on(
      ForwardingPlane plane, int pipeline, java.util.function.Function<ForwardingPlane, T> read)
      throws Exception {
    CompletableFuture<T> f = new CompletableFuture<>();
    plane.snapshot(pipeline, p -> f.complete(read.apply(p)));
    return f.get(5, TimeUnit.SECONDS);
  }

  /** Frames handed in by the test, then nothing. */
  private static final class Queued implements FrameSource {
    private final Queue<byte[]> frames = new ConcurrentLinkedQueue<>();

    private final Queue<Integer> ingress = new ConcurrentLinkedQueue<>();

    void add(UnsafeBuffer slot, int length) {
      add(slot, length, CLIENT_IF);
    }

    void add(UnsafeBuffer slot, int length, int in) {
      byte[] frame = new byte[length];
      slot.getBytes(HEADROOM, frame);
      // The interface first: poll reads it after the frame.
      ingress.add(in);
      frames.add(frame);
    }

    @Override
    public int poll(MutableDirectBuffer buffer, int offset, int capacity, FrameMeta meta) {
      byte[] frame = frames.poll();
      if (frame == null) {
        return NONE;
      }
      buffer.putBytes(offset, frame);
      meta.ingress = ingress.poll();
      return frame.length;
    }

    @Override
    public void close() {}
  }

  /** Records the interface and destination MAC of every frame sent. */
  private record Recording(List<Integer> sent, List<Long> macs, int port) implements TxPort {
    @Override
    public boolean send(DirectBuffer buffer, int offset, int length, long timestampNanos) {
      macs.add(EthernetHeader.destination(buffer, offset));
      sent.add(port);
      return true;
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }
}
