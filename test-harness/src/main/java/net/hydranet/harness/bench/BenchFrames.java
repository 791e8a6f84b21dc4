package net.hydranet.harness.bench;

import static net.hydranet.harness.fixture.SampleTopology.CLIENT;
import static net.hydranet.harness.fixture.SampleTopology.CLIENT0_MAC;
import static net.hydranet.harness.fixture.SampleTopology.CLIENT_MAC;
import static net.hydranet.harness.fixture.SampleTopology.HTTP;
import static net.hydranet.harness.fixture.SampleTopology.ORIGIN;

import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.forwarding.io.TxPort;
import net.hydranet.forwarding.pipeline.FrameSlot;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.forwarding.wire.TcpHeader;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.harness.fixture.SampleTopology;
import net.hydranet.harness.packet.PacketBuilder;
import net.hydranet.router.config.ConfigException;
import net.hydranet.router.config.ConfigLoader;
import net.hydranet.router.config.RedirectorConfig;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The benchmarks' traffic and redirector: {@link #COUNT} prebuilt frames of one kind and size, each
 * a different flow (source port), held back to back in one direct buffer, and the sample redirector
 * with discarding ports and the host-server link MTU each mode needs.
 *
 * <p>Frame size is the Ethernet frame as captured (destination MAC to the end of the IP datagram,
 * no FCS), so 64 is a 14-byte Ethernet header, a 20-byte IPv4 header, a 20-byte TCP header and 10
 * bytes of payload.
 */
final class BenchFrames {
  /** Distinct flows, so neither the flow hash nor the branch predictor sees one flow only. */
  static final int COUNT = 1024;

  /** The clock the plane starts at. */
  static final long START_NANOS = 1_000_000_000L;

  /** Not redirected by the sample config: forwarded to the origin. */
  static final int UNREDIRECTED_PORT = 8080;

  final UnsafeBuffer frames;
  final int stride;
  final int length;

  private BenchFrames(UnsafeBuffer frames, int stride, int length) {
    this.frames = frames;
    this.stride = stride;
    this.length = length;
  }

  /**
   * TCP ACK segments from the client, {@code frameLength} bytes each, DF clear: to port 80 of the
   * origin (redirected) or to {@link #UNREDIRECTED_PORT} (forwarded).
   */
  static BenchFrames build(boolean redirected, int frameLength) {
    int payload =
        frameLength - EthernetHeader.LENGTH - Ipv4Header.MIN_LENGTH - TcpHeader.MIN_LENGTH;
    if (payload < 0) {
      throw new IllegalArgumentException("frame too short for Ethernet/IPv4/TCP: " + frameLength);
    }
    int stride = (frameLength + 63) & ~63;
    UnsafeBuffer frames = new UnsafeBuffer(BufferUtil.allocateDirectAligned(stride * COUNT, 64));
    for (int i = 0; i < COUNT; i++) {
      byte[] frame =
          PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
              .ipv4(CLIENT, ORIGIN)
              .id(i)
              .tcp(10_000 + i, redirected ? HTTP : UNREDIRECTED_PORT)
              .seq(1_000L * i)
              .payload(payload)
              .build();
      if (frame.length != frameLength) {
        throw new IllegalStateException("built " + frame.length + " bytes, wanted " + frameLength);
      }
      frames.putBytes(i * stride, frame);
    }
    return new BenchFrames(frames, stride, frameLength);
  }

  /** The smallest IPv6 TCP frame: Ethernet, the 40-byte fixed header, a 20-byte TCP header. */
  static final int MIN_IPV6 = EthernetHeader.LENGTH + Ipv6Header.LENGTH + TcpHeader.MIN_LENGTH;

  /**
   * IPv6 TCP ACK segments from the client 2001:2:0:1::10, {@code frameLength} bytes each: to port
   * 80 of the origin 2001:2:0:2::10 (redirected in IPv6-in-IPv6) or to {@link #UNREDIRECTED_PORT}
   * (forwarded).
   */
  static BenchFrames build6(boolean redirected, int frameLength) {
    int payload = frameLength - MIN_IPV6;
    if (payload < 0) {
      throw new IllegalArgumentException("frame too short for Ethernet/IPv6/TCP: " + frameLength);
    }
    int stride = (frameLength + 63) & ~63;
    UnsafeBuffer frames = new UnsafeBuffer(BufferUtil.allocateDirectAligned(stride * COUNT, 64));
    for (int i = 0; i < COUNT; i++) {
      byte[] frame =
          PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
              .ipv6(SampleTopology.CLIENT6, SampleTopology.ORIGIN6)
              .tcp(10_000 + i, redirected ? HTTP : UNREDIRECTED_PORT)
              .seq(1_000L * i)
              .payload(payload)
              .build();
      if (frame.length != frameLength) {
        throw new IllegalStateException("built " + frame.length + " bytes, wanted " + frameLength);
      }
      frames.putBytes(i * stride, frame);
    }
    return new BenchFrames(frames, stride, frameLength);
  }

