package net.hydranet.forwarding.io.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import net.hydranet.forwarding.io.FrameSource;
import net.hydranet.forwarding.pipeline.FrameSlot;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Captures in one PACKET_FANOUT group ({@link LivePcapSource#openFanout}) over a veth pair: {@code
 * hng1a} in the JVM's namespace, {@code hng1b} in namespace {@code hng1-ns}, 198.19.78.0/30.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LivePcapFanoutTest {
  private static final String NS = "hng1-ns";
  private static final String A = "hng1a";
  private static final String B = "hng1b";
  private static final int FLOWS = 32;
  private static final int PER_FLOW = 10;

  @BeforeEach
  void buildTopology() {
    assumeTrue(Net.isRoot(), "needs root to create namespaces and capture");
    assumeTrue(
        Net.run("sh", "-c", "command -v python3 && command -v ping").exit() == 0,
        "needs python3 and ping (bin/setup)");
    removeTopology();
    Net.vethIntoNamespace(NS, A, B);
    Net.sh("ethtool", "-K", A, "gro", "off", "gso", "off", "tso", "off", "tx", "off");
    Net.shNs(NS, "ethtool", "-K", B, "gro", "off", "gso", "off", "tso", "off", "tx", "off");
    Net.sh("ip", "addr", "add", "198.19.78.1/30", "dev", A);
    Net.shNs(NS, "ip", "addr", "add", "198.19.78.2/30", "dev", B);
    Net.sh("ip", "link", "set", A, "up");
    Net.shNs(NS, "ip", "link", "set", B, "up");
    // The sender needs A's MAC without an ARP exchange that one capture alone would see.
    String macA = Net.sh("cat", "/sys/class/net/" + A + "/address").strip();
    Net.shNs(NS, "ip", "neigh", "replace", "198.19.78.1", "lladdr", macA, "dev", B);
  }

  @AfterEach
  void removeTopology() {
    Net.quiet("ip", "netns", "del", NS);
    Net.quiet("ip", "link", "del", A);
  }

  @Test
  void shouldHandEveryFrameOfAFlowToOneCaptureAndSpreadTheFlows() throws Exception {
    LivePcapSource[] group =
        LivePcapSource.openFanout(A, new LivePcapSource.Options().txRing(false), 2);
    try {
      // FLOWS UDP flows (source ports 41000 + i), PER_FLOW datagrams each, interleaved.
      Net.shNs(
          NS,
          "python3",
          "-c",
          "import socket\n"
              + "ss=[socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for i in range("
              + FLOWS
              + ")]\n"
              + "[s.bind(('198.19.78.2', 41000 + i)) for i, s in enumerate(ss)]\n"
              + "for n in range("
              + PER_FLOW
              + "):\n"
              + "  [s.sendto(b'hng1-fanout', ('198.19.78.1', 9)) for s in ss]\n");
      Map<Integer, Set<Integer>> capturesByPort = new HashMap<>();
      int[] perCapture = new int[group.length];
      drain(
          group,
          FLOWS * PER_FLOW,
          (capture, slot, o, n) -> {
            if (n >= 14 + 20 + 8
                && slot.getShort(o + 12, ByteOrder.BIG_ENDIAN) == 0x0800
                && slot.getByte(o + 14 + 9) == 17) {
              int port = slot.getShort(o + 14 + 20, ByteOrder.BIG_ENDIAN) & 0xFFFF;
              if (port >= 41000 && port < 41000 + FLOWS) {
                capturesByPort.computeIfAbsent(port, p -> new HashSet<>()).add(capture);
                perCapture[capture]++;
                return true;
              }
            }
            return false;
          });
      assertEquals(FLOWS, capturesByPort.size(), "every flow arrived: " + capturesByPort);
      assertEquals(FLOWS * PER_FLOW, perCapture[0] + perCapture[1], "every datagram, once");
      for (Map.Entry<Integer, Set<Integer>> e : capturesByPort.entrySet()) {
        assertEquals(1, e.getValue().size(), "flow from port " + e.getKey() + " met one capture");
      }
      assertTrue(
          perCapture[0] > 0 && perCapture[1] > 0,
          "both captures got flows: " + perCapture[0] + " / " + perCapture[1]);
    } finally {
      for (LivePcapSource s : group) {
        s.close();
      }
    }
  }

  @Test
  void shouldHandEveryFragmentOfADatagramToOneCaptureWithoutDefrag() throws Exception {
    LivePcapSource[] group =
        LivePcapSource.openFanout(A, new LivePcapSource.Options().txRing(false), 2);
    try {
      // Three 3000-byte echoes leave in three fragments each (MTU 1500).
      Net.run(
          Net.inNs(NS, "ping", "-c", "3", "-i", "0.2", "-W", "1", "-s", "3000", "198.19.78.1")
              .toArray(new String[0]));
      Map<Integer, Set<Integer>> capturesById = new HashMap<>();
      int[] fragments = new int[1];
      drain(
          group,
          9,
          (capture, slot, o, n) -> {
            if (n >= 14 + 20
                && slot.getShort(o + 12, ByteOrder.BIG_ENDIAN) == 0x0800
                && slot.getByte(o + 14 + 9) == 1
                && (slot.getShort(o + 14 + 6, ByteOrder.BIG_ENDIAN) & 0x3FFF) != 0) {
              int id = slot.getShort(o + 14 + 4, ByteOrder.BIG_ENDIAN) & 0xFFFF;
              capturesById.computeIfAbsent(id, x -> new HashSet<>()).add(capture);
              fragments[0]++;
              return true;
            }
            return false;
          });
      assertEquals(9, fragments[0], "three fragments of each of three echoes");
      assertEquals(3, capturesById.size());
      capturesById.forEach(
          (id, captures) -> assertEquals(1, captures.size(), "datagram " + id + " met one"));
    } finally {
      for (LivePcapSource s : group) {
        s.close();
      }
    }
  }

  /**
   * Why {@link LivePcapSource#openFanout} leaves PACKET_FANOUT_FLAG_DEFRAG off: the kernel then
   * hands the group each datagram reassembled, longer than libpcap's MTU-sized ring slot, so it
   * arrives cut and is skipped.
   */
  @Test
  void shouldLoseReassembledDatagramsToLibpcapsSlotSizeWithDefrag() throws Exception {
    LivePcapSource[] group =
        LivePcapSource.openFanout(
            A, new LivePcapSource.Options().txRing(false).fanoutDefrag(true), 2);
    try {
      Net.run(
          Net.inNs(NS, "ping", "-c", "3", "-i", "0.2", "-W", "1", "-s", "3000", "198.19.78.1")
              .toArray(new String[0]));
      int[] echoes = new int[1];
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
      UnsafeBuffer slot = Net.direct(FrameSlot.SLOT_SIZE);
      FrameSource.FrameMeta meta = new FrameSource.FrameMeta();
      while (System.nanoTime() < deadline) {
        for (LivePcapSource s : group) {
          int n = s.poll(slot, FrameSlot.HEADROOM, FrameSlot.frameCapacity(), meta);
          if (n > 14 + 20 && slot.getByte(FrameSlot.HEADROOM + 14 + 9) == 1) {
            echoes[0]++;
          }
        }
      }
      long skipped = group[0].oversizeFrames() + group[1].oversizeFrames();
      System.out.printf(
          "with PACKET_FANOUT_FLAG_DEFRAG: %d ICMP frames handed on, %d reassembled datagrams"
              + " cut by libpcap's slot and skipped%n",
          echoes[0], skipped);
      assertEquals(0, echoes[0], "no fragment and no whole echo reached the pipeline");
      assertEquals(3, skipped, "each reassembled echo arrived cut");
    } finally {
      for (LivePcapSource s : group) {
        s.close();
      }
    }
  }

  private interface Frame {
    /** Returns true if the frame is one the test counts. */
    boolean take(int capture, UnsafeBuffer slot, int offset, int length);
  }

  /** Polls every capture until {@code expected} frames were taken, or 5 s passed. */
  private static void drain(LivePcapSource[] group, int expected, Frame frame) {
    UnsafeBuffer slot = Net.direct(FrameSlot.SLOT_SIZE);
    FrameSource.FrameMeta meta = new FrameSource.FrameMeta();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    int taken = 0;
    while (taken < expected && System.nanoTime() < deadline) {
      for (int c = 0; c < group.length; c++) {
        int n = group[c].poll(slot, FrameSlot.HEADROOM, FrameSlot.frameCapacity(), meta);
        if (n > 0 && frame.take(c, slot, FrameSlot.HEADROOM, n)) {
          taken++;
        }
      }
    }
    // A little longer: a frame delivered twice would show now.
    long settle = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
    while (System.nanoTime() < settle) {
      for (int c = 0; c < group.length; c++) {
        int n = group[c].poll(slot, FrameSlot.HEADROOM, FrameSlot.frameCapacity(), meta);
        if (n > 0) {
          frame.take(c, slot, FrameSlot.HEADROOM, n);
        }
      }
    }
  }
}
