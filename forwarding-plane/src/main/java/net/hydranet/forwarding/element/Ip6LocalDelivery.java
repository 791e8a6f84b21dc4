package net.hydranet.forwarding.element;

import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.Icmpv6Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.forwarding.wire.NeighbourDiscovery;
import org.agrona.MutableDirectBuffer;

/**
 * An IPv6 packet for the router: neighbour discovery answered and learned from (RFC 4861), an echo
 * request answered in place (RFC 4443 §4.2, so {@code ping -6} gets its reply from us), anything
 * else delivered (counted): with pcap as a tap, the kernel has its own copy.
 *
 * <p>ND: a solicitation for one of our addresses on the ingress link is answered with a solicited
 * advertisement (router and override flags), and its source link-layer option is learned STALE
 * (§7.2.3); an advertisement updates an entry we are resolving or hold (§7.2.5) and releases the
 * frames that waited for it; router solicitations and advertisements are delivered and not acted on
 * (routes here are configured). A message that fails RFC 4861's receive checks changes nothing and
 * is counted {@code drop_bad_nd}.
 */
public final class Ip6LocalDelivery implements Element {
  private final Counters counters;
  private final Ip6Input input;
  private final Ip6Output output;
  private final Egress egress;
  private final Egress6 egress6;

  public Ip6LocalDelivery(
      Counters counters, Ip6Input input, Ip6Output output, Egress egress, Egress6 egress6) {
    this.counters = counters;
    this.input = input;
    this.output = output;
    this.egress = egress;
    this.egress6 = egress6;
  }

  /**
   * @return {@link Verdict#DONE}, or {@link Verdict#DROP} for a bad ND message (counted)
   */
  @Override
  public int process(MutableDirectBuffer buffer, PacketContext packet) {
    int ip = packet.l3;
    int icmp = packet.upper;
    int icmpLength = packet.upperLength;
    if (packet.fragment6 != -1
        || Ipv6Header.nextHeader(buffer, ip) != Ipv6Header.NEXT_HEADER_ICMPV6
        || icmpLength < Icmpv6Header.LENGTH) {
      // Fragments, extension headers and other protocols are the local stack's.
      counters.increment(Counter.DELIVERED_LOCAL);
      return Verdict.DONE;
    }
    int type = Icmpv6Header.type(buffer, icmp);
    if (NeighbourDiscovery.isNeighbourDiscovery(type)) {
      return neighbourDiscovery(buffer, packet, type);
    }
    counters.increment(Counter.DELIVERED_LOCAL);
    if (type == Icmpv6Header.TYPE_ECHO_REQUEST
        && !Ipv6Header.isMulticast(packet.destination6High)
        && Icmpv6Header.verifyChecksum(buffer, ip, icmp, icmpLength)) {
      echoReply(buffer, packet);
    }
    return Verdict.DONE;
  }

  private int neighbourDiscovery(MutableDirectBuffer buffer, PacketContext packet, int type) {
    int ip = packet.l3;
    int icmp = packet.upper;
    int icmpLength = packet.upperLength;
    if (NeighbourDiscovery.validate(buffer, ip, icmp, icmpLength) != NeighbourDiscovery.VALID) {
      counters.increment(Counter.DROP_BAD_ND);
      return Verdict.DROP;
    }
    int ifIndex = packet.ingress.index();
    long now = egress.now();
    if (type == Icmpv6Header.TYPE_NEIGHBOUR_SOLICITATION) {
      counters.increment(Counter.ND_SOLICITATIONS_RECEIVED);
      long targetHigh = NeighbourDiscovery.targetHigh(buffer, icmp);
      long targetLow = NeighbourDiscovery.targetLow(buffer, icmp);
      long sourceMac =
          NeighbourDiscovery.linkLayerAddress(
              buffer, icmp, icmpLength, NeighbourDiscovery.OPTION_SOURCE_LINK_LAYER);
      boolean fromUnspecified = Ipv6Header.isUnspecified(packet.source6High, packet.source6Low);
      if (sourceMac != NeighbourDiscovery.NO_OPTION && !fromUnspecified) {
        egress6
            .neighbours()
            .learnFromSolicitation(
                packet.source6High, packet.source6Low, sourceMac, ifIndex, now, egress);
      }
      if (input.isOursOn(targetHigh, targetLow, ifIndex)) {
        egress6.advertise(
            ifIndex,
            targetHigh,
            targetLow,
            packet.source6High,
            packet.source6Low,
            sourceMac == NeighbourDiscovery.NO_OPTION ? -1 : sourceMac);
      }
    } else if (type == Icmpv6Header.TYPE_NEIGHBOUR_ADVERTISEMENT) {
      counters.increment(Counter.ND_ADVERTISEMENTS_RECEIVED);
      long targetMac =
          NeighbourDiscovery.linkLayerAddress(
              buffer, icmp, icmpLength, NeighbourDiscovery.OPTION_TARGET_LINK_LAYER);
      int flags = NeighbourDiscovery.naFlags(buffer, icmp);
      if (targetMac != NeighbourDiscovery.NO_OPTION) {
        egress6
            .neighbours()
            .learnFromAdvertisement(
                NeighbourDiscovery.targetHigh(buffer, icmp),
                NeighbourDiscovery.targetLow(buffer, icmp),
                targetMac,
                ifIndex,
                (flags & NeighbourDiscovery.NA_FLAG_SOLICITED) != 0,
                (flags & NeighbourDiscovery.NA_FLAG_OVERRIDE) != 0,
                now,
                egress);
      }
    }
    counters.increment(Counter.DELIVERED_LOCAL);
    return Verdict.DONE;
  }

  /**
   * Echo reply in place: addresses swapped (from the address the request was sent to), type 129,
   * hop limit 64, the checksum computed anew over the new pseudo-header. Only a request without
   * extension headers is answered, and only if the reply fits the way back (never fragmented).
   */
  private void echoReply(MutableDirectBuffer buffer, PacketContext packet) {
    int ip = packet.l3;
    int icmp = packet.upper;
    if (icmp != ip + Ipv6Header.LENGTH
        || output.route(packet.source6High, packet.source6Low, packet.ingress.index(), packet)
            == Ip6Output.NO_ROUTE) {
      return;
    }
    Ipv6Header.address(
        buffer, ip + Ipv6Header.SOURCE_OFFSET, packet.destination6High, packet.destination6Low);
    Ipv6Header.address(
        buffer, ip + Ipv6Header.DESTINATION_OFFSET, packet.source6High, packet.source6Low);
    Ipv6Header.hopLimit(buffer, ip, 64);
    buffer.putByte(icmp, (byte) Icmpv6Header.TYPE_ECHO_REPLY);
    Icmpv6Header.updateChecksum(buffer, ip, icmp, packet.upperLength);
    if (output.process(buffer, packet) == Ip6Output.SENT) {
      counters.increment(Counter.ICMPV6_SENT_ECHO_REPLY);
    }
  }
}
