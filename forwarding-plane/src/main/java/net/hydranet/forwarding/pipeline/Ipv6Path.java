package net.hydranet.forwarding.pipeline;

import net.hydranet.forwarding.config.ForwardingContext;
import net.hydranet.forwarding.config.RouterAddress6;
import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.element.Egress;
import net.hydranet.forwarding.element.Egress6;
import net.hydranet.forwarding.element.FragmentTracker;
import net.hydranet.forwarding.element.Icmp6ErrorSender;
import net.hydranet.forwarding.element.Ip6Encap;
import net.hydranet.forwarding.element.Ip6Input;
import net.hydranet.forwarding.element.Ip6LocalDelivery;
import net.hydranet.forwarding.element.Ip6Output;
import net.hydranet.forwarding.element.IpOutput;
import net.hydranet.forwarding.element.MssClamp;
import net.hydranet.forwarding.element.PacketContext;
import net.hydranet.forwarding.element.RedirectLookup6;
import net.hydranet.forwarding.neighbour.Ipv6NeighbourTable;
import net.hydranet.forwarding.table.FlowTable;
import net.hydranet.forwarding.table.Ipv6HostServers;
import net.hydranet.forwarding.table.Ipv6RouteTable;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.wire.Icmpv6Header;
import net.hydranet.forwarding.wire.Ipv6FragmentHeader;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.forwarding.wire.TcpHeader;
import org.agrona.MutableDirectBuffer;

/**
 * The redirector's element graph for an IPv6 packet, which {@link ForwardingPath} hands every frame
 * of EtherType 0x86DD (ARCHITECTURE.md, "IPv6"):
 *
 * <pre>
 * Ip6Input (header, bounded extension-header walk, martians) ─┬─ local → Ip6LocalDelivery
 *                                                             │    (ND: answer NS, learn; echo reply)
 *                                                             └─ transit → hop limit ≤ 1? time exceeded
 *      ICMPv6 → RedirectLookup6.steerIcmpError ─┬─ its flow's host server → redirect
 *                                               └─ forward
 *      TCP/UDP with ports → RedirectLookup6 (IPv6 service, flow table, Maglev) ─┬─ host server → redirect
 *                                                                              └─ origin → forward
 *      non-first fragment to a service address → its first fragment's decision (else forward)
 *      other → forward
 *   forward:  Ip6Output.route (LPM) → over MTU? Packet Too Big → hop limit − 1 → MssClamp (SYN-ACK)
 *             → Ip6Output → Egress6 (ND, bounded queue) → TX
 *   redirect: route to the host server → over the tunnel MTU? Packet Too Big (tunnel MTU)
 *             → hop limit − 1 → MssClamp (SYN) → Ip6Encap: IPv4 outer, protocol 41 → IpOutput
 *                                                     or IPv6 outer, next header 41 → Ip6Output
 * </pre>
 *
 * <p>A router never fragments IPv6 (RFC 8200 §5), so every "too big" is a Packet Too Big to the
 * source. Every frame ends in exactly one outcome counter, shared with IPv4. Nothing here
 * allocates, locks or logs.
 */
public final class Ipv6Path {
  private final Counters counters;
  private final RouterInterface[] interfaces;
  private final RedirectorTable redirects;
  private final Ipv6RouteTable routes;
  private final Ipv6HostServers hostServers = new Ipv6HostServers();
  private final Ip6Input input;
  private final Egress6 egress6;
  private final Ip6Output output;
  private final IpOutput output4;
  private final Icmp6ErrorSender icmp;
  private final Ip6LocalDelivery local;
  private final RedirectLookup6 lookup;
  private final Ip6Encap encap;
  private final MssClamp mssClamp;
  private final boolean clampMss;
  private final FragmentTracker fragments;
  private final Egress clock;
  private final FragmentTracker.ReleaseSink6 releaseSink = this::releaseHeld;
  // The packet context a release runs in: the first fragment's, set just before the release.
  private PacketContext releasing;

