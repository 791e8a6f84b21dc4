package net.hydranet.harness.fuzz;

import static net.hydranet.harness.fixture.SampleTopology.HOST_SERVER;
import static net.hydranet.harness.fixture.SampleTopology.HS0_IP;
import static net.hydranet.harness.fixture.SampleTopology.MTU;

import java.util.List;
import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.IcmpHeader;
import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.harness.fixture.CapturingTxPort;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.harness.packet.Frames;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * What must hold for every frame the redirector of {@code config/replay-sample.yaml} emits,
 * whatever it was given: the fuzz targets' oracle. A violation throws {@link AssertionError} with
 * the reason.
 */
final class RedirectorOracle {
  /** RFC 1812 §4.3.2.3: an ICMP error stays within 576 bytes, so it quotes at most 548. */
  static final int MAX_QUOTE = 576 - Ipv4Header.MIN_LENGTH - IcmpHeader.LENGTH;

  private final RedirectorUnderTest redirector;
  private final int[] ourAddresses;
  private final int pendingBound;

  RedirectorOracle(RedirectorUnderTest redirector) {
    this.redirector = redirector;
    List<RouterInterface> interfaces = redirector.plane().context().interfaces();
    this.ourAddresses = interfaces.stream().mapToInt(RouterInterface::address).toArray();
    this.pendingBound = redirector.plane().context().arpQueueFrames();
  }

  /** Runs one frame and checks everything it caused. */
  List<CapturingTxPort.Sent> receive(int ingress, byte[] frame) {
    List<CapturingTxPort.Sent> sent = redirector.receive(ingress, frame);
    try {
      check(frame, sent);
    } catch (AssertionError e) {
      StringBuilder why = new StringBuilder(e.getMessage());
      why.append("\n  in  (ingress ").append(ingress).append("): ").append(hex(frame));
      for (CapturingTxPort.Sent s : sent) {
        why.append("\n  out (iface ").append(s.iface()).append("): ").append(hex(s.frame()));
      }
      throw new AssertionError(why.toString(), e);
    }
    return sent;
  }

  static String hex(byte[] bytes) {
    StringBuilder s = new StringBuilder();
    for (byte b : bytes) {
      s.append(String.format("%02x", b & 0xFF));
    }
    return s.toString();
  }

  void check(byte[] input, List<CapturingTxPort.Sent> sent) {
    Input in = Input.of(input);
    for (CapturingTxPort.Sent s : sent) {
      checkFrame(in, s.frame());
    }
    if (in.ip >= 0 && isOurs(Ipv4Header.source(new UnsafeBuffer(in.frame), in.ip))) {
      // Our own address as the source, from the wire: a martian (RFC 1812 §5.3.7, finding 5),
      // neither answered nor forwarded. (ARP frames may still leave: timers run on every frame.)
      for (CapturingTxPort.Sent s : sent) {
        if (EthernetHeader.type(new UnsafeBuffer(s.frame()), 0) == EthernetHeader.TYPE_IPV4) {
          throw new AssertionError("answered or forwarded an input from our own address");
        }
      }
    } else if (in.ip >= 0) {
      checkForwardedPieces(in, sent);
    }
    long rx = redirector.counter(Counter.RX_FRAMES);
    // A non-first fragment to a service address may wait for its first (the flows issue): its
    // outcome is counted when it is released or times out, so until then it is "held".
    long outcomes = redirector.plane().counters().outcomes();
    long held = redirector.plane().path().fragments().held();
    if (rx != outcomes + held) {
      throw new AssertionError(
          "rx_frames " + rx + " != outcomes " + outcomes + " + held fragments " + held);
    }
    int pending = redirector.plane().neighbours().pendingFrames();
    if (pending < 0 || pending > pendingBound) {
      throw new AssertionError("pending ARP frames " + pending + " outside 0.." + pendingBound);
    }
  }

