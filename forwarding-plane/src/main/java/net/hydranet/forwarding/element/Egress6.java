package net.hydranet.forwarding.element;

import java.nio.ByteOrder;
import java.util.List;
import net.hydranet.forwarding.config.RouterAddress6;
import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.neighbour.Ipv6NeighbourTable;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.forwarding.wire.NeighbourDiscovery;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The last step of every IPv6 packet the redirector sends: resolves the next hop's MAC by neighbour
 * discovery ({@link Ipv6NeighbourTable}: the same bounded queue, retries and expiry as ARP), writes
 * the Ethernet header in front of the packet and hands the frame to {@link Egress}'s transmit; a
 * multicast destination maps straight to its 33:33 MAC (RFC 2464 §7). It also sends the neighbour
 * solicitations and advertisements (RFC 4861 §7.2.2, §7.2.4).
 */
public final class Egress6 {
  private final Counters counters;
  private final RouterInterface[] interfaces;
  private final Egress egress;
  private final Ipv6NeighbourTable neighbours;
  // Per interface, the source of what we originate there: the configured address, else the
  // link-local one.
  private final long[] sourceHighs;
  private final long[] sourceLows;
  private final UnsafeBuffer ndFrame;
  private final Ipv6NeighbourTable.Ipv6RequestSink solicit = this::solicit;

  public Egress6(
      Counters counters,
      RouterInterface[] interfaces,
      List<RouterAddress6> addresses,
      Egress egress,
      Ipv6NeighbourTable neighbours) {
    this.counters = counters;
    this.interfaces = interfaces;
    this.egress = egress;
    this.neighbours = neighbours;
    this.sourceHighs = new long[interfaces.length];
    this.sourceLows = new long[interfaces.length];
    for (RouterInterface i : interfaces) {
      sourceHighs[i.index()] = RouterAddress6.LINK_LOCAL_HIGH;
      sourceLows[i.index()] = RouterAddress6.linkLocalLow(i.mac());
    }
    for (RouterAddress6 a : addresses) {
      sourceHighs[a.interfaceIndex()] = a.high();
      sourceLows[a.interfaceIndex()] = a.low();
    }
    this.ndFrame =
        new UnsafeBuffer(
            new byte
                [EthernetHeader.LENGTH
                    + Ipv6Header.LENGTH
                    + NeighbourDiscovery.NS_NA_OPTIONS_OFFSET
                    + NeighbourDiscovery.LINK_LAYER_OPTION_LENGTH]);
  }

  /** The address the router speaks from on {@code ifIndex}: high half. */
  public long sourceHigh(int ifIndex) {
    return sourceHighs[ifIndex];
  }

  /** The address the router speaks from on {@code ifIndex}: low half. */
  public long sourceLow(int ifIndex) {
    return sourceLows[ifIndex];
  }

  public Ipv6NeighbourTable neighbours() {
    return neighbours;
  }

  /**
   * Sends the IPv6 packet at {@code ipOffset} out of {@code ifIndex} towards the next hop; the 14
   * bytes before {@code ipOffset} must be free for the link header.
   */
  public void send(
      MutableDirectBuffer buffer,
      int ipOffset,
      int ipLength,
      int ifIndex,
      long nextHopHigh,
      long nextHopLow) {
    int frame = ipOffset - EthernetHeader.LENGTH;
    int frameLength = ipLength + EthernetHeader.LENGTH;
    long now = egress.now();
    EthernetHeader.mac(buffer, frame + EthernetHeader.SOURCE_OFFSET, interfaces[ifIndex].mac());
    buffer.putShort(
        frame + EthernetHeader.TYPE_OFFSET, (short) EthernetHeader.TYPE_IPV6, ByteOrder.BIG_ENDIAN);
    if (Ipv6Header.isMulticast(nextHopHigh)) {
      EthernetHeader.mac(
          buffer, frame + EthernetHeader.DESTINATION_OFFSET, Ipv6Header.multicastMac(nextHopLow));
      egress.transmit(ifIndex, buffer, frame, frameLength, now);
      return;
    }
    int result =
        neighbours.resolve(nextHopHigh, nextHopLow, ifIndex, buffer, frame, frameLength, now);
    if (result == Ipv6NeighbourTable.RESOLVED) {
      EthernetHeader.mac(
          buffer, frame + EthernetHeader.DESTINATION_OFFSET, neighbours.resolvedMac());
      egress.transmit(ifIndex, buffer, frame, frameLength, now);
    } else if (result == Ipv6NeighbourTable.QUEUED) {
      counters.increment(Counter.ND_QUEUED);
    } else {
      counters.increment(Counter.ND_QUEUE_DROPS);
    }
    if (neighbours.requestDue()) {
      solicit(nextHopHigh, nextHopLow, ifIndex);
    }
  }