  Ipv6Path(
      ForwardingContext context,
      Counters counters,
      RouterInterface[] interfaces,
      RedirectorTable redirects,
      IpOutput output4,
      Egress egress) {
    this.counters = counters;
    this.interfaces = interfaces;
    this.redirects = redirects;
    this.output4 = output4;
    this.routes = new Ipv6RouteTable(context.routeCapacity());
    for (RouterAddress6 a : context.addresses6()) {
      routes.add(a.networkHigh(), a.networkLow(), a.prefixLength(), 0, 0, a.interfaceIndex());
    }
    Ipv6NeighbourTable neighbours =
        new Ipv6NeighbourTable(
            context.neighbourCapacity(),
            context.arpQueueFrames(),
            FrameSlot.MAX_FRAME + 64,
            context.arpQueuePerNeighbour(),
            context.arpRetries(),
            context.arpRetryNanos(),
            context.neighbourLifetimeNanos());
    this.input = new Ip6Input(counters, interfaces, context.addresses6());
    this.egress6 = new Egress6(counters, interfaces, context.addresses6(), egress, neighbours);
    this.output = new Ip6Output(routes, interfaces, egress6);
    this.icmp =
        new Icmp6ErrorSender(
            counters, output, egress, egress6, context.icmpRate(), context.icmpBurst());
    this.local = new Ip6LocalDelivery(counters, input, output, egress, egress6);
    this.lookup = new RedirectLookup6(context, counters, redirects);
    this.encap = new Ip6Encap(counters, context.outerTtl(), 1);
    this.mssClamp = new MssClamp(counters);
    this.clampMss = context.mssClamp();
    this.fragments =
        new FragmentTracker(
            counters,
            context.fragmentContexts(),
            context.fragmentsHeld(),
            FrameSlot.MAX_FRAME,
            context.fragmentTimeoutNanos());
    this.clock = egress;
  }

  /** The IPv6 route table (forwarding thread only). */
  public Ipv6RouteTable routes() {
    return routes;
  }

  /** The IPv6 neighbour table (forwarding thread only). */
  public Ipv6NeighbourTable neighbours() {
    return egress6.neighbours();
  }

  /** The IPv6 host servers' addresses by id (forwarding thread only). */
  public Ipv6HostServers hostServers() {
    return hostServers;
  }

  /** The IPv6 fragment tracker, for tests (forwarding thread only). */
  public FragmentTracker fragments() {
    return fragments;
  }

  /** The IPv6 connection table (forwarding thread only). */
  public FlowTable flows() {
    return lookup.flows();
  }

  /**
   * The control plane declared {@code hostServer} dead: IPv6 flows pinned to it are released at
   * their next packet ({@link RedirectLookup6#hostServerDead}; forwarding thread only).
   */
  public void hostServerDead(int hostServer) {
    lookup.hostServerDead(hostServer);
  }

  /** Neighbour timers and the connection table's sweep; the egress clock is already set. */
  void tick(long nowNanos) {
    egress6.poll();
    lookup.tick(nowNanos);
  }

  /** One IPv6 packet at {@link PacketContext#l3}. */
  void process(MutableDirectBuffer buffer, PacketContext p) {
    int in = input.process(buffer, p);
    if (in == Ip6Input.LOCAL) {
      local.process(buffer, p);
      return;
    }
    if (in != Ip6Input.TRANSIT) {
      return;
    }
    int ip = p.l3;
    if (Ipv6Header.hopLimit(buffer, ip) <= 1) {
      reject(
          buffer,
          p,
          Icmpv6Header.TYPE_TIME_EXCEEDED,
          Icmpv6Header.CODE_HOP_LIMIT_EXCEEDED,
          0,
          Counter.ICMPV6_SENT_TIME_EXCEEDED,
          Counter.DROP_TTL_EXCEEDED);
      return;
    }
    int protocol = p.protocol;
    if (protocol == Ipv6Header.NEXT_HEADER_ICMPV6) {
      if (lookup.steerIcmpError(buffer, p) == RedirectLookup6.HOST_SERVER) {
        redirect(buffer, p);
      } else {
        forward(buffer, p);
      }
      return;
    }
    if (protocol != Ipv6Header.NEXT_HEADER_TCP && protocol != Ipv6Header.NEXT_HEADER_UDP) {
      forward(buffer, p);
      return;
    }
    if (!input.chain().hasUpperLayerHeader(buffer)) {
      nonFirstFragment(buffer, p);
      return;
    }
    if (lookup.process(buffer, p) == RedirectLookup6.DROP) {
      return;
    }
    if (p.fragment6 != -1
        && Ipv6FragmentHeader.moreFragments(buffer, p.fragment6)
        && lookup.isServiceAddress(p)) {
      firstFragment(buffer, p);
      return;
    }
    dispatch(buffer, p);
  }

