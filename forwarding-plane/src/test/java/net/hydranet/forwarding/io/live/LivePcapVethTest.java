package net.hydranet.forwarding.io.live;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.hydranet.forwarding.io.FrameSource;
import net.hydranet.forwarding.pipeline.FrameSlot;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Live pcap receive and transmit over a veth pair: {@code hnlv0a} stays in the JVM's namespace,
 * {@code hnlv0b} lives in namespace {@code hnlv-ns}. Addresses come from 198.18.0.0/15 only.
 */
// A separate thread, so a test stuck in a native call still fails instead of hanging the build.
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LivePcapVethTest {
  private static final String NS = "hnlv-ns";
  private static final String A = "hnlv0a";
  private static final String B = "hnlv0b";
  private static final int IP_A = Net.ipv4(198, 19, 77, 1);
  private static final int IP_B = Net.ipv4(198, 19, 77, 2);

  private byte[] macA;
  private byte[] macB;

  @BeforeEach
  void buildTopology() throws IOException {
    assumeTrue(Net.isRoot(), "needs root to create namespaces and capture");
    removeTopology();
    Net.vethIntoNamespace(NS, A, B);
    Net.sh("ethtool", "-K", A, "gro", "off", "gso", "off", "tso", "off", "tx", "off");
    Net.shNs(NS, "ethtool", "-K", B, "gro", "off", "gso", "off", "tso", "off", "tx", "off");
    Net.sh("ip", "addr", "add", "198.19.77.1/30", "dev", A);
    Net.shNs(NS, "ip", "addr", "add", "198.19.77.2/30", "dev", B);
    Net.sh("ip", "link", "set", A, "up");
    Net.shNs(NS, "ip", "link", "set", B, "up");
    macA = KernelChecks.mac(A);
    macB = KernelChecks.parseMac(Net.shNs(NS, "cat", "/sys/class/net/" + B + "/address"));
    // Static neighbours: the test's frames go out at once, with no ARP exchange in between.
    Net.shNs(NS, "ip", "neigh", "replace", "198.19.77.1", "lladdr", mac(macA), "dev", B);
    Net.sh("ip", "neigh", "replace", "198.19.77.2", "lladdr", mac(macB), "dev", A);
  }

  @AfterEach
  void removeTopology() {
    // Deleting the namespace deletes hnlv0b and with it its peer; the link delete covers a
    // half-built topology.
    Net.quiet("ip", "netns", "del", NS);
    Net.quiet("ip", "link", "del", A);
  }

  private static String mac(byte[] m) {
    final StringBuilder s = new StringBuilder();
    for (byte b : m) {
      s.append(s.length() == 0 ? "" : ":").append(String.format("%02x", b & 0xFF));
    }
    return s.toString();
  }

  @Test
  void shouldSendFrameThatArrivesInTheNamespace() throws Exception {
    final byte[] magic = "hydranet-tx-a".getBytes(StandardCharsets.US_ASCII);
    final UnsafeBuffer frame = Net.direct(FrameSlot.SLOT_SIZE);
    final int length =
        Net.udpFrame(frame, FrameSlot.HEADROOM, macB, macA, IP_A, IP_B, 40000, 40001, magic);

    final Process tcpdump =
        new ProcessBuilder(
                Net.inNs(
                    NS,
                    "timeout",
                    "10",
                    "tcpdump",
                    "-i",
                    B,
                    "-c",
                    "1",
                    "-U",
                    "-w",
                    "-",
                    "udp dst port 40001"))
            .start();
    try (LivePcapSource source = LivePcapSource.open(A)) {
      // tcpdump says "listening on" once its capture is live: only then is a frame certain to show.
      final BufferedReader err =
          new BufferedReader(
              new InputStreamReader(tcpdump.getErrorStream(), StandardCharsets.UTF_8));
      final String first = err.readLine();
      assertTrue(first != null && first.contains("listening on"), "tcpdump: " + first);

      final LivePcapTxPort tx = source.txPort();
      final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (tcpdump.isAlive() && System.nanoTime() < deadline) {
        assertTrue(tx.send(frame, FrameSlot.HEADROOM, length, 0));
        tx.flush();
        tcpdump.waitFor(50, TimeUnit.MILLISECONDS);
      }
      assertTrue(tcpdump.waitFor(5, TimeUnit.SECONDS), "tcpdump saw nothing");
      final byte[] captured = tcpdump.getInputStream().readAllBytes();
      assertEquals(0, tcpdump.exitValue());
      assertTrue(Net.contains(captured, magic), "captured frame carries the payload");
      final byte[] header = new byte[12];
      frame.getBytes(FrameSlot.HEADROOM, header);
      assertTrue(Net.contains(captured, header), "captured frame carries our MAC addresses");
      assertEquals(0, tx.sendFailures());
      assertEquals(0, tx.stagedCopies(), "a direct buffer is sent from its own address");
    } finally {
      tcpdump.destroyForcibly();
    }
  }

  @Test
  void shouldReceiveFrameSentFromTheNamespace() throws Exception {
    final byte[] magic = "hydranet-rx-b".getBytes(StandardCharsets.US_ASCII);
    final UnsafeBuffer slot = Net.direct(FrameSlot.SLOT_SIZE);
    final FrameSource.FrameMeta meta = new FrameSource.FrameMeta();
    try (LivePcapSource source = LivePcapSource.open(A)) {
      final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      long nextSend = 0;
      while (System.nanoTime() < deadline) {
        if (System.nanoTime() >= nextSend) {
          // bash's /dev/udp: one UDP datagram from 198.19.77.2 without installing a generator.
          Net.shNs(NS, "bash", "-c", "printf hydranet-rx-b > /dev/udp/198.19.77.1/40002");
          nextSend = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
        }
        final int n = source.poll(slot, FrameSlot.HEADROOM, FrameSlot.frameCapacity(), meta);
        if (n <= 0 || !Net.contains(slot, FrameSlot.HEADROOM, n, magic)) {
          continue;
        }
        final int o = FrameSlot.HEADROOM;
        final byte[] dst = new byte[6];
        final byte[] src = new byte[6];
        slot.getBytes(o, dst);
        slot.getBytes(o + 6, src);
        assertArrayEquals(macB, src, "source MAC is the namespace end's");
        assertArrayEquals(macA, dst);
        assertEquals(0x0800, slot.getShort(o + 12, ByteOrder.BIG_ENDIAN) & 0xFFFF);
        assertEquals(IP_B, slot.getInt(o + 14 + 12, ByteOrder.BIG_ENDIAN));
        assertEquals(IP_A, slot.getInt(o + 14 + 16, ByteOrder.BIG_ENDIAN));
        assertEquals(14 + 20 + 8 + magic.length, n);
        assertEquals(source.ifIndex(), meta.ingress);
        assertTrue(source.ifIndex() > 0);
        final long age = System.currentTimeMillis() * 1_000_000L - meta.timestampNanos;
        assertTrue(Math.abs(age) < TimeUnit.SECONDS.toNanos(10), "timestamp is wall clock");
        assertEquals(0, source.receiveErrors());
        assertEquals(0, source.kernelDrops());
        return;
      }
      fail("no frame from the namespace within 5 s; received " + source.framesReceived());
    }
  }

  @Test
  void shouldDeliverTheFirstFrameAfterOpening() throws Exception {
    // One datagram only: libpcap's own pcap_setfilter lost it (see LivePcapSource.setFilter).
    try (LivePcapSource source = LivePcapSource.open(A)) {
      final UnsafeBuffer slot = Net.direct(FrameSlot.SLOT_SIZE);
      final FrameSource.FrameMeta meta = new FrameSource.FrameMeta();
      Net.shNs(NS, "bash", "-c", "printf hydranet-first > /dev/udp/198.19.77.1/40005");
      final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
      int n = 0;
      while (n <= 0 && System.nanoTime() < deadline) {
        n = source.poll(slot, FrameSlot.HEADROOM, FrameSlot.frameCapacity(), meta);
      }
      assertTrue(n > 0, "the first frame arrived; received " + source.framesReceived());
      assertTrue(
          Net.contains(
              slot, FrameSlot.HEADROOM, n, "hydranet-first".getBytes(StandardCharsets.US_ASCII)));
    }
  }

  @Test
  void shouldWakeFromAWaitOnTheCaptureWhenAFrameComes() throws Exception {
    try (LivePcapSource source = LivePcapSource.open(A)) {
      final PcapWait wait = PcapWait.of(List.of(source));
      final UnsafeBuffer slot = Net.direct(FrameSlot.SLOT_SIZE);
      final FrameSource.FrameMeta meta = new FrameSource.FrameMeta();
      long started = System.nanoTime();
      wait.await(200);
      long idleMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      assertTrue(idleMillis >= 150, "nothing came: waited the timeout, " + idleMillis + " ms");
      assertEquals(FrameSource.NONE, source.poll(slot, 0, FrameSlot.frameCapacity(), meta));

      final Thread sender =
          new Thread(
              () ->
                  Net.shNs(
                      NS,
                      "bash",
                      "-c",
                      "sleep 0.3; printf hydranet-wake > /dev/udp/198.19.77.1/40004"));
      sender.start();
      started = System.nanoTime();
      wait.await(10_000);
      final long wokeMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      sender.join(10_000);
      assertTrue(wokeMillis < 5_000, "woken by the frame, not the timeout: " + wokeMillis + " ms");
      final int n = source.poll(slot, FrameSlot.HEADROOM, FrameSlot.frameCapacity(), meta);
      assertTrue(n > 0, "the frame that woke it is there; received " + source.framesReceived());
    }
  }

  @Test
  void shouldSayWhichCaptureHasAFrame() throws Exception {
    try (LivePcapSource quiet = LivePcapSource.open(A);
        LivePcapSource other = LivePcapSource.open(A)) {
      final PcapWait wait = PcapWait.of(List.of(quiet, other));
      assertEquals(0L, wait.ready(0), "nothing has come: no capture is ready");
      // The namespace sends one frame to A: both captures on A get it.
      Net.shNs(NS, "bash", "-c", "printf hydranet-ready > /dev/udp/198.19.77.1/40005");
      final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      long ready = 0;
      while (ready != 0b11L && System.nanoTime() < deadline) {
        ready |= wait.ready(100);
      }
      assertEquals(0b11L, ready, "both captures hold the frame");
      final UnsafeBuffer slot = Net.direct(FrameSlot.SLOT_SIZE);
      final FrameSource.FrameMeta meta = new FrameSource.FrameMeta();
      int drained = 0;
      while (quiet.poll(slot, 0, FrameSlot.frameCapacity(), meta) > 0) {
        drained++;
      }
      assertTrue(drained > 0, "the first capture had the frame");
      assertEquals(0b10L, wait.ready(0), "only the capture not read from is still ready");
    }
  }

  @Test
  void shouldNotReceiveOwnOrSiblingTransmissions() throws Exception {
    final byte[] magic = "hydranet-echo-c".getBytes(StandardCharsets.US_ASCII);
    final UnsafeBuffer frame = Net.direct(FrameSlot.SLOT_SIZE);
    // Local-experimental EtherType (IEEE 802): the namespace's kernel ignores it, nothing replies.
    int p = Net.ether(frame, 0, macB, macA, 0x88B5);
    frame.putBytes(p, magic);
    final int length = Math.max(60, p + magic.length);

    try (LivePcapSource sender = LivePcapSource.open(A);
        LivePcapSource sibling = LivePcapSource.open(A);
        // No transmit ring of its own: that would make its capture ignore outgoing frames.
        LivePcapSource unfiltered =
            LivePcapSource.open(A, new LivePcapSource.Options().filter(null).txRing(false))) {
      final int sent = 5;
      for (int i = 0; i < sent; i++) {
        assertTrue(sender.txPort().send(frame, 0, length, 0));
      }
      sender.txPort().flush();
      final int[] seen = new int[3];
      final LivePcapSource[] sources = {sender, sibling, unfiltered};
      final UnsafeBuffer slot = Net.direct(FrameSlot.SLOT_SIZE);
      final FrameSource.FrameMeta meta = new FrameSource.FrameMeta();
      final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
      while (System.nanoTime() < deadline) {
        for (int s = 0; s < sources.length; s++) {
          final int n = sources[s].poll(slot, 0, FrameSlot.frameCapacity(), meta);
          if (n > 0 && Net.contains(slot, 0, n, magic)) {
            seen[s]++;
          }
        }
      }
      assertEquals(sent, seen[2], "a capture without the filter sees the frames: the test can see");
      assertEquals(0, seen[0], "the sending handle never gets its own frames back");
      assertEquals(0, seen[1], "'inbound' drops another handle's transmissions in the kernel");
    }
  }

  @Test
  void shouldSendABatchThroughTheTransmitRingInOneSystemCall() throws Exception {
    final UnsafeBuffer frame = Net.direct(FrameSlot.SLOT_SIZE);
    // Local-experimental EtherType: counted by the namespace's interface, answered by nobody.
    final int p = Net.ether(frame, 0, macB, macA, 0x88B5);
    frame.putBytes(p, "hydranet-batch".getBytes(StandardCharsets.US_ASCII));
    final int length = Math.max(60, p + 14);
    try (LivePcapSource source = LivePcapSource.open(A)) {
      final LivePcapTxPort tx = source.txPort();
      assertTrue(tx.hasTxRing(), "the default sends through a transmit ring");
      final long before = rxPackets();
      final int batch = 200;
      for (int i = 0; i < batch; i++) {
        assertTrue(tx.send(frame, 0, length, 0));
      }
      assertEquals(before, rxPackets(), "nothing leaves before the flush");
      tx.flush();
      final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (rxPackets() < before + batch && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertEquals(before + batch, rxPackets(), "every frame of the batch arrived");
      assertEquals(1, tx.ringKicks(), "one system call for the batch");
      assertEquals(batch, tx.framesSent());
      assertEquals(0, tx.sendFailures());
    }
  }

  @Test
  void shouldSendEveryFrameAtOnceWithoutATransmitRing() throws Exception {
    final UnsafeBuffer frame = Net.direct(FrameSlot.SLOT_SIZE);
    final int p = Net.ether(frame, 0, macB, macA, 0x88B5);
    final int length = Math.max(60, p + 14);
    try (LivePcapSource source =
        LivePcapSource.open(A, new LivePcapSource.Options().txRing(false))) {
      final LivePcapTxPort tx = source.txPort();
      assertFalse(tx.hasTxRing());
      final long before = rxPackets();
      for (int i = 0; i < 3; i++) {
        assertTrue(tx.send(frame, 0, length, 0));
      }
      final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (rxPackets() < before + 3 && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertEquals(before + 3, rxPackets(), "sent without a flush");
    }
  }

  private long rxPackets() throws IOException {
    return Long.parseLong(
        Net.shNs(NS, "cat", "/sys/class/net/" + B + "/statistics/rx_packets").trim());
  }

  @Test
  void shouldSkipFramesLongerThanCapacity() throws Exception {
    final UnsafeBuffer slot = Net.direct(FrameSlot.SLOT_SIZE);
    final FrameSource.FrameMeta meta = new FrameSource.FrameMeta();
    try (LivePcapSource source = LivePcapSource.open(A)) {
      final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      long nextSend = 0;
      while (source.oversizeFrames() == 0 && System.nanoTime() < deadline) {
        if (System.nanoTime() >= nextSend) {
          Net.shNs(NS, "bash", "-c", "printf hydranet-too-long > /dev/udp/198.19.77.1/40003");
          nextSend = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(500);
        }
        // 40 bytes hold no UDP frame: each is counted and skipped, never truncated.
        assertTrue(source.poll(slot, 0, 40, meta) <= 0);
      }
      assertTrue(source.oversizeFrames() > 0);
    }
  }

  @Test
  void shouldNameTheInterfaceWhenOpenFails() {
    final IOException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            IOException.class, () -> LivePcapSource.open("hnlv-nosuch0"));
    assertTrue(e.getMessage().contains("hnlv-nosuch0"), e.getMessage());
  }
}
