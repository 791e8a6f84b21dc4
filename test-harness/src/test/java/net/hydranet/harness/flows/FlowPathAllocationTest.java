package net.hydranet.harness.flows;

import static net.hydranet.harness.fixture.SampleTopology.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.io.TxPort;
import net.hydranet.forwarding.pipeline.ForwardingPath;
import net.hydranet.forwarding.pipeline.FrameSlot;
import net.hydranet.forwarding.wire.TcpHeader;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.harness.packet.Ipv4Addr;
import net.hydranet.harness.packet.PacketBuilder;
import net.hydranet.router.config.RedirectorConfig;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * The element chain with the connection table and fragment tracker in use allocates nothing per
 * frame — SYNs that create flows, data that finds them, fragments, ICMP errors — and a rough
 * per-frame cost with a million live flows (a loop timing, not JMH; no PipelineBenchmark exists on
 * main yet).
 */
class FlowPathAllocationTest {
  private static final class Discard implements TxPort {
    @Override
    public boolean send(DirectBuffer buffer, int offset, int length, long timestampNanos) {
      return true;
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }

  /** The sample redirector with this new-flow budget (rate 0: none). */
  private static ForwardingPlane plane(int newFlowRate, int newFlowBurst) {
    RedirectorConfig config = RedirectorUnderTest.sampleConfig();
    config.context().newFlowRate(newFlowRate).newFlowBurst(newFlowBurst);
    TxPort[] ports = new TxPort[config.context().interfaces().size()];
    Arrays.setAll(ports, i -> new Discard());
    ForwardingPlane plane = new ForwardingPlane(config.context(), ports);
    config.applyTo(plane);
    int hsB = Ipv4Addr.of("198.18.3.3");
    plane.addNeighbour(hsB, 0x0200_0000_0303L, HS0);
    plane.addRedirect(
        ORIGIN, 6, HTTP, new int[] {HOST_SERVER, hsB}, new int[] {1, 1}); // Maglev, two servers
    return plane;
  }

  private static PacketBuilder client() {
    return PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC);
  }

  @Test
  void shouldNotAllocatePerFrameWithFlowsFragmentsAndIcmp() {
    // A budget so small that most new flows of every round are refused: that path is measured too.
    ForwardingPlane plane = plane(1_000, 10);
    ForwardingPath path = plane.path();
    int n = 2_000;
    byte[][] frames = new byte[n][];
    for (int i = 0; i < n; i++) {
      int port = 10_000 + (i % 500);
      switch (i % 5) {
        case 0 ->
            frames[i] =
                client().ipv4(CLIENT, ORIGIN).tcp(port, HTTP).flags(TcpHeader.FLAG_SYN).build();
        case 1, 2 ->
            frames[i] = client().ipv4(CLIENT, ORIGIN).id(i).tcp(port, HTTP).payload(64).build();
        case 3 ->
            frames[i] =
                client()
                    .ipv4(CLIENT, ORIGIN)
                    .id(i)
                    .moreFragments(i % 2 == 0)
                    .fragmentOffset(i % 2 == 0 ? 0 : 800)
                    .protocol(17)
                    .ipPayload(new byte[64])
                    .build();
        default -> {
          byte[] reply =
              PacketBuilder.ethernet(HOST_SERVER_MAC, HS0_MAC)
                  .ipv4(ORIGIN, CLIENT)
                  .tcp(HTTP, port)
                  .build();
          frames[i] =
              client()
                  .ipv4(Ipv4Addr.of("198.18.1.254"), ORIGIN)
                  .icmpError(3, 4, 1400, Arrays.copyOfRange(reply, 14, 42))
                  .build();
        }
      }
    }
    UnsafeBuffer slot = new UnsafeBuffer(BufferUtil.allocateDirectAligned(FrameSlot.SLOT_SIZE, 64));
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long now = 1_000_000_000L;
    for (int round = 0; round < 3; round++) {
      long before = threads.getCurrentThreadAllocatedBytes();
      for (byte[] f : frames) {
        now += 1_000;
        path.tick(now);
        slot.putBytes(FrameSlot.HEADROOM, f);
        path.process(slot, FrameSlot.HEADROOM, f.length, CLIENT0);
        path.flush();
      }
      long allocated = threads.getCurrentThreadAllocatedBytes() - before;
      if (round == 2) {
        assertTrue(allocated < 1024, "allocated " + allocated + " bytes for " + n + " frames");
      }
    }
    assertTrue(plane.counters().get(Counter.ICMP_ERRORS_STEERED) > 0);
    assertTrue(plane.counters().get(Counter.FLOWS_CREATED) > 0);
    assertTrue(plane.counters().get(Counter.FLOWS_NOT_RECORDED_RATE) > 0);
  }

