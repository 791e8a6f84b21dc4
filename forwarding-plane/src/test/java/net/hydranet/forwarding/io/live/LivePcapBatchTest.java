package net.hydranet.forwarding.io.live;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.hydranet.forwarding.io.FrameSource;
import net.hydranet.forwarding.pipeline.FrameSlot;
import org.agrona.BufferUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Batch reads from a live capture ({@link LivePcapSource#pollBatch}): frames sent with a raw packet
 * socket from namespace {@code b12-ns} over a veth pair come out of the batch read into ring slots
 * byte for byte, in order, with their lengths; through the C shim and through the forced per-frame
 * fallback alike. No IP at all: local-experimental EtherType frames, filtered in the kernel.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class LivePcapBatchTest {
  private static final String NS = "b12-ns";
  private static final String A = "b12v0a";
  private static final String B = "b12v0b";
  private static final int RING = 64;
  private static final int MAX = 32;

  /** Sends frame i of the given lengths: our MACs, EtherType 0x88B5, i big-endian, then filler. */
  private static final String SENDER =
      "import socket, struct, sys\n"
          + "dst, src, ifname = bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2]), sys.argv[3]\n"
          + "s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\n"
          + "s.bind((ifname, 0))\n"
          + "for i, n in enumerate(int(x) for x in sys.argv[4:]):\n"
          + "    head = dst + src + b'\\x88\\xb5' + struct.pack('>I', i)\n"
          + "    s.send(head + bytes((i + k) & 0xff for k in range(n - len(head))))\n";

  private byte[] macA;
  private byte[] macB;

  @BeforeEach
  void buildTopology() throws IOException {
    assumeTrue(Net.isRoot(), "needs root to create namespaces and capture");
    assumeTrue(Net.run("python3", "-c", "import socket; socket.AF_PACKET").exit() == 0, "python3");
    removeTopology();
    Net.vethIntoNamespace(NS, A, B);
    Net.sh("ip", "link", "set", A, "up");
    Net.shNs(NS, "ip", "link", "set", B, "up");
    macA = KernelChecks.mac(A);
    macB = KernelChecks.parseMac(Net.shNs(NS, "cat", "/sys/class/net/" + B + "/address"));
  }

  @AfterEach
  void removeTopology() {
    Net.quiet("ip", "netns", "del", NS);
    Net.quiet("ip", "link", "del", A);
  }

  @Test
  void shouldReadQueuedFramesInBatchesByteForByteAndInOrder() throws Exception {
    try (LivePcapSource source = open(true)) {
      assumeTrue(source.readsInBatches(), "libhydranet-pcap.so not built (no C compiler)");
      receiveInOrder(source, lengths(100));
      assertEquals(0, source.oversizeFrames());
      assertEquals(100, source.framesReceived());
    }
  }

  @Test
  void shouldReadTheSameFramesOnePerPcapNextExWhenBatchReadsAreOff() throws Exception {
    try (LivePcapSource source = open(false)) {
      assertFalse(source.readsInBatches());
      receiveInOrder(source, lengths(100));
      assertEquals(100, source.framesReceived());
    }
  }

  @Test
  void shouldStoreNoMoreThanTheBatchIsGivenAndLeaveTheSlotsAfterIt() throws Exception {
    try (LivePcapSource source = open(true)) {
      assumeTrue(source.readsInBatches(), "libhydranet-pcap.so not built (no C compiler)");
      final FrameSource.Batch batch = batch(FrameSlot.frameCapacity());
      final int[] lengths = lengths(20);
      send(lengths);
      awaitQueued(source);
      // Every slot marked: a read past its bound would overwrite the marks.
      batch.slots().setMemory(0, RING * FrameSlot.SLOT_SIZE, (byte) 0xEE);
      batch.startAt(10);
      assertEquals(5, source.pollBatch(batch, 5), "the read stops at its bound");
      for (int j = 0; j < 5; j++) {
        assertFrame(batch, j, j, lengths[j]);
      }
      for (int s = 15; s < RING; s++) {
        assertEquals((byte) 0xEE, batch.slots().getByte(s * FrameSlot.SLOT_SIZE + 64), "slot " + s);
      }
      // The rest come next, in order.
      int next = 5;
      final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (next < lengths.length && System.nanoTime() < deadline) {
        batch.startAt(next);
        final int k = source.pollBatch(batch, MAX);
        for (int j = 0; j < k; j++) {
          assertFrame(batch, j, next + j, lengths[next + j]);
        }
        next += k;
      }
      assertEquals(lengths.length, next);
    }
  }

  @Test
  void shouldCountAndSkipAnOversizeFrameAndDeliverTheFramesAroundIt() throws Exception {
    for (boolean batchReads : new boolean[] {false, true}) {
      try (LivePcapSource source = open(batchReads)) {
        assumeTrue(
            !batchReads || source.readsInBatches(),
            "libhydranet-pcap.so not built (no C compiler)");
        // A batch whose slots take 1000 bytes: frame 2 (1200 bytes) does not fit.
        final FrameSource.Batch batch = batch(1000);
        final int[] lengths = {100, 200, 1200, 300, 400};
        send(lengths);
        final List<Integer> seen = new ArrayList<>();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        long sequence = 0;
        while (seen.size() < 4 && System.nanoTime() < deadline) {
          batch.startAt(sequence);
          final int k = source.pollBatch(batch, MAX);
          for (int j = 0; j < k; j++) {
            final int i = batch.slots().getInt(batch.frameOffset(j) + 14, ByteOrder.BIG_ENDIAN);
            assertFrame(batch, j, i, lengths[i]);
            seen.add(i);
          }
          sequence += k;
        }
        assertEquals(List.of(0, 1, 3, 4), seen, "batch reads " + batchReads);
        assertEquals(1, source.oversizeFrames(), "batch reads " + batchReads);
        assertEquals(4, source.framesReceived());
      }
    }
  }

  private LivePcapSource open(boolean batchReads) throws IOException {
    return LivePcapSource.open(
        A, new LivePcapSource.Options().filter("ether proto 0x88b5").batchReads(batchReads));
  }

  private static FrameSource.Batch batch(int capacity) {
    final ByteBuffer ring = BufferUtil.allocateDirectAligned(RING * FrameSlot.SLOT_SIZE, 64);
    return new FrameSource.Batch(
        ring, RING, FrameSlot.SLOT_SIZE, FrameSlot.HEADROOM, capacity, MAX);
  }

  /** 60 to 1500 bytes, every length different from its neighbours'. */
  private static int[] lengths(int n) {
    final int[] lengths = new int[n];
    for (int i = 0; i < n; i++) {
      lengths[i] = 60 + (i * 97) % 1441;
    }
    return lengths;
  }

  private void send(int[] lengths) {
    final List<String> command = new ArrayList<>(List.of("python3", "-c", SENDER));
    command.add(hex(macA));
    command.add(hex(macB));
    command.add(B);
    for (int n : lengths) {
      command.add(Integer.toString(n));
    }
    Net.shNs(NS, command.toArray(new String[0]));
  }

  /**
   * Waits until the capture's descriptor is readable, then a little more: the frames sent wait in
   * the kernel's ring, none read yet.
   */
  private static void awaitQueued(LivePcapSource source) throws Exception {
    final PcapWait wait = PcapWait.of(List.of(source));
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (wait.ready(100) == 0 && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    // The sender's last frames may still be in the kernel's backlog when the first is readable.
    Thread.sleep(300);
  }

  /**
   * Sends the frames (all queued before the first read), then reads them in batches starting at
   * ring slot 50, so a batch wraps past the ring's end; the first read takes a full batch.
   */
  private void receiveInOrder(LivePcapSource source, int[] lengths) throws Exception {
    final FrameSource.Batch batch = batch(FrameSlot.frameCapacity());
    send(lengths);
    awaitQueued(source);
    long sequence = 50;
    int next = 0;
    int reads = 0;
    final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (next < lengths.length && System.nanoTime() < deadline) {
      batch.startAt(sequence);
      final int k = source.pollBatch(batch, MAX);
      assertFalse(batch.ended());
      if (reads++ == 0) {
        assertEquals(MAX, k, "every frame was queued: the first read fills its batch");
      }
      for (int j = 0; j < k; j++) {
        assertFrame(batch, j, next + j, lengths[next + j]);
        assertEquals(source.ifIndex(), batch.ingress(j));
        assertTrue(batch.timestampNanos(j) > 0, "a capture timestamp");
      }
      next += k;
      sequence += k;
    }
    assertEquals(lengths.length, next, "every frame read");
  }

  private void assertFrame(FrameSource.Batch batch, int j, int i, int length) {
    assertEquals(length, batch.length(j), "frame " + i + "'s length");
    final byte[] expected = new byte[length];
    System.arraycopy(macA, 0, expected, 0, 6);
    System.arraycopy(macB, 0, expected, 6, 6);
    expected[12] = (byte) 0x88;
    expected[13] = (byte) 0xB5;
    expected[14] = (byte) (i >>> 24);
    expected[15] = (byte) (i >>> 16);
    expected[16] = (byte) (i >>> 8);
    expected[17] = (byte) i;
    for (int k = 0; k < length - 18; k++) {
      expected[18 + k] = (byte) (i + k);
    }
    final byte[] actual = new byte[length];
    batch.slots().getBytes(batch.frameOffset(j), actual);
    assertArrayEquals(expected, actual, "frame " + i + " byte for byte");
  }

  private static String hex(byte[] bytes) {
    final StringBuilder s = new StringBuilder();
    for (byte b : bytes) {
      s.append(String.format("%02x", b & 0xFF));
    }
    return s.toString();
  }
}
