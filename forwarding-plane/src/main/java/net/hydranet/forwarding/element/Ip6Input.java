package net.hydranet.forwarding.element;

import java.util.List;
import net.hydranet.forwarding.config.RouterAddress6;
import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.forwarding.wire.Ipv6HeaderChain;
import org.agrona.MutableDirectBuffer;

/**
 * The redirector's door for IPv6: checks the fixed header and walks the extension headers with a
 * bounded walk ({@link Ipv6HeaderChain}: payload length against the frame, RFC 8200 §4.1's order
 * and repetition rules), then decides whether the packet is for the router — one of its addresses,
 * its link-local address on the ingress link, or a multicast group it listens to (all-nodes,
 * all-routers, the solicited-node group of its addresses) — or in transit. Sets the IPv6 fields of
 * {@link PacketContext}: addresses, upper-layer offset and length, fragment header.
 *
 * <p>Never forwarded (RFC 4291 §2.5.2, §2.5.3, §2.5.6, §2.7; RFC 8200 §4): a packet from an
 * unspecified, loopback, link-local or multicast source, or from one of our own addresses (a
 * loopback source is not delivered either); a packet to a link-local, loopback, unspecified or
 * multicast destination; an IPv6 packet in a link broadcast. The hop limit is the path's to check:
 * what happens at 1 depends on where the packet goes.
 */
public final class Ip6Input implements Element {
  /** Addressed to the router (unicast or one of its groups). */
  public static final int LOCAL = 0;

  /** To be routed or redirected. */
  public static final int TRANSIT = 1;

  /** Dropped and counted. */
  public static final int DROP = 2;

  /** ff02::1, all nodes, and ff02::2, all routers (RFC 4291 §2.7.1). */
  private static final long LINK_SCOPE_HIGH = 0xFF02_0000_0000_0000L;

  private final Counters counters;
  private final Ipv6HeaderChain chain = new Ipv6HeaderChain();
  // The router's global addresses (any interface) and, per interface, its link-local address.
  private final long[] globalHighs;
  private final long[] globalLows;
  private final int[] globalInterfaces;
  private final long[] linkLocalLows;

  /**
   * @param interfaces the router's interfaces, by index
   * @param addresses its configured IPv6 addresses
   */
  public Ip6Input(Counters counters, RouterInterface[] interfaces, List<RouterAddress6> addresses) {
    this.counters = counters;
    this.globalHighs = new long[addresses.size()];
    this.globalLows = new long[addresses.size()];
    this.globalInterfaces = new int[addresses.size()];
    for (int i = 0; i < addresses.size(); i++) {
      globalHighs[i] = addresses.get(i).high();
      globalLows[i] = addresses.get(i).low();
      globalInterfaces[i] = addresses.get(i).interfaceIndex();
    }
    this.linkLocalLows = new long[interfaces.length];
    for (int i = 0; i < interfaces.length; i++) {
      linkLocalLows[i] = RouterAddress6.linkLocalLow(interfaces[i].mac());
    }
  }

  /** The walk of the packet in hand: valid after {@link #process} returned LOCAL or TRANSIT. */
  public Ipv6HeaderChain chain() {
    return chain;
  }

