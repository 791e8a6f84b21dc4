package net.hydranet.harness.bench;

import static net.hydranet.harness.fixture.SampleTopology.CLIENT;
import static net.hydranet.harness.fixture.SampleTopology.CLIENT0;
import static net.hydranet.harness.fixture.SampleTopology.CLIENT0_MAC;
import static net.hydranet.harness.fixture.SampleTopology.CLIENT_MAC;
import static net.hydranet.harness.fixture.SampleTopology.HTTP;
import static net.hydranet.harness.fixture.SampleTopology.ORIGIN;

import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import net.hydranet.forwarding.pipeline.ForwardingPath;
import net.hydranet.forwarding.pipeline.FrameSlot;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.TcpHeader;
import net.hydranet.harness.packet.PacketBuilder;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Traffic from {@link #FLOWS} distinct client flows, for the connection table at its full size:
 * half of them TCP to the redirected service (the origin's port 80), half TCP to the origin's
 * {@link BenchFrames#UNREDIRECTED_PORT} (forwarded, but to a service address, so they consult the
 * table too). One mode drives the half of its kind, {@link #count} flows, each frame the next of a
 * fixed random permutation: consecutive packets belong to unrelated flows, so every table probe is
 * cache-cold — the worst case, and what a busy link with many clients looks like.
 *
 * <p>Frames are not prebuilt (1M frames of 1500 bytes would be 1.5 GiB, and reading them would add
 * cache misses of their own): each is one template copied into the slot, with the flow's source
 * address, source port and both checksums written over it from a packed array read in order. That
 * costs the same whether the table is on or off, so the comparison holds.
 */
final class FlowFrames {
  /** Live flows at full size: the sample config's {@code flowCapacity}. */
  static final int FLOWS = 1 << 20;

  private static final int PORTS_PER_ADDRESS = 60_000;
  private static final int FIRST_PORT = 1_024;
  private static final int FIRST_HOST = 100; // 198.18.1.100 … .117, clear of the topology's hosts
  private static final int IP = FrameSlot.HEADROOM + EthernetHeader.LENGTH;
  private static final int TCP = IP + Ipv4Header.MIN_LENGTH;

  final int count;
  final int length;
  private final UnsafeBuffer template;
  private final int templateSource;
  private final int templatePort;
  private final int templateIpChecksum;
  private final int templateTcpChecksum;

  /**
   * Per driven flow, in driving order, two longs: source address (32 bits), source port (16), IP
   * checksum (16); TCP checksum.
   */
  private final long[] flows;

  private FlowFrames(byte[] frame, int[] order) {
    this.template = new UnsafeBuffer(frame);
    this.length = frame.length;
    this.count = order.length;
    int ip = EthernetHeader.LENGTH;
    int tcp = ip + Ipv4Header.MIN_LENGTH;
    this.templateSource = Ipv4Header.source(template, ip);
    this.templatePort = TcpHeader.sourcePort(template, tcp);
    this.templateIpChecksum = Ipv4Header.checksum(template, ip);
    this.templateTcpChecksum = TcpHeader.checksum(template, tcp);
    this.flows = new long[2 * count];
    for (int i = 0; i < count; i++) {
      int flow = order[i];
      int source = source(flow);
      int port = port(flow);
      int ipChecksum = InternetChecksum.update32(templateIpChecksum, templateSource, source);
      int tcpChecksum =
          InternetChecksum.update16(
              InternetChecksum.update32(templateTcpChecksum, templateSource, source),
              templatePort,
              port);
      flows[2 * i] = ((long) source << 32) | ((long) port << 16) | ipChecksum;
      flows[2 * i + 1] = tcpChecksum;
    }
  }

  /**
   * The data packets (TCP ACK, {@code frameLength} bytes) of the redirected or the forwarded half,
   * in a random order fixed by {@code seed}.
   */
  static FlowFrames data(boolean redirected, int frameLength, long seed) {
    int[] order = new int[FLOWS / 2];
    Arrays.setAll(order, i -> redirected ? i : FLOWS / 2 + i);
    Random random = new Random(seed);
    for (int i = order.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    FlowFrames frames = new FlowFrames(template(redirected, frameLength, 0), order);
    frames.checkAgainstBuilder(redirected, frameLength, order);
    return frames;
  }

  /** The SYN of every flow of both halves, in flow order: what fills the table in setup. */
  static void openAll(ForwardingPath path, UnsafeBuffer slot) {
    for (boolean redirected : new boolean[] {true, false}) {
      int[] order = new int[FLOWS / 2];
      Arrays.setAll(order, i -> redirected ? i : FLOWS / 2 + i);
      FlowFrames syns = new FlowFrames(template(redirected, 0, TcpHeader.FLAG_SYN), order);
      for (int i = 0; i < syns.count; i++) {
        syns.write(slot, i);
        path.process(slot, FrameSlot.HEADROOM, syns.length, CLIENT0);
      }
    }
  }

  /** Writes driven flow {@code i}'s frame into the slot after the headroom. */
  void write(MutableDirectBuffer slot, int i) {
    slot.putBytes(FrameSlot.HEADROOM, template, 0, length);
    long a = flows[2 * i];
    slot.putInt(IP + Ipv4Header.SOURCE_OFFSET, (int) (a >>> 32), ByteOrder.BIG_ENDIAN);
    slot.putShort(IP + Ipv4Header.CHECKSUM_OFFSET, (short) a, ByteOrder.BIG_ENDIAN);
    slot.putShort(TCP + TcpHeader.SOURCE_PORT_OFFSET, (short) (a >>> 16), ByteOrder.BIG_ENDIAN);
    slot.putShort(TCP + TcpHeader.CHECKSUM_OFFSET, (short) flows[2 * i + 1], ByteOrder.BIG_ENDIAN);
  }

  private static int source(int flow) {
    return (CLIENT & 0xFFFFFF00) | (FIRST_HOST + flow / PORTS_PER_ADDRESS);
  }

  private static int port(int flow) {
    return FIRST_PORT + flow % PORTS_PER_ADDRESS;
  }

  /** A data frame ({@code flags} 0: ACK with payload up to {@code frameLength}) or a bare SYN. */
  private static byte[] template(boolean redirected, int frameLength, int flags) {
    return builder(redirected, frameLength, flags, source(0), port(0));
  }

  private static byte[] builder(
      boolean redirected, int frameLength, int flags, int source, int port) {
    PacketBuilder b =
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv4(source, ORIGIN)
            .id(1)
            .tcp(port, redirected ? HTTP : BenchFrames.UNREDIRECTED_PORT)
            .seq(1_000L);
    if (flags != 0) {
      return b.flags(flags).build();
    }
    int payload =
        frameLength - EthernetHeader.LENGTH - Ipv4Header.MIN_LENGTH - TcpHeader.MIN_LENGTH;
    if (payload < 0) {
      throw new IllegalArgumentException("frame too short for Ethernet/IPv4/TCP: " + frameLength);
    }
    byte[] frame = b.payload(payload).build();
    if (frame.length != frameLength) {
      throw new IllegalStateException("built " + frame.length + " bytes, wanted " + frameLength);
    }
    return frame;
  }

  /** Patched frames must be byte for byte what the packet builder makes for that flow. */
  private void checkAgainstBuilder(boolean redirected, int frameLength, int[] order) {
    UnsafeBuffer slot = BenchFrames.slot();
    for (int i : new int[] {0, 1, count / 2, count - 1}) {
      write(slot, i);
      int flow = order[i];
      byte[] want = builder(redirected, frameLength, 0, source(flow), port(flow));
      byte[] got = new byte[length];
      slot.getBytes(FrameSlot.HEADROOM, got);
      if (!Arrays.equals(want, got)) {
        throw new IllegalStateException("patched frame of flow " + flow + " differs from built");
      }
    }
  }
}