  @Test
  void shouldForwardWithAMillionLiveFlows() {
    // Its flows are opened by SYNs at one instant of the clock: no new-flow budget.
    ForwardingPlane plane = plane(0, 1);
    ForwardingPath path = plane.path();
    int flows = plane.context().flowCapacity();
    assertEquals(1 << 20, flows);
    byte[] syn = client().ipv4(CLIENT, ORIGIN).tcp(1, HTTP).flags(TcpHeader.FLAG_SYN).build();
    byte[] ack = client().ipv4(CLIENT, ORIGIN).tcp(1, HTTP).payload(64).build();
    UnsafeBuffer slot = new UnsafeBuffer(BufferUtil.allocateDirectAligned(FrameSlot.SLOT_SIZE, 64));
    // Distinct flows by source address and port; checksums are not checked on this path's TCP.
    UnsafeBuffer frame = new UnsafeBuffer(syn);
    long now = 1_000_000_000L;
    path.tick(now);
    for (int i = 0; i < flows; i++) {
      send(path, slot, frame, syn.length, i);
    }
    assertEquals(flows, path.flows().size());
    frame = new UnsafeBuffer(ack);
    int packets = 2_000_000;
    for (int round = 0; round < 2; round++) {
      long start = System.nanoTime();
      for (int i = 0; i < packets; i++) {
        send(path, slot, frame, ack.length, (int) ((i * 0x9E3779B1L) & (flows - 1)));
      }
      long spread = (System.nanoTime() - start) / packets;
      start = System.nanoTime();
      for (int i = 0; i < packets; i++) {
        send(path, slot, frame, ack.length, i & 1023);
      }
      long hot = (System.nanoTime() - start) / packets;
      System.out.printf(
          "connection table at %d live flows (%d MiB): %d ns per redirected data packet spread"
              + " over all flows, %d ns over 1024 hot flows (whole path, rough loop timing)%n",
          path.flows().size(), path.flows().footprintBytes() >> 20, spread, hot);
    }
    assertEquals(0, plane.counters().get(Counter.FLOWS_EVICTED));
  }

  /** Sends {@code frame} as flow {@code i}: source port and the low source octets vary. */
  private static void send(
      ForwardingPath path, UnsafeBuffer slot, UnsafeBuffer frame, int length, int i) {
    slot.putBytes(FrameSlot.HEADROOM, frame, 0, length);
    int ip = FrameSlot.HEADROOM + 14;
    slot.putShort(ip + 20, (short) (i & 0xFFFF), java.nio.ByteOrder.BIG_ENDIAN);
    // Vary the source (198.18.1.0/24 .. within the client network) and fix the IP checksum.
    int source = (CLIENT & 0xFFFFFF00) | (10 + (i >>> 16));
    slot.putInt(ip + 12, source, java.nio.ByteOrder.BIG_ENDIAN);
    net.hydranet.forwarding.wire.Ipv4Header.updateChecksum(slot, ip);
    path.process(slot, FrameSlot.HEADROOM, length, CLIENT0);
    path.flush();
  }
}