  /** Offset of frame {@code i} in {@link #frames}. */
  int offset(int i) {
    return i * stride;
  }

  /** A direct slot like the ring's: {@link FrameSlot#SLOT_SIZE} bytes, 64-byte aligned. */
  static UnsafeBuffer slot() {
    return new UnsafeBuffer(BufferUtil.allocateDirectAligned(FrameSlot.SLOT_SIZE, 64));
  }

  /**
   * The redirector of {@code config/replay-sample.yaml} with hs0's MTU set to {@code hostServerMtu}
   * and every port discarding, its tables loaded and its clock started; the connection table holds
   * {@code flowCapacity} flows (the sample's 1,048,576, or 0: off).
   */
  static ForwardingPlane plane(int hostServerMtu, int flowCapacity, DiscardPort[] ports)
      throws ConfigException {
    RedirectorConfig config = config(hostServerMtu, flowCapacity);
    int interfaces = config.context().interfaces().size();
    if (ports.length != interfaces) {
      throw new IllegalArgumentException("need " + interfaces + " ports");
    }
    for (int i = 0; i < interfaces; i++) {
      ports[i] = new DiscardPort();
    }
    ForwardingPlane plane = new ForwardingPlane(config.context(), ports.clone());
    config.applyTo(plane);
    plane.path().tick(START_NANOS);
    return plane;
  }

  /**
   * The same redirector with {@code pipelines} pipelines, each with its own discarding ports
   * ({@code ports[p]} is filled for pipeline {@code p}) and the receive thread's {@code
   * inlineBurst}; not started.
   */
  static ForwardingPlane plane(
      int hostServerMtu, int flowCapacity, int pipelines, int inlineBurst, DiscardPort[][] ports)
      throws ConfigException {
    RedirectorConfig config = config(hostServerMtu, flowCapacity);
    config.context().pipelines(pipelines).inlineBurst(inlineBurst);
    int interfaces = config.context().interfaces().size();
    if (ports.length != pipelines) {
      throw new IllegalArgumentException("need ports for " + pipelines + " pipelines");
    }
    TxPort[][] tx = new TxPort[pipelines][interfaces];
    for (int p = 0; p < pipelines; p++) {
      ports[p] = new DiscardPort[interfaces];
      for (int i = 0; i < interfaces; i++) {
        ports[p][i] = new DiscardPort();
        tx[p][i] = ports[p][i];
      }
    }
    ForwardingPlane plane = new ForwardingPlane(config.context(), tx);
    config.applyTo(plane);
    return plane;
  }

  private static RedirectorConfig config(int hostServerMtu, int flowCapacity)
      throws ConfigException {
    String text = readSample();
    String hs0 = "address: 198.18.3.1/24\n    mtu: 1500";
    String capacity = "flowCapacity: 1048576";
    if (!text.contains(hs0) || !text.contains(capacity)) {
      throw new IllegalStateException(
          "config/replay-sample.yaml no longer has hs0 at MTU 1500 and flowCapacity 1048576");
    }
    text = text.replace(hs0, "address: 198.18.3.1/24\n    mtu: " + hostServerMtu);
    text = text.replace(capacity, "flowCapacity: " + flowCapacity);
    return ConfigLoader.parse("replay-sample.yaml (bench)", text, null);
  }

  private static String readSample() {
    try {
      return java.nio.file.Files.readString(
          RedirectorUnderTest.repositoryRoot().resolve("config/replay-sample.yaml"));
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A port that only counts, like a NIC that never pushes back. */
  static final class DiscardPort implements TxPort {
    long frames;
    long bytes;

    @Override
    public boolean send(DirectBuffer buffer, int offset, int length, long timestampNanos) {
      frames++;
      bytes += length;
      return true;
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }
}