  /**
   * A first fragment to a service address: its datagram's other fragments follow this decision,
   * those held before it included (as IPv4's, {@link FragmentTracker}).
   */
  private void firstFragment(MutableDirectBuffer buffer, PacketContext p) {
    int context = fragments.first6(buffer, p, clock.now(), p.target, p.service);
    if (context < 0) {
      counters.increment(Counter.DROP_BAD_FRAGMENT);
      return;
    }
    dispatch(buffer, p);
    releasing = p;
    fragments.release6(context, releaseSink);
  }

  /**
   * A fragment without ports. To an address no service has, it is forwarded as addressed; otherwise
   * it follows its first fragment's decision, or waits for it (bounded, timed out).
   */
  private void nonFirstFragment(MutableDirectBuffer buffer, PacketContext p) {
    if (!lookup.isServiceAddress(p)) {
      forward(buffer, p);
      return;
    }
    int result = fragments.other6(buffer, p, clock.now());
    if (result == FragmentTracker.FOLLOW) {
      p.service = fragments.service();
      p.target = fragments.target();
      dispatch(buffer, p);
    } else if (result == FragmentTracker.DROPPED) {
      counters.increment(Counter.DROP_BAD_FRAGMENT);
    }
    // HELD: the outcome is counted when it is released or times out.
  }

  /** A held fragment released behind its first: the same datagram's addresses, its own layout. */
  private void releaseHeld(
      MutableDirectBuffer buffer,
      int ip,
      int upper,
      int upperLength,
      int fragment,
      int target,
      int service) {
    PacketContext p = releasing;
    p.l3 = ip;
    p.upper = upper;
    p.upperLength = upperLength;
    p.fragment6 = fragment;
    p.target = target;
    p.service = service;
    dispatch(buffer, p);
  }

  private void dispatch(MutableDirectBuffer buffer, PacketContext p) {
    if (p.target != 0) {
      redirect(buffer, p);
    } else {
      forward(buffer, p);
    }
  }

  /** To the packet's own destination. */
  private void forward(MutableDirectBuffer buffer, PacketContext p) {
    int ip = p.l3;
    if (output.route(p.destination6High, p.destination6Low, -1, p) == Ip6Output.NO_ROUTE) {
      reject(
          buffer,
          p,
          Icmpv6Header.TYPE_DESTINATION_UNREACHABLE,
          Icmpv6Header.CODE_NO_ROUTE,
          0,
          Counter.ICMPV6_SENT_UNREACHABLE,
          Counter.DROP_NO_ROUTE);
      return;
    }
    // Checked before the hop limit is touched, so the Packet Too Big quotes the packet as received.
    if (length(p) > p.mtu) {
      reject(
          buffer,
          p,
          Icmpv6Header.TYPE_PACKET_TOO_BIG,
          0,
          p.mtu,
          Counter.ICMPV6_SENT_PACKET_TOO_BIG,
          Counter.DROP_PACKET_TOO_BIG);
      return;
    }
    Ipv6Header.decrementHopLimit(buffer, ip);
    if (clampMss) {
      int service = synFromService(buffer, p);
      if (service != RedirectorTable.NOT_FOUND) {
        // A service's SYN-ACK from its origin: the client's segments on this flow may be
        // tunnelled, to any of the service's host servers.
        mssClamp.clampSegment(
            buffer,
            p.upper,
            p.upperLength,
            MssClamp.maxMss(p.mtu, largestTunnel(service), p.upper - ip));
      }
    }
    output.process(buffer, p);
    counters.increment(Counter.FORWARDED);
  }