  /**
   * Multicasts a neighbour solicitation for {@code (high, low)} on {@code ifIndex}, to its
   * solicited-node group, with our link-layer address (RFC 4861 §7.2.2).
   */
  public void solicit(long high, long low, int ifIndex) {
    RouterInterface out = interfaces[ifIndex];
    long groupLow = Ipv6Header.solicitedNodeLow(low);
    EthernetHeader.write(
        ndFrame, 0, Ipv6Header.multicastMac(groupLow), out.mac(), EthernetHeader.TYPE_IPV6);
    int length =
        NeighbourDiscovery.writeNeighbourSolicitation(
            ndFrame,
            EthernetHeader.LENGTH,
            sourceHighs[ifIndex],
            sourceLows[ifIndex],
            Ipv6Header.solicitedNodeHigh(),
            groupLow,
            high,
            low,
            out.mac());
    egress.transmit(ifIndex, ndFrame, 0, EthernetHeader.LENGTH + length, egress.now());
    neighbours.noteRequestSent(high, low, egress.now());
    counters.increment(Counter.ND_SOLICITATIONS_SENT);
  }

  /**
   * Answers a solicitation for our address {@code (targetHigh, targetLow)} on {@code ifIndex} (RFC
   * 4861 §7.2.4): router and override flags; solicited and to the solicitation's source when it had
   * one, else unsolicited to all nodes (a duplicate address detection probe). {@code toMac} is the
   * soliciting node's MAC, or -1 to resolve it (a solicitation without its link-layer option).
   */
  public void advertise(
      int ifIndex, long targetHigh, long targetLow, long toHigh, long toLow, long toMac) {
    RouterInterface out = interfaces[ifIndex];
    boolean dad = Ipv6Header.isUnspecified(toHigh, toLow);
    long destinationHigh = dad ? Ipv6Header.solicitedNodeHigh() : toHigh;
    long destinationLow = dad ? 1 : toLow;
    int flags =
        NeighbourDiscovery.NA_FLAG_ROUTER
            | NeighbourDiscovery.NA_FLAG_OVERRIDE
            | (dad ? 0 : NeighbourDiscovery.NA_FLAG_SOLICITED);
    int length =
        NeighbourDiscovery.writeNeighbourAdvertisement(
            ndFrame,
            EthernetHeader.LENGTH,
            targetHigh,
            targetLow,
            destinationHigh,
            destinationLow,
            targetHigh,
            targetLow,
            flags,
            out.mac());
    counters.increment(Counter.ND_ADVERTISEMENTS_SENT);
    if (dad || toMac == -1) {
      // To all nodes, or through the neighbour table (which solicits the node if need be).
      send(ndFrame, EthernetHeader.LENGTH, length, ifIndex, destinationHigh, destinationLow);
      return;
    }
    EthernetHeader.write(ndFrame, 0, toMac, out.mac(), EthernetHeader.TYPE_IPV6);
    egress.transmit(ifIndex, ndFrame, 0, EthernetHeader.LENGTH + length, egress.now());
  }

  /** Runs the neighbour timers; frames whose neighbour never answered are counted as dropped. */
  public void poll() {
    int dropped = neighbours.poll(egress.now(), solicit);
    if (dropped > 0) {
      counters.add(Counter.ND_TIMEOUT_DROPS, dropped);
    }
  }
}