  /**
   * IPv6 out (issue 21), the oracles that need no model of the input yet: a whole fixed header, a
   * payload length that matches the bytes, within the MTU. (The IPv4 oracles that compare output
   * with input — hop limit exactly one lower, checksums kept — are not written for IPv6 yet.)
   */
  private static void checkIpv6Frame(UnsafeBuffer b, int length) {
    int ip = EthernetHeader.LENGTH;
    int available = length - ip;
    if (available < Ipv6Header.LENGTH || Ipv6Header.version(b, ip) != 6) {
      throw new AssertionError("emitted a frame without an IPv6 header");
    }
    int payload = Ipv6Header.payloadLength(b, ip);
    if (Ipv6Header.LENGTH + payload != available) {
      throw new AssertionError("payload length " + payload + " but " + available + " bytes");
    }
    if (available > MTU) {
      throw new AssertionError("emitted " + available + " bytes over MTU " + MTU);
    }
  }

  private void checkFrame(Input in, byte[] out) {
    if (out.length < EthernetHeader.LENGTH) {
      throw new AssertionError("emitted a runt of " + out.length + " bytes");
    }
    UnsafeBuffer b = new UnsafeBuffer(out);
    int type = EthernetHeader.type(b, 0);
    if (type == EthernetHeader.TYPE_ARP) {
      if (out.length != EthernetHeader.LENGTH + 28) {
        throw new AssertionError("ARP frame of " + out.length + " bytes");
      }
      return;
    }
    if (type == EthernetHeader.TYPE_IPV6) {
      checkIpv6Frame(b, out.length);
      return;
    }
    if (type != EthernetHeader.TYPE_IPV4) {
      throw new AssertionError("emitted ethertype " + Integer.toHexString(type));
    }
    if (in.malformedIp) {
      throw new AssertionError("emitted a frame for an input with a malformed IPv4 header");
    }
    int ip = EthernetHeader.LENGTH;
    int available = out.length - ip;
    if (available < Ipv4Header.MIN_LENGTH || Ipv4Header.version(b, ip) != 4) {
      throw new AssertionError("emitted a frame without an IPv4 header");
    }
    int ihl = Ipv4Header.headerLength(b, ip);
    int total = Ipv4Header.totalLength(b, ip);
    if (ihl < Ipv4Header.MIN_LENGTH || ihl > available) {
      throw new AssertionError("emitted IHL " + ihl);
    }
    if (!InternetChecksum.verify(b, ip, ihl)) {
      throw new AssertionError("emitted a bad IPv4 header checksum");
    }
    if (total != available) {
      throw new AssertionError("total length " + total + " but " + available + " bytes follow");
    }
    if (total > MTU) {
      throw new AssertionError("emitted " + total + " bytes over MTU " + MTU);
    }
    if (in.ip < 0) {
      // Released from the ARP queue by this (ARP) input: its own input was checked when queued.
      return;
    }
    UnsafeBuffer i = new UnsafeBuffer(in.frame);
    int inTtl = Ipv4Header.ttl(i, in.ip);
    int outTtl = Ipv4Header.ttl(b, ip);
    boolean sameDatagram =
        Ipv4Header.source(b, ip) == Ipv4Header.source(i, in.ip)
            && Ipv4Header.destination(b, ip) == Ipv4Header.destination(i, in.ip)
            && Ipv4Header.id(b, ip) == Ipv4Header.id(i, in.ip)
            && Ipv4Header.protocol(b, ip) == Ipv4Header.protocol(i, in.ip);
    if (sameDatagram && outTtl == inTtl - 1) {
      checkTransportChecksums(in, out);
      return;
    }
    int protocol = Ipv4Header.protocol(b, ip);
    int source = Ipv4Header.source(b, ip);
    if (protocol == Ipv4Header.PROTOCOL_IPIP
        && source == HS0_IP
        && Ipv4Header.destination(b, ip) == HOST_SERVER) {
      if (Ipv4Header.fragmentOffset(b, ip) == 0 && total >= ihl + Ipv4Header.MIN_LENGTH) {
        int innerTtl = Ipv4Header.ttl(b, ip + ihl);
        if (innerTtl != inTtl - 1) {
          throw new AssertionError("redirected inner TTL " + innerTtl + " for input TTL " + inTtl);
        }
      }
      checkTransportChecksums(in, out);
      return;
    }
    if (protocol == Ipv4Header.PROTOCOL_ICMP && isOurs(source)) {
      int icmp = ip + ihl;
      int icmpType = IcmpHeader.type(b, icmp);
      if (!InternetChecksum.verify(b, icmp, total - ihl)) {
        throw new AssertionError("our ICMP message has a bad checksum");
      }
      if (icmpType == IcmpHeader.TYPE_ECHO_REPLY) {
        return;
      }
      if (!IcmpHeader.isError(icmpType)) {
        throw new AssertionError("we sent ICMP type " + icmpType);
      }
      int quote = total - ihl - IcmpHeader.LENGTH;
      if (quote > MAX_QUOTE) {
        throw new AssertionError("ICMP error quotes " + quote + " bytes");
      }
      if (in.icmpError) {
        throw new AssertionError("an ICMP error about an ICMP error (RFC 1812 §4.3.2.7)");
      }
      int quotedTtl = Ipv4Header.ttl(b, icmp + IcmpHeader.LENGTH);
      if (quotedTtl != inTtl) {
        throw new AssertionError("ICMP error quotes TTL " + quotedTtl + ", received " + inTtl);
      }
      return;
    }
    throw new AssertionError(
        "unexplained output: TTL "
            + outTtl
            + " from input TTL "
            + inTtl
            + ", protocol "
            + protocol);
  }

