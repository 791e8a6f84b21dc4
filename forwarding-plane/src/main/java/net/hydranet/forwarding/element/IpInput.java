package net.hydranet.forwarding.element;

import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.TcpHeader;
import org.agrona.MutableDirectBuffer;

/**
 * The redirector's door for IPv4: what it may trust of a datagram, and whether the datagram is for
 * the router itself or in transit. Checks the header ({@link CheckIpHeader}), the stateless
 * fragment rules, and the addresses a router never routes (RFC 1812 §5.3.7); sets {@link
 * PacketContext#source} and {@link PacketContext#destination}.
 */
public final class IpInput implements Element {
  /** Addressed to one of the router's own addresses. */
  public static final int LOCAL = 0;

  /** To be routed or redirected. */
  public static final int TRANSIT = 1;

  /** Dropped and counted. */
  public static final int DROP = 2;

  private final Counters counters;
  private final CheckIpHeader checkIpHeader;
  private final int[] localAddresses;

  /**
   * @param localAddresses the router's interface addresses, in interface order
   */
  public IpInput(Counters counters, int[] localAddresses) {
    this.counters = counters;
    this.checkIpHeader = new CheckIpHeader(counters);
    this.localAddresses = localAddresses.clone();
  }

  @Override
  public int process(MutableDirectBuffer buffer, PacketContext packet) {
    if (packet.destinationMac == EthernetHeader.BROADCAST) {
      // IPv4 in a link broadcast: never a unicast datagram for us to route (RFC 1812 §5.3.4).
      return drop(Counter.DROP_MARTIAN_DESTINATION);
    }
    int ip = packet.l3;
    if (checkIpHeader.check(buffer, ip, packet.available) != Verdict.CONTINUE) {
      return DROP;
    }
    if (Ipv4Header.isFragment(buffer, ip) && !fragmentSane(buffer, ip)) {
      return drop(Counter.DROP_BAD_FRAGMENT);
    }
    int destination = Ipv4Header.destination(buffer, ip);
    int source = Ipv4Header.source(buffer, ip);
    packet.source = source;
    packet.destination = destination;
    for (int address : localAddresses) {
      if (source == address) {
        // Our own address as a source, from the wire: spoofed or looped (RFC 1812 §5.3.7). Found
        // by the fuzzer: an echo "from us" was answered to a MAC an ARP message had claimed.
        return drop(Counter.DROP_MARTIAN_SOURCE);
      }
      if (destination == address) {
        return LOCAL;
      }
    }
    if (CheckIpHeader.isMartianDestination(destination)
        || (destination >>> 28) == 0xE
        || destination == packet.ingress.broadcast()) {
      // Multicast and broadcast are not routed here; martians never are (RFC 1812 §5.3.7).
      return drop(Counter.DROP_MARTIAN_DESTINATION);
    }
    return TRANSIT;
  }

  /**
   * Stateless fragment checks, the ones a router can make without holding fragments: no fragment
   * may reach past 65,535 bytes (the "ping of death"); a TCP fragment at offset 8 can only exist to
   * overwrite the TCP header's flags, and a first TCP fragment must hold the whole minimal TCP
   * header (RFC 1858 §3–4, overlapping and tiny fragments). Stateful overlap detection, for
   * datagrams to service addresses, is {@link FragmentTracker}'s.
   */
  static boolean fragmentSane(MutableDirectBuffer buffer, int ip) {
    int headerLength = Ipv4Header.headerLength(buffer, ip);
    int data = Ipv4Header.totalLength(buffer, ip) - headerLength;
    int fragmentOffset = Ipv4Header.fragmentOffset(buffer, ip);
    if (fragmentOffset + data > 65_535 - headerLength) {
      return false;
    }
    if (Ipv4Header.protocol(buffer, ip) == Ipv4Header.PROTOCOL_TCP) {
      if (fragmentOffset == 8) {
        return false;
      }
      if (fragmentOffset == 0 && data < TcpHeader.MIN_LENGTH) {
        return false;
      }
    }
    return true;
  }

  private int drop(Counter reason) {
    counters.increment(reason);
    return DROP;
  }
}