  @Override
  public int process(MutableDirectBuffer buffer, PacketContext packet) {
    counters.increment(Counter.RX_IPV6_FRAMES);
    int ip = packet.l3;
    switch (chain.walk(buffer, ip, packet.available)) {
      case Ipv6HeaderChain.OK:
        break;
      case Ipv6HeaderChain.BAD_VERSION:
        return drop(Counter.DROP_BAD_IP_VERSION);
      case Ipv6HeaderChain.BAD_PAYLOAD_LENGTH:
        return drop(Counter.DROP_IPV6_BAD_PAYLOAD_LENGTH);
      case Ipv6HeaderChain.TRUNCATED:
        return drop(Counter.DROP_IPV6_TRUNCATED);
      default: // misordered, repeated
        return drop(Counter.DROP_IPV6_BAD_EXTENSION_HEADERS);
    }
    long sourceHigh = Ipv6Header.sourceHigh(buffer, ip);
    long sourceLow = Ipv6Header.sourceLow(buffer, ip);
    long destinationHigh = Ipv6Header.destinationHigh(buffer, ip);
    long destinationLow = Ipv6Header.destinationLow(buffer, ip);
    packet.source6High = sourceHigh;
    packet.source6Low = sourceLow;
    packet.destination6High = destinationHigh;
    packet.destination6Low = destinationLow;
    packet.upper = chain.upperLayerOffset();
    packet.upperLength = chain.upperLayerLength();
    packet.fragment6 = chain.fragmentHeaderOffset();
    packet.protocol = chain.upperLayerProtocol();
    int ingress = packet.ingress.index();
    if (Ipv6Header.isMulticast(sourceHigh)
        || Ipv6Header.isLoopback(sourceHigh, sourceLow)
        || isOurs(sourceHigh, sourceLow)
        || (sourceHigh == RouterAddress6.LINK_LOCAL_HIGH && sourceLow == linkLocalLows[ingress])) {
      // A group never sends; ::1 never leaves its node (RFC 4291 §2.5.3, as 127/8 for IPv4); our
      // own address from the wire is spoofed or looped.
      return drop(Counter.DROP_MARTIAN_SOURCE);
    }
    if (packet.destinationMac == EthernetHeader.BROADCAST) {
      // IPv6 has no broadcast: a link broadcast carrying it is nobody's (RFC 2464 §7).
      return drop(Counter.DROP_MARTIAN_DESTINATION);
    }
    if (Ipv6Header.isMulticast(destinationHigh)) {
      return isOurGroup(destinationHigh, destinationLow, ingress)
          ? LOCAL
          : drop(Counter.DROP_NOT_FOR_US);
    }
    if (isOurs(destinationHigh, destinationLow)
        || (destinationHigh == RouterAddress6.LINK_LOCAL_HIGH
            && destinationLow == linkLocalLows[ingress])) {
      return LOCAL;
    }
    if (Ipv6Header.isUnspecified(sourceHigh, sourceLow) || Ipv6Header.isLinkLocal(sourceHigh)) {
      // Link-local sources must not leave their link (RFC 4291 §2.5.6).
      return drop(Counter.DROP_MARTIAN_SOURCE);
    }
    if (Ipv6Header.isLinkLocal(destinationHigh)
        || Ipv6Header.isUnspecified(destinationHigh, destinationLow)
        || Ipv6Header.isLoopback(destinationHigh, destinationLow)) {
      return drop(Counter.DROP_MARTIAN_DESTINATION);
    }
    return TRANSIT;
  }

  /** True for one of the router's global addresses. */
  public boolean isOurs(long high, long low) {
    for (int i = 0; i < globalHighs.length; i++) {
      if (globalHighs[i] == high && globalLows[i] == low) {
        return true;
      }
    }
    return false;
  }

  /**
   * True when the target of a neighbour solicitation received on {@code ifIndex} is ours there:
   * that interface's global or link-local address (RFC 4861 §7.2.3).
   */
  public boolean isOursOn(long high, long low, int ifIndex) {
    if (high == RouterAddress6.LINK_LOCAL_HIGH && low == linkLocalLows[ifIndex]) {
      return true;
    }
    for (int i = 0; i < globalHighs.length; i++) {
      if (globalInterfaces[i] == ifIndex && globalHighs[i] == high && globalLows[i] == low) {
        return true;
      }
    }
    return false;
  }

  /** All-nodes, all-routers, or the solicited-node group of an address of the ingress link. */
  private boolean isOurGroup(long high, long low, int ifIndex) {
    if (high != LINK_SCOPE_HIGH) {
      return false;
    }
    if (low == 1 || low == 2) {
      return true;
    }
    if ((low & 0xFFFF_FFFF_FF00_0000L) != 0x0000_0001_FF00_0000L) {
      return false;
    }
    long node = low & 0xFF_FFFFL;
    if (node == (linkLocalLows[ifIndex] & 0xFF_FFFFL)) {
      return true;
    }
    for (int i = 0; i < globalHighs.length; i++) {
      if (globalInterfaces[i] == ifIndex && node == (globalLows[i] & 0xFF_FFFFL)) {
        return true;
      }
    }
    return false;
  }

  private int drop(Counter reason) {
    counters.increment(reason);
    return DROP;
  }
}