  /**
   * What the router forwarded of one input (whole or in fragments) is exactly the input's data (but
   * for a clamped MSS, see {@link #clampedMss}): each piece holds the input's bytes at its offset,
   * the pieces cover the data once, and only the last piece may clear more-fragments (unless the
   * input itself had it set).
   */
  private static void checkForwardedPieces(Input in, List<CapturingTxPort.Sent> sent) {
    UnsafeBuffer i = new UnsafeBuffer(in.frame);
    int inIhl = Ipv4Header.headerLength(i, in.ip);
    int inData = Ipv4Header.totalLength(i, in.ip) - inIhl;
    int inOffset = Ipv4Header.fragmentOffset(i, in.ip);
    boolean inMore = (Ipv4Header.flagsFragment(i, in.ip) & Ipv4Header.FLAG_MF) != 0;
    int covered = 0;
    int pieces = 0;
    int lastEnd = -1;
    boolean lastMore = false;
    for (CapturingTxPort.Sent s : sent) {
      byte[] out = s.frame();
      UnsafeBuffer b = new UnsafeBuffer(out);
      int ip = EthernetHeader.LENGTH;
      if (EthernetHeader.type(b, 0) != EthernetHeader.TYPE_IPV4
          || Ipv4Header.source(b, ip) != Ipv4Header.source(i, in.ip)
          || Ipv4Header.destination(b, ip) != Ipv4Header.destination(i, in.ip)
          || Ipv4Header.id(b, ip) != Ipv4Header.id(i, in.ip)
          || Ipv4Header.protocol(b, ip) != Ipv4Header.protocol(i, in.ip)
          || Ipv4Header.ttl(b, ip) != Ipv4Header.ttl(i, in.ip) - 1) {
        continue;
      }
      int ihl = Ipv4Header.headerLength(b, ip);
      int data = Ipv4Header.totalLength(b, ip) - ihl;
      int at = Ipv4Header.fragmentOffset(b, ip) - inOffset;
      boolean inputIsFragment = inMore || inOffset != 0;
      if (inputIsFragment && (at < 0 || at + data > inData)) {
        // A first fragment releases the fragments of its datagram held until it came (the flows
        // issue): same datagram, other offsets. They are not pieces of this input.
        continue;
      }
      if (at < 0 || at + data > inData) {
        throw new AssertionError("forwarded piece [" + at + ", +" + data + ") outside the input");
      }
      int clampedMss = clampedMss(in, inIhl, out, ip + ihl, at, data);
      for (int k = 0; k < data; k++) {
        if (out[ip + ihl + k] != in.frame[in.ip + inIhl + at + k] && !clampedBytes(clampedMss, k)) {
          throw new AssertionError(
              "forwarded piece differs from the input at data byte " + (at + k));
        }
      }
      if (at != Math.max(lastEnd, 0)) {
        throw new AssertionError("forwarded pieces not back to back: " + at + " after " + lastEnd);
      }
      if (pieces > 0 && !lastMore) {
        throw new AssertionError("a piece after one without more-fragments");
      }
      lastMore = (Ipv4Header.flagsFragment(b, ip) & Ipv4Header.FLAG_MF) != 0;
      lastEnd = at + data;
      covered += data;
      pieces++;
    }
    if (pieces > 0) {
      if (covered != inData) {
        throw new AssertionError("forwarded " + covered + " of " + inData + " data bytes");
      }
      if (lastMore != inMore) {
        throw new AssertionError("last piece more-fragments " + lastMore + ", input " + inMore);
      }
    }
  }

