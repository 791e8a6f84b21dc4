package net.hydranet.harness.fuzz;

import static net.hydranet.harness.fixture.SampleTopology.HOST_SERVER;
import static net.hydranet.harness.fixture.SampleTopology.HOST_SERVER6;
import static net.hydranet.harness.fixture.SampleTopology.HS0_IP;
import static net.hydranet.harness.fixture.SampleTopology.HS0_IP6;
import static net.hydranet.harness.fixture.SampleTopology.MTU;

import java.util.List;
import net.hydranet.forwarding.config.RouterAddress6;
import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.GueHeader;
import net.hydranet.forwarding.wire.IcmpHeader;
import net.hydranet.forwarding.wire.Icmpv6Header;
import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.forwarding.wire.UdpHeader;
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

  /** RFC 4443 §2.4 (c): an ICMPv6 error stays within the minimum MTU, so it quotes at most 1232. */
  static final int MAX_QUOTE6 = Ipv6Header.MIN_MTU - Ipv6Header.LENGTH - Icmpv6Header.LENGTH;

  private final RedirectorUnderTest redirector;
  private final int[] ourAddresses;
  // The router's IPv6 addresses: the configured ones, then each interface's link-local one.
  private final long[] ours6High;
  private final long[] ours6Low;
  private final int pendingBound;
  // IPv6 non-first fragments the router holds until their first fragment comes (as IPv4's): a
  // later input's first fragment releases them, so an output may be one of these, not that input.
  private final List<Input6> held6 = new java.util.ArrayList<>();

  RedirectorOracle(RedirectorUnderTest redirector) {
    this.redirector = redirector;
    List<RouterInterface> interfaces = redirector.plane().context().interfaces();
    this.ourAddresses = interfaces.stream().mapToInt(RouterInterface::address).toArray();
    List<RouterAddress6> addresses6 = redirector.plane().context().addresses6();
    this.ours6High = new long[addresses6.size() + interfaces.size()];
    this.ours6Low = new long[ours6High.length];
    for (int i = 0; i < addresses6.size(); i++) {
      ours6High[i] = addresses6.get(i).high();
      ours6Low[i] = addresses6.get(i).low();
    }
    for (int i = 0; i < interfaces.size(); i++) {
      ours6High[addresses6.size() + i] = RouterAddress6.LINK_LOCAL_HIGH;
      ours6Low[addresses6.size() + i] = RouterAddress6.linkLocalLow(interfaces.get(i).mac());
    }
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
    Input6 in6 = Input6.of(input);
    for (CapturingTxPort.Sent s : sent) {
      checkFrame(in, in6, s.frame());
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
    long held6Now = redirector.plane().path().ipv6().fragments().held();
    while (held6.size() > held6Now) {
      held6.remove(0); // timed out (oldest first) or evicted
    }
    if (held6Now > held6.size() && in6.frame != null) {
      held6.add(in6);
    }
    long held = redirector.plane().path().fragments().held() + held6Now;
    if (rx != outcomes + held) {
      throw new AssertionError(
          "rx_frames " + rx + " != outcomes " + outcomes + " + held fragments " + held);
    }
    int pending = redirector.plane().neighbours().pendingFrames();
    if (pending < 0 || pending > pendingBound) {
      throw new AssertionError("pending ARP frames " + pending + " outside 0.." + pendingBound);
    }
    int pending6 = redirector.plane().path().ipv6().neighbours().pendingFrames();
    if (pending6 < 0 || pending6 > pendingBound) {
      throw new AssertionError("pending ND frames " + pending6 + " outside 0.." + pendingBound);
    }
  }

  /** IPv6 out (issue 21): a whole fixed header, a payload length that matches, within the MTU. */
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

  private void checkFrame(Input in, Input6 in6, byte[] out) {
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
      explainIpv6(in6, out);
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
    if (in6.frame != null) {
      // An IPv6 input leaves in IPv4 only tunnelled to an IPv4 host server (IPv6-in-IPv4).
      explainSixInFour(in6, out, ihl, total);
      return;
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
    if (isPassOnTo(i, in.ip) && isInnerForwarded(i, in.ip, b, ip)) {
      return; // a host server's pass-on, forwarded to the origin (TunnelToOrigin)
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
   * Why an IPv6 frame left (issue 21), read against the input: a neighbour solicitation of ours
   * (timers run on every frame); a frame released by a neighbour discovery message; an ICMPv6
   * message of ours about this input; this input forwarded; or this input tunnelled to its IPv6
   * host server. Nothing else, and nothing at all but solicitations for a malformed input.
   */
  private void explainIpv6(Input6 in, byte[] out) {
    int ip = EthernetHeader.LENGTH;
    Frames.Ipv6Walk walk = Frames.walkIpv6(out, ip, out.length);
    if (walk == null) {
      throw new AssertionError("emitted an IPv6 packet whose extension headers run past it");
    }
    boolean fromUs = isOurs6(out, ip + Ipv6Header.SOURCE_OFFSET);
    boolean icmp = walk.protocol() == Ipv6Header.NEXT_HEADER_ICMPV6 && !walk.isFragmented();
    int icmpType = icmp && walk.end() > walk.upper() ? out[walk.upper()] & 0xFF : -1;
    if (fromUs && icmp && !Frames.checksumsValid(out)) {
      throw new AssertionError("our ICMPv6 type " + icmpType + " has a bad checksum");
    }
    if (fromUs && icmpType == Icmpv6Header.TYPE_NEIGHBOUR_SOLICITATION) {
      if ((out[ip + 7] & 0xFF) != 255) {
        throw new AssertionError(
            "our neighbour solicitation has hop limit " + (out[ip + 7] & 0xFF));
      }
      return;
    }
    if (in.frame == null || in.walk == null) {
      throw new AssertionError(
          in.frame == null
              ? "emitted IPv6 for an input that is not IPv6"
              : "emitted IPv6 for an input with a malformed IPv6 header");
    }
    if (sameAddresses(in.frame, in.ip, out, ip) && !fromUs) {
      requireNotMartian6(out, ip);
      requireSameOrHeld(in, out, ip, "forwarded");
      return;
    }
    if (in.isNeighbourDiscovery()) {
      // An answer to it, or frames it released from the neighbour queue, whose own inputs were
      // checked when they were queued: the checks above (and the checksum of ours) are all.
      return;
    }
    if (fromUs && icmp) {
      explainOurIcmpv6(in, out, walk, icmpType);
      return;
    }
    if (isTunnelToHostServer6(out, ip)) {
      if ((out[ip + 6] & 0xFF) != Ipv6Header.NEXT_HEADER_IPV6 || (out[ip + 7] & 0xFF) != 64) {
        throw new AssertionError("IPv6-in-IPv6 with next header or hop limit not 41/64");
      }
      requireNotMartian6(out, ip + Ipv6Header.LENGTH);
      requireSameOrHeld(in, out, ip + Ipv6Header.LENGTH, "redirected (IPv6-in-IPv6)");
      return;
    }
    throw new AssertionError("unexplained IPv6 output");
  }

  /** An IPv4 frame for an IPv6 input: IPv6-in-IPv4 to the host server from hs0's address. */
  private void explainSixInFour(Input6 in, byte[] out, int ihl, int total) {
    int ip = EthernetHeader.LENGTH;
    UnsafeBuffer b = new UnsafeBuffer(out);
    if (in.walk == null) {
      throw new AssertionError("emitted IPv4 for an input with a malformed IPv6 header");
    }
    if (Ipv4Header.protocol(b, ip) != Ipv6Header.NEXT_HEADER_IPV6
        || Ipv4Header.source(b, ip) != HS0_IP
        || Ipv4Header.destination(b, ip) != HOST_SERVER) {
      throw new AssertionError("an IPv6 input left in IPv4 other than IPv6-in-IPv4 to the host");
    }
    if ((Ipv4Header.flagsFragment(b, ip) & (Ipv4Header.FLAG_DF | Ipv4Header.FLAG_MF))
            != Ipv4Header.FLAG_DF
        || Ipv4Header.fragmentOffset(b, ip) != 0) {
      throw new AssertionError("IPv6-in-IPv4 without DF or fragmented (RFC 4213 §3.2)");
    }
    requireNotMartian6(out, ip + ihl);
    requireSameOrHeld(in, out, ip + ihl, "redirected (IPv6-in-IPv4)");
  }

  /**
   * Our ICMPv6 message: an echo reply to an echo request, an advertisement answering a
   * solicitation, or an error about this input, to its source, quoting it as received, within 1280
   * bytes (RFC 4443 §2.4 (c)), never about an ICMPv6 error or redirect (§2.4 (e)).
   */
  private static void explainOurIcmpv6(Input6 in, byte[] out, Frames.Ipv6Walk walk, int type) {
    int ip = EthernetHeader.LENGTH;
    int inType = in.icmpType();
    if (type == Icmpv6Header.TYPE_ECHO_REPLY) {
      if (inType != Icmpv6Header.TYPE_ECHO_REQUEST) {
        throw new AssertionError("an echo reply to ICMPv6 type " + inType);
      }
      return;
    }
    if (type == Icmpv6Header.TYPE_NEIGHBOUR_ADVERTISEMENT) {
      if (inType != Icmpv6Header.TYPE_NEIGHBOUR_SOLICITATION || (out[ip + 7] & 0xFF) != 255) {
        throw new AssertionError(
            "an advertisement, hop limit " + (out[ip + 7] & 0xFF) + ", for type " + inType);
      }
      return;
    }
    if (!Icmpv6Header.isError(type)) {
      throw new AssertionError("we sent ICMPv6 type " + type);
    }
    if (inType >= 0 && (Icmpv6Header.isError(inType) || inType == Icmpv6Header.TYPE_REDIRECT)) {
      throw new AssertionError(
          "an ICMPv6 error about an ICMPv6 error or redirect (RFC 4443 §2.4 (e))");
    }
    int length = walk.end() - ip;
    if (length > Ipv6Header.MIN_MTU) {
      throw new AssertionError("ICMPv6 error of " + length + " bytes");
    }
    if (!java.util.Arrays.equals(
        out,
        ip + Ipv6Header.DESTINATION_OFFSET,
        ip + Ipv6Header.DESTINATION_OFFSET + 16,
        in.frame,
        in.ip + Ipv6Header.SOURCE_OFFSET,
        in.ip + Ipv6Header.SOURCE_OFFSET + 16)) {
      throw new AssertionError("ICMPv6 error not to the input's source");
    }
    int quote = walk.upper() + Icmpv6Header.LENGTH;
    int quoted = walk.end() - quote;
    int expected = Math.min(in.walk.end() - in.ip, MAX_QUOTE6);
    if (quoted != expected
        || !java.util.Arrays.equals(out, quote, quote + quoted, in.frame, in.ip, in.ip + quoted)) {
      throw new AssertionError(
          "ICMPv6 error quotes "
              + quoted
              + " bytes, not the input's first "
              + expected
              + " as received");
    }
    if (type == Icmpv6Header.TYPE_PACKET_TOO_BIG) {
      long mtu =
          new UnsafeBuffer(out).getInt(walk.upper() + 4, java.nio.ByteOrder.BIG_ENDIAN)
              & 0xFFFF_FFFFL;
      if (mtu < Ipv6Header.MIN_MTU || mtu >= in.walk.end() - in.ip) {
        throw new AssertionError(
            "Packet Too Big with MTU " + mtu + " for " + (in.walk.end() - in.ip) + " bytes");
      }
    }
  }

  /**
   * The packet at {@code at} in {@code out} is the input's IPv6 packet with its hop limit exactly
   * one lower, every other byte the same but a clamped MSS (its value lower, and the TCP checksum),
   * and valid checksums if the input's were.
   */
  /**
   * {@link #requireSamePacket} against this input, or else against one of the held fragments this
   * input released (then no longer held).
   */
  private void requireSameOrHeld(Input6 in, byte[] out, int at, String what) {
    try {
      requireSamePacket(in, out, at, what);
    } catch (AssertionError notThisInput) {
      for (int k = 0; k < held6.size(); k++) {
        try {
          requireSamePacket(held6.get(k), out, at, what + " (a held fragment released)");
          held6.remove(k);
          return;
        } catch (AssertionError notThisOne) {
          // try the next
        }
      }
      throw notThisInput;
    }
  }

  private static void requireSamePacket(Input6 in, byte[] out, int at, String what) {
    int length = in.walk.end() - in.ip;
    Frames.Ipv6Walk walk = Frames.walkIpv6(out, at, out.length);
    if (walk == null || walk.end() - at != length || walk.end() != out.length) {
      throw new AssertionError(what + " packet of another length than the input's " + length);
    }
    int inHop = in.frame[in.ip + Ipv6Header.HOP_LIMIT_OFFSET] & 0xFF;
    int outHop = out[at + Ipv6Header.HOP_LIMIT_OFFSET] & 0xFF;
    if (outHop != inHop - 1) {
      throw new AssertionError(
          what + " with hop limit " + outHop + " from input hop limit " + inHop);
    }
    int tcp = -1;
    int mss = -1;
    if (in.walk.protocol() == Ipv6Header.NEXT_HEADER_TCP && in.walk.fragmentOffset() == -1) {
      tcp = in.walk.upper() - in.ip;
      int inMss = mssValue(in.frame, in.walk.upper(), in.walk.end() - in.walk.upper());
      if (inMss >= 0) {
        int value = in.walk.upper() + inMss;
        int before = ((in.frame[value] & 0xFF) << 8) | (in.frame[value + 1] & 0xFF);
        int after = ((out[at + tcp + inMss] & 0xFF) << 8) | (out[at + tcp + inMss + 1] & 0xFF);
        mss = after < before ? inMss : -1;
      }
    }
    for (int k = 0; k < length; k++) {
      if (k == Ipv6Header.HOP_LIMIT_OFFSET || out[at + k] == in.frame[in.ip + k]) {
        continue;
      }
      boolean clamped =
          tcp >= 0
              && (k == tcp + 16
                  || k == tcp + 17
                  || (mss >= 0 && (k == tcp + mss || k == tcp + mss + 1)));
      if (!clamped) {
        throw new AssertionError(what + " packet differs from the input at byte " + k);
      }
    }
    if (in.checksumsValid && !Frames.checksumsValid(out)) {
      throw new AssertionError("valid checksums in, invalid out (" + what + ")");
    }
  }

  /**
   * The offset, in the TCP header at {@code tcp}, of a whole SYN's MSS option value (kind 2, length
   * 4), or -1; the options are read here, not with the router's parser.
   */
  static int mssValue(byte[] frame, int tcp, int segment) {
    if (segment < 20 || (frame[tcp + 13] & 0x02) == 0) {
      return -1;
    }
    int headerLength = ((frame[tcp + 12] & 0xFF) >>> 4) * 4;
    if (headerLength < 20 || headerLength > segment) {
      return -1;
    }
    for (int o = 20; o < headerLength; ) {
      int kind = frame[tcp + o] & 0xFF;
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
      int length = frame[tcp + o + 1] & 0xFF;
      if (length < 2 || o + length > headerLength) {
        return -1;
      }
      if (kind == 2 && length == 4) {
        return o + 2;
      }
      o += length;
    }
    return -1;
  }

  /**
   * A forwarded packet's addresses (RFC 4291 §2.5.2, §2.5.3, §2.5.6, §2.7): no unspecified,
   * loopback, link-local, multicast or own source; no link-local, loopback, unspecified or
   * multicast destination.
   */
  private void requireNotMartian6(byte[] out, int ip) {
    UnsafeBuffer b = new UnsafeBuffer(out);
    long sh = Ipv6Header.sourceHigh(b, ip);
    long sl = Ipv6Header.sourceLow(b, ip);
    long dh = Ipv6Header.destinationHigh(b, ip);
    long dl = Ipv6Header.destinationLow(b, ip);
    if (Ipv6Header.isUnspecified(sh, sl)
        || Ipv6Header.isLoopback(sh, sl)
        || Ipv6Header.isLinkLocal(sh)
        || Ipv6Header.isMulticast(sh)
        || isOurs6(out, ip + Ipv6Header.SOURCE_OFFSET)) {
      throw new AssertionError("forwarded a packet from " + Ipv6Header.formatAddress(sh, sl));
    }
    if (Ipv6Header.isUnspecified(dh, dl)
        || Ipv6Header.isLinkLocal(dh)
        || Ipv6Header.isLoopback(dh, dl)
        || Ipv6Header.isMulticast(dh)) {
      throw new AssertionError("forwarded a packet to " + Ipv6Header.formatAddress(dh, dl));
    }
  }

  private static boolean sameAddresses(byte[] in, int inIp, byte[] out, int outIp) {
    return java.util.Arrays.equals(
        in,
        inIp + Ipv6Header.SOURCE_OFFSET,
        inIp + Ipv6Header.LENGTH,
        out,
        outIp + Ipv6Header.SOURCE_OFFSET,
        outIp + Ipv6Header.LENGTH);
  }

  /** From hs0's IPv6 address to the sample's IPv6 host server. */
  private static boolean isTunnelToHostServer6(byte[] out, int ip) {
    UnsafeBuffer b = new UnsafeBuffer(out);
    long[] from = Ipv6Header.parseAddress(HS0_IP6);
    long[] to = Ipv6Header.parseAddress(HOST_SERVER6);
    return Ipv6Header.sourceHigh(b, ip) == from[0]
        && Ipv6Header.sourceLow(b, ip) == from[1]
        && Ipv6Header.destinationHigh(b, ip) == to[0]
        && Ipv6Header.destinationLow(b, ip) == to[1];
  }

  /** The 16 bytes at {@code at} are one of the router's IPv6 addresses. */
  private boolean isOurs6(byte[] frame, int at) {
    UnsafeBuffer b = new UnsafeBuffer(frame);
    long high = b.getLong(at, java.nio.ByteOrder.BIG_ENDIAN);
    long low = b.getLong(at + 8, java.nio.ByteOrder.BIG_ENDIAN);
    for (int i = 0; i < ours6High.length; i++) {
      if (ours6High[i] == high && ours6Low[i] == low) {
        return true;
      }
    }
    return false;
  }

  /** The input is UDP to one of our addresses on the second-chance port (SECOND-CHANCE.md). */
  private boolean isPassOnTo(UnsafeBuffer i, int ip) {
    return Ipv4Header.protocol(i, ip) == Ipv4Header.PROTOCOL_UDP
        && isOurs(Ipv4Header.destination(i, ip))
        && Ipv4Header.totalLength(i, ip) >= Ipv4Header.headerLength(i, ip) + GueHeader.MIN_LENGTH
        && UdpHeader.destinationPort(i, ip + Ipv4Header.headerLength(i, ip)) == GueHeader.PORT;
  }

  /**
   * The output is the input's inner datagram with its TTL one lower: the same header fields but TTL
   * and checksum, the same data.
   */
  private static boolean isInnerForwarded(UnsafeBuffer i, int ip, UnsafeBuffer b, int outIp) {
    int ihl = Ipv4Header.headerLength(i, ip);
    int inner = GueHeader.innerOffset(i, ip + ihl, Ipv4Header.totalLength(i, ip) - ihl);
    if (inner < 0) {
      return false;
    }
    int total = Ipv4Header.totalLength(i, inner);
    if (Ipv4Header.totalLength(b, outIp) != total
        || Ipv4Header.headerLength(b, outIp) != Ipv4Header.headerLength(i, inner)
        || Ipv4Header.ttl(b, outIp) != Ipv4Header.ttl(i, inner) - 1) {
      return false;
    }
    for (int k = 0; k < total; k++) {
      if (k != Ipv4Header.TTL_OFFSET
          && k != Ipv4Header.CHECKSUM_OFFSET
          && k != Ipv4Header.CHECKSUM_OFFSET + 1
          && b.getByte(outIp + k) != i.getByte(inner + k)) {
        return false;
      }
    }
    return true;
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

  /**
   * What the oracle needs to know about an IPv6 input, read with {@link Frames#walkIpv6}: {@code
   * frame} null when the input is not IPv6 at all, {@code walk} null when it is malformed (fewer
   * than 40 bytes, version not 6, payload length beyond the frame, extension headers beyond the
   * payload).
   */
  private record Input6(byte[] frame, int ip, Frames.Ipv6Walk walk, boolean checksumsValid) {
    static Input6 of(byte[] frame) {
      int ip = Frames.ipv6Offset(frame);
      if (ip == Frames.NOT_IPV6) {
        return new Input6(null, -1, null, false);
      }
      Frames.Ipv6Walk walk = Frames.walkIpv6(frame, ip, frame.length);
      return new Input6(frame, ip, walk, walk != null && Frames.checksumsValid(frame));
    }

    /** The ICMPv6 type when the input's ICMPv6 header is in it, else -1. */
    int icmpType() {
      if (walk == null
          || walk.protocol() != Ipv6Header.NEXT_HEADER_ICMPV6
          || walk.fragmentOffset() > 0
          || walk.end() <= walk.upper()) {
        return -1;
      }
      return frame[walk.upper()] & 0xFF;
    }

    /** A neighbour solicitation or advertisement: it may release frames queued for its sender. */
    boolean isNeighbourDiscovery() {
      int type = icmpType();
      return type == Icmpv6Header.TYPE_NEIGHBOUR_SOLICITATION
          || type == Icmpv6Header.TYPE_NEIGHBOUR_ADVERTISEMENT;
    }
  }
}
