package net.hydranet.hostserver;

import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.Ipv6FragmentHeader;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.forwarding.wire.Ipv6HeaderChain;
import org.agrona.DirectBuffer;

/**
 * The host server's IPv6 step (issue 21): takes an IPv6 packet out of its tunnel, checks it, and
 * hands it to the local stack if a virtual host holds its destination. Two tunnels arrive here:
 *
 * <ul>
 *   <li><b>IPv6-in-IPv4</b> (RFC 4213 §3.5, outer IPv4 protocol 41): the redirector's default
 *       (control-plane/IPV6.md §1). {@link HostServerPath} checks the outer IPv4 header and
 *       reassembles its fragments exactly as for protocol 4, then calls {@link #inject}.
 *   <li><b>IPv6-in-IPv6</b> (RFC 2473, outer IPv6 next header 41) to this host server's IPv6
 *       address, if it has one: {@link #outer} checks the outer chain. Outer IPv6 fragments are not
 *       reassembled (the redirector never fragments: it sends Packet Too Big instead, IPV6.md §1),
 *       so a fragmented outer packet is a counted drop.
 * </ul>
 *
 * Every frame given to it ends in exactly one of {@link HostServerPath}'s outcome counters, the
 * family-blind ones ({@code decapsulated}, {@code drop_bad_inner}, …), so {@code rx_frames} stays
 * their sum; the IPv6 counters beside them say how much of each was IPv6. Allocation-free: two
 * reusable chain walkers.
 */
public final class Ipv6Decapsulator {
  private final Counters counters;
  private final VirtualHostTable virtualHosts;
  private final PacketSink sink;
  private final boolean hasAddress;
  private final long addressHigh;
  private final long addressLow;
  private final Ipv6HeaderChain outerChain = new Ipv6HeaderChain();
  private final Ipv6HeaderChain innerChain = new Ipv6HeaderChain();
  private VirtualHostLinks links;

  /**
   * @param address this host server's IPv6 address {high, low} for IPv6-in-IPv6, or null when it
   *     takes IPv6-in-IPv4 only
   */
  public Ipv6Decapsulator(
      Counters counters, VirtualHostTable virtualHosts, PacketSink sink, long[] address) {
    this.counters = counters;
    this.virtualHosts = virtualHosts;
    this.sink = sink;
    this.hasAddress = address != null;
    this.addressHigh = hasAddress ? address[0] : 0;
    this.addressLow = hasAddress ? address[1] : 0;
  }

  /**
   * Writes packets for an IPv6 virtual host that has a link in {@code links} straight onto it (a
   * frame of EtherType 0x86DD), not into the sink; null: every packet to the sink. Set before the
   * pipeline starts.
   */
  void links(VirtualHostLinks links) {
    this.links = links;
  }

  /**
   * An IPv6 frame's packet at {@code ip} ({@code available} bytes captured): IPv6-in-IPv6 to this
   * host server, or not ours.
   */
  public void outer(DirectBuffer buffer, int ip, int available) {
    if (!hasAddress
        || available < Ipv6Header.LENGTH
        || Ipv6Header.version(buffer, ip) != 6
        || Ipv6Header.destinationHigh(buffer, ip) != addressHigh
        || Ipv6Header.destinationLow(buffer, ip) != addressLow) {
      count(HostServerCounter.NOT_TUNNELLED);
      return;
    }
    if (outerChain.walk(buffer, ip, available) != Ipv6HeaderChain.OK
        || Ipv6Header.isMulticast(Ipv6Header.sourceHigh(buffer, ip))) {
      count(HostServerCounter.DROP_BAD_OUTER);
      return;
    }
    if (outerChain.isFragment()) {
      int fragment = outerChain.fragmentHeaderOffset();
      if (Ipv6FragmentHeader.fragmentOffset(buffer, fragment) != 0
          || Ipv6FragmentHeader.moreFragments(buffer, fragment)) {
        // A real fragment (an atomic one, RFC 8021, is whole and goes on).
        count(HostServerCounter.DROP_OUTER_FRAGMENT);
        return;
      }
    }
    if (outerChain.upperLayerProtocol() != Ipv6Header.NEXT_HEADER_IPV6) {
      count(HostServerCounter.NOT_TUNNELLED); // ND, ping…: the kernel's, which has its own copy
      return;
    }
    count(HostServerCounter.IPV6_IN_IPV6);
    inject(buffer, outerChain.upperLayerOffset(), outerChain.upperLayerLength());
  }

  /**
   * The inner IPv6 packet at {@code offset}: the outer payload, {@code available} bytes of it (the
   * outer header said so). Checks the inner chain (RFC 8200: version, payload length within the
   * outer payload, extension headers in order and bounded), refuses a multicast or unspecified
   * source, then, if a virtual host holds its destination, queues it on that virtual host's link
   * or, where it has none yet (its neighbour not resolved) or the link refuses it, writes it to the
   * sink: {@code injected_ipv6} minus {@code injected_link_ipv6} went through the TUN.
   */
  public void inject(DirectBuffer buffer, int offset, int available) {
    if (innerChain.walk(buffer, offset, available) != Ipv6HeaderChain.OK
        || Ipv6Header.isMulticast(Ipv6Header.sourceHigh(buffer, offset))
        || Ipv6Header.isUnspecified(
            Ipv6Header.sourceHigh(buffer, offset), Ipv6Header.sourceLow(buffer, offset))) {
      count(HostServerCounter.DROP_BAD_INNER);
      count(HostServerCounter.BAD_INNER_IPV6);
      return;
    }
    count(HostServerCounter.DECAPSULATED);
    long high = Ipv6Header.destinationHigh(buffer, offset);
    long low = Ipv6Header.destinationLow(buffer, offset);
    if (!virtualHosts.isVirtualHost6(high, low)) {
      count(HostServerCounter.DROP_NO_VIRTUAL_HOST);
      return;
    }
    int length = innerChain.payloadEnd() - offset;
    if (links != null) {
      if (links.write6(high, low, buffer, offset, length)) {
        count(HostServerCounter.INJECTED);
        count(HostServerCounter.INJECTED_IPV6);
        count(HostServerCounter.INJECTED_LINK);
        count(HostServerCounter.INJECTED_LINK_IPV6);
        counters.add(HostServerCounter.INJECTED_BYTES.id(), length);
        return;
      }
      // The TUN delivers at once: what the links hold goes first, so a flow keeps its order.
      links.flush();
    }
    if (sink.write(buffer, offset, length)) {
      count(HostServerCounter.INJECTED);
      count(HostServerCounter.INJECTED_IPV6);
      counters.add(HostServerCounter.INJECTED_BYTES.id(), length);
    } else {
      count(HostServerCounter.DROP_INJECT_FAILED);
    }
  }

  private void count(HostServerCounter c) {
    counters.add(c.id(), 1);
  }
}