  /**
   * To {@link PacketContext#target}: a host server's IPv4 address (IPv6-in-IPv4) or an IPv6 host
   * server's id (IPv6-in-IPv6).
   */
  private void redirect(MutableDirectBuffer buffer, PacketContext p) {
    int ip = p.l3;
    int target = p.target;
    boolean sixInSix = Ipv6HostServers.isId(target);
    int overhead;
    if (sixInSix) {
      if (!hostServers.has(target)
          || output.route(hostServers.high(target), hostServers.low(target), -1, p)
              == Ip6Output.NO_ROUTE) {
        counters.increment(Counter.DROP_NO_HOST_SERVER_ROUTE);
        return;
      }
      overhead = Ip6Encap.OVERHEAD_6IN6;
    } else {
      if (output4.route(target, p) == IpOutput.NO_ROUTE) {
        counters.increment(Counter.DROP_NO_HOST_SERVER_ROUTE);
        return;
      }
      overhead = Ip6Encap.OVERHEAD_6IN4;
    }
    int innerLength = length(p);
    int tunnelMtu = p.mtu - overhead;
    if (innerLength > tunnelMtu) {
      // RFC 8201 with RFC 4213 §3.2 / RFC 2473 §7.1: the source learns the tunnel's MTU. Below
      // IPv6's minimum the tunnel would have to fragment its outer packet, which we never do: then
      // a packet within 1280 is dropped without an error the source could act on.
      if (tunnelMtu >= Ipv6Header.MIN_MTU) {
        reject(
            buffer,
            p,
            Icmpv6Header.TYPE_PACKET_TOO_BIG,
            0,
            tunnelMtu,
            Counter.ICMPV6_SENT_PACKET_TOO_BIG,
            Counter.DROP_PACKET_TOO_BIG);
      } else {
        counters.increment(Counter.DROP_PACKET_TOO_BIG);
      }
      return;
    }
    Ipv6Header.decrementHopLimit(buffer, ip);
    if (clampMss
        && p.protocol == Ipv6Header.NEXT_HEADER_TCP
        && p.fragment6 == -1
        && p.service != RedirectorTable.NOT_FOUND) {
      mssClamp.clampSegment(
          buffer, p.upper, p.upperLength, MssClamp.maxMss(p.mtu, overhead, p.upper - ip));
    }
    if (sixInSix) {
      int out = p.egressInterface;
      p.l3 =
          encap.encapsulate6(
              buffer,
              ip,
              innerLength,
              egress6.sourceHigh(out),
              egress6.sourceLow(out),
              hostServers.high(target),
              hostServers.low(target));
      output.process(buffer, p);
    } else {
      p.l3 =
          encap.encapsulate4(
              buffer, ip, innerLength, interfaces[p.egressInterface].address(), target);
      output4.process(buffer, p);
    }
    if (p.service != RedirectorTable.NOT_FOUND) {
      redirects.count(p.service, target, innerLength);
    }
    counters.increment(Counter.REDIRECTED);
  }

  /** The packet's bytes: fixed header and payload, without the frame's padding. */
  private static int length(PacketContext p) {
    return p.upper + p.upperLength - p.l3;
  }

  private void reject(
      MutableDirectBuffer buffer,
      PacketContext p,
      int type,
      int code,
      int rest,
      Counter sent,
      Counter drop) {
    icmp.reject(
        buffer,
        p.l3,
        length(p),
        type,
        code,
        rest,
        Icmpv6Header.isErrorOrRedirect(buffer, input.chain()),
        p.ingress.index(),
        sent,
        drop);
  }

  /**
   * The replicated IPv6 service whose address and port sent this SYN-ACK, answered by its origin,
   * or {@link RedirectorTable#NOT_FOUND}: it gets the clamp redirected SYNs get. Plain forwarding
   * pays one flag read.
   */
  private int synFromService(MutableDirectBuffer buffer, PacketContext p) {
    if (p.protocol != Ipv6Header.NEXT_HEADER_TCP
        || p.fragment6 != -1
        || p.upperLength < TcpHeader.MIN_LENGTH
        || (TcpHeader.flags(buffer, p.upper) & TcpHeader.FLAG_SYN) == 0) {
      return RedirectorTable.NOT_FOUND;
    }
    return redirects.lookup6(
        p.source6High,
        p.source6Low,
        Ipv6Header.NEXT_HEADER_TCP,
        TcpHeader.sourcePort(buffer, p.upper));
  }

  /**
   * The longest tunnel header the service's flows may be given: IPv6-in-IPv6's 40 bytes if one of
   * its host servers is reached over IPv6, else IPv6-in-IPv4's 20.
   */
  private int largestTunnel(int service) {
    int n = redirects.hostServerCount(service);
    for (int i = 0; i < n; i++) {
      if (Ipv6HostServers.isId(redirects.hostServer(service, i))) {
        return Ip6Encap.OVERHEAD_6IN6;
      }
    }
    return Ip6Encap.OVERHEAD_6IN4;
  }
}