  /**
   * A SYN from a replicated service's address and port is forwarded with its MSS clamped, like a
   * redirected SYN (the flows issue): then the MSS value and the TCP checksum may differ, and
   * nothing else. Returns the data offset of the MSS option's value in a whole, unfragmented TCP
   * SYN forwarded with a lower MSS, or -1. The options are read here, not with the router's parser.
   */
  private static int clampedMss(Input in, int inIhl, byte[] out, int outData, int at, int data) {
    int tcp = in.ip + inIhl;
    int segment = in.frame.length - tcp;
    if (at != 0
        || Ipv4Header.protocol(new UnsafeBuffer(in.frame), in.ip) != Ipv4Header.PROTOCOL_TCP
        || segment < 20
        || data != Ipv4Header.totalLength(new UnsafeBuffer(in.frame), in.ip) - inIhl
        || (in.frame[tcp + 13] & 0x02) == 0) {
      return -1;
    }
    int headerLength = ((in.frame[tcp + 12] & 0xFF) >>> 4) * 4;
    if (headerLength < 20 || headerLength > data) {
      return -1;
    }
    for (int o = 20; o < headerLength; ) {
      int kind = in.frame[tcp + o] & 0xFF;
      if (kind == 0) {
        return -1;
      }
      if (kind == 1) {
        o++;
        continue;
      }
      if (o + 1 >= headerLength) {
        return -1;
      }
      int length = in.frame[tcp + o + 1] & 0xFF;
      if (length < 2 || o + length > headerLength) {
        return -1;
      }
      if (kind == 2 && length == 4) {
        int inMss = ((in.frame[tcp + o + 2] & 0xFF) << 8) | (in.frame[tcp + o + 3] & 0xFF);
        int outMss = ((out[outData + o + 2] & 0xFF) << 8) | (out[outData + o + 3] & 0xFF);
        return outMss < inMss ? o + 2 : -1;
      }
      o += length;
    }
    return -1;
  }

  /** Whether data byte {@code k} may differ because the MSS at {@code mss} was clamped. */
  private static boolean clampedBytes(int mss, int k) {
    return mss >= 0 && (k == mss || k == mss + 1 || k == 16 || k == 17);
  }

  /** An input whose checksums all verified must not leave with one that does not. */
  private static void checkTransportChecksums(Input in, byte[] out) {
    if (in.checksumsValid && !Frames.checksumsValid(out)) {
      throw new AssertionError("valid checksums in, invalid out");
    }
  }

  private boolean isOurs(int address) {
    for (int a : ourAddresses) {
      if (a == address) {
        return true;
      }
    }
    return false;
  }

  /** What the oracle needs to know about one input frame, read independently of the router. */
  private record Input(
      byte[] frame, int ip, boolean malformedIp, boolean checksumsValid, boolean icmpError) {
    static Input of(byte[] frame) {
      int ip = Frames.ipv4Offset(frame);
      if (ip == Frames.NOT_IPV4) {
        return new Input(frame, -1, false, false, false);
      }
      UnsafeBuffer b = new UnsafeBuffer(frame);
      int available = frame.length - ip;
      if (available < Ipv4Header.MIN_LENGTH) {
        return new Input(frame, -1, true, false, false);
      }
      int ihl = Ipv4Header.headerLength(b, ip);
      int total = Ipv4Header.totalLength(b, ip);
      boolean malformed =
          Ipv4Header.version(b, ip) != 4
              || ihl < Ipv4Header.MIN_LENGTH
              || total < ihl
              || total > available
              || !InternetChecksum.verify(b, ip, ihl);
      if (malformed) {
        return new Input(frame, -1, true, false, false);
      }
      boolean icmpError =
          Ipv4Header.protocol(b, ip) == Ipv4Header.PROTOCOL_ICMP
              && total > ihl
              && IcmpHeader.isError(IcmpHeader.type(b, ip + ihl));
      return new Input(frame, ip, false, Frames.checksumsValid(frame), icmpError);
    }
  }
}
