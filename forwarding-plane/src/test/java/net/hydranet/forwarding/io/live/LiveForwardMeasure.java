package net.hydranet.forwarding.io.live;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import net.hydranet.forwarding.io.FrameSource;
import net.hydranet.forwarding.pipeline.FrameSlot;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A by-hand measurement, not a test (surefire does not pick it up): a generator thread blasts
 * 64-byte frames into veth {@code hnlvm0b}; a forwarder thread receives them on the peer {@code
 * hnlvm0a} with {@link LivePcapSource} and sends each out of {@code hnlvm1a} with {@link
 * LivePcapTxPort}; the kernel counts what reaches {@code hnlvm1b}. All four ends stay in the root
 * namespace, down to no addresses, so nothing leaves the box. Run as root:
 *
 * <pre>
 * java -cp target/classes:target/test-classes:$(cat cp.txt) \
 *     net.hydranet.forwarding.io.live.LiveForwardMeasure [seconds] [forward|receive]
 * </pre>
 */
public final class LiveForwardMeasure {
  private LiveForwardMeasure() {}

  public static void main(String[] args) throws Exception {
    final int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    final boolean forward = args.length < 2 || args[1].equals("forward");
    cleanup();
    try {
      for (String[] pair : new String[][] {{"hnlvm0a", "hnlvm0b"}, {"hnlvm1a", "hnlvm1b"}}) {
        Net.sh("ip", "link", "add", pair[0], "type", "veth", "peer", "name", pair[1]);
        for (String end : pair) {
          Net.disableIpv6(null, end);
          Net.sh("ethtool", "-K", end, "gro", "off", "gso", "off", "tso", "off", "tx", "off");
          Net.sh("ip", "link", "set", end, "up");
        }
      }
      run(seconds, forward);
    } finally {
      cleanup();
    }
  }

  private static void cleanup() {
    Net.quiet("ip", "link", "del", "hnlvm0a");
    Net.quiet("ip", "link", "del", "hnlvm1a");
  }

  private static long rxPackets(String ifName) throws Exception {
    return Long.parseLong(
        Files.readString(Path.of("/sys/class/net/" + ifName + "/statistics/rx_packets")).trim());
  }

  private static void run(int seconds, boolean forward) throws Exception {
    final byte[] mac0a = KernelChecks.mac("hnlvm0a");
    final byte[] mac1a = KernelChecks.mac("hnlvm1a");
    final byte[] mac1b = KernelChecks.mac("hnlvm1b");
    final AtomicBoolean running = new AtomicBoolean(true);
    final ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    try (LivePcapSource gen = LivePcapSource.open("hnlvm0b");
        LivePcapSource in = LivePcapSource.open("hnlvm0a");
        LivePcapSource out = LivePcapSource.open("hnlvm1a")) {
      final Thread generator =
          new Thread(
              () -> {
                final UnsafeBuffer frame = Net.direct(128);
                final int p = Net.ether(frame, 0, mac0a, mac1b, 0x88B5);
                frame.setMemory(p, 60 - p, (byte) 0x5A);
                final LivePcapTxPort tx = gen.txPort();
                while (running.get()) {
                  for (int i = 0; i < 32; i++) {
                    tx.send(frame, 0, 60, 0);
                  }
                  tx.flush(); // a transmit ring sends on flush
                }
              },
              "generator");
      final long[] forwarderCpu = new long[1];
      final Thread forwarder =
          new Thread(
              () -> {
                final UnsafeBuffer slot = Net.direct(FrameSlot.SLOT_SIZE);
                final FrameSource.FrameMeta meta = new FrameSource.FrameMeta();
                final LivePcapTxPort tx = out.txPort();
                final long cpu0 = mx.getCurrentThreadCpuTime();
                while (running.get()) {
                  final int n = in.poll(slot, FrameSlot.HEADROOM, FrameSlot.frameCapacity(), meta);
                  if (n > 0 && forward) {
                    slot.putBytes(FrameSlot.HEADROOM, mac1b);
                    slot.putBytes(FrameSlot.HEADROOM + 6, mac1a);
                    tx.send(slot, FrameSlot.HEADROOM, n, meta.timestampNanos);
                    tx.flush();
                  }
                }
                forwarderCpu[0] = mx.getCurrentThreadCpuTime() - cpu0;
              },
              "forwarder");
      final long sink0 = rxPackets("hnlvm1b");
      final long t0 = System.nanoTime();
      forwarder.start();
      generator.start();
      Thread.sleep(seconds * 1000L);
      running.set(false);
      generator.join();
      forwarder.join();
      final double elapsed = (System.nanoTime() - t0) / 1e9;
      final long sent = gen.txPort().framesSent();
      final long received = in.framesReceived();
      final long delivered = rxPackets("hnlvm1b") - sink0;
      System.out.printf(
          "%s %.1f s: generated %.0f/s, received %.0f/s, delivered %.0f/s, kernel drops %d,"
              + " forwarder CPU %.0f%% = %.2f us per received frame, tx failures %d%n",
          forward ? "forward" : "receive",
          elapsed,
          sent / elapsed,
          received / elapsed,
          delivered / elapsed,
          in.kernelDrops(),
          100.0 * forwarderCpu[0] / (elapsed * 1e9),
          forwarderCpu[0] / 1e3 / Math.max(1, received),
          out.txPort().sendFailures());
    }
  }
}
