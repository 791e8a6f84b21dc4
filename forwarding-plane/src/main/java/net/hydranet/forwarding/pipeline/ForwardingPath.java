package net.hydranet.forwarding.pipeline;

import java.nio.ByteOrder;
import net.hydranet.forwarding.config.ForwardingContext;
import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.element.ArpResponder;
import net.hydranet.forwarding.element.Egress;
import net.hydranet.forwarding.element.EtherClassifier;
import net.hydranet.forwarding.element.FragmentTracker;
import net.hydranet.forwarding.element.GueEncap;
import net.hydranet.forwarding.element.IcmpErrorSender;
import net.hydranet.forwarding.element.IpFragmenter;
import net.hydranet.forwarding.element.IpInput;
import net.hydranet.forwarding.element.IpOutput;
import net.hydranet.forwarding.element.IpipEncap;
import net.hydranet.forwarding.element.LocalDelivery;
import net.hydranet.forwarding.element.MssClamp;
import net.hydranet.forwarding.element.PacketContext;
import net.hydranet.forwarding.element.RedirectLookup;
import net.hydranet.forwarding.element.TunnelToOrigin;
import net.hydranet.forwarding.io.TxPort;
import net.hydranet.forwarding.neighbour.NeighbourTable;
import net.hydranet.forwarding.table.FlowTable;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.table.RouteTable;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.IcmpHeader;
import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.TcpHeader;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.IntHashSet;

/**
 * The redirector's element graph for one frame, run by the forwarding thread (ARCHITECTURE.md draws
 * the same):
 *
 * <pre>
 * EtherClassifier ─┬─ ARP → ArpResponder
 *                  ├─ IPv6 → Ipv6Path (its own graph, drawn there)
 *                  └─ IPv4 → IpInput ─┬─ local → LocalDelivery (echo reply → IpOutput)
 *                                     │         (second-chance tunnel → TunnelToOrigin → forward,
 *                                     │          or IP-in-IP to the walk's next candidate)
 *                                     └─ transit → TTL ≤ 1? ICMP time exceeded
 *      ICMP → RedirectLookup.steerIcmpError ─┬─ its flow's host server → redirect
 *                                            └─ forward
 *      TCP/UDP, non-first fragment → FragmentTracker (follow its first / hold / drop)
 *      TCP/UDP → RedirectLookup (service, FlowTable, Maglev) ─┬─ host server → redirect
 *                                                             └─ origin → forward
 *      other → forward
 *   redirect, and the walk's step (IP-in-IP, never clamped), one tunnel:
 *            IpOutput.lookup(host server) → TTL − 1 → MssClamp → IpipEncap | GueEncap → IpOutput
 *   forward:  IpOutput.lookup(destination) → DF and too big? → TTL − 1 → MssClamp (SYN-ACK) → IpOutput
 *   IpOutput: MTU? whole : DF ? frag-needed : IpFragmenter → Egress (ARP, Ethernet, TX)
 * </pre>
 *
 * <p>A first fragment records its decision so that its datagram's other fragments (held until it
 * comes, if they come first) follow it. Every frame ends in exactly one outcome counter: each
 * element counts its own drops and returns a port, and the path counts the forwarded and
 * redirected. Nothing here allocates, locks or logs: the elements, the {@link PacketContext} and
 * scratch buffers are built once. The IPv4 steps below the lookup take the datagram's offset and
 * the route as arguments, not through the context (ARCHITECTURE.md, "One packet through the
 * redirector").
 */
public final class ForwardingPath implements FrameProcessor {
  private final Counters counters;
  private final RouterInterface[] interfaces;
  private final RedirectorTable redirects;
  private final NeighbourTable neighbours;
  private final PacketContext packet = new PacketContext();
  private final EtherClassifier classifier;
  private final ArpResponder arp;
  private final IpInput ipInput;
  private final LocalDelivery local;
  private final RedirectLookup lookup;
  private final FragmentTracker fragments;
  private final MssClamp mssClamp;
  private final IpipEncap encap;
  private final GueEncap gue;
  private final IntHashSet gueHostServers;
  // Whether any host server takes GUE: one field read per redirected packet when none does.
  private final boolean anyGue;
  private final TunnelToOrigin tunnelToOrigin;
  private final IpOutput output;
  private final IcmpErrorSender icmp;
  private final Egress egress;
  private final Ipv6Path ipv6;
  private final boolean clampMss;

  /**
   * Fewer live flows than this and the connection table stays in cache (about 1 MB of lines, this
   * machine's L2): pass one would only cost its parse, 8–13 ns a packet at 1K flows here
   * (BENCHMARKS.md, "Look-ahead"), so it is skipped.
   */
  static final int LOOK_AHEAD_MIN_FLOWS = 1 << 14;

  private int lookAheadMinFlows = LOOK_AHEAD_MIN_FLOWS;
  private final FragmentTracker.ReleaseSink releaseSink = this::releaseHeld;

  public ForwardingPath(
      ForwardingContext context,
      Counters counters,
      RedirectorTable redirects,
      RouteTable routes,
      NeighbourTable neighbours,
      TxPort[] ports) {
    this.counters = counters;
    this.interfaces = context.interfaces().toArray(new RouterInterface[0]);
    int[] localAddresses = new int[interfaces.length];
    for (int i = 0; i < interfaces.length; i++) {
      localAddresses[i] = interfaces[i].address();
    }
    this.redirects = redirects;
    this.neighbours = neighbours;
    this.classifier = new EtherClassifier(counters, Counter.DROP_TRUNCATED_ETHERNET.id(), true);
    this.mssClamp = new MssClamp(counters);
    this.encap =
        new IpipEncap(counters, interfaces, context.outerTtl(), context.clearDontFragment(), 1);
    this.gue =
        new GueEncap(
            counters, interfaces, redirects, context.outerTtl(), context.clearDontFragment(), 1);
    this.gueHostServers = new IntHashSet(Math.max(8, 2 * context.gueHostServers().length));
    for (int h : context.gueHostServers()) {
      gueHostServers.add(h);
    }
    this.anyGue = !gueHostServers.isEmpty();
    this.tunnelToOrigin = new TunnelToOrigin(counters, redirects);
    this.egress = new Egress(counters, interfaces, ports, neighbours);
    this.output =
        new IpOutput(routes, interfaces, new IpFragmenter(counters, FrameSlot.MAX_FRAME), egress);
    this.icmp =
        new IcmpErrorSender(
            counters, routes, interfaces, egress, context.icmpRate(), context.icmpBurst());
    this.arp = new ArpResponder(counters, localAddresses, neighbours, egress);
    this.ipInput = new IpInput(counters, localAddresses);
    this.local = new LocalDelivery(counters, output);
    this.clampMss = context.mssClamp();
    this.lookup = new RedirectLookup(context, counters, redirects);
    this.fragments =
        new FragmentTracker(
            counters,
            context.fragmentContexts(),
            context.fragmentsHeld(),
            FrameSlot.MAX_FRAME,
            context.fragmentTimeoutNanos());
    this.ipv6 = new Ipv6Path(context, counters, interfaces, redirects, output, egress);
  }

  /** The IPv6 graph and its tables (forwarding thread only). */
  public Ipv6Path ipv6() {
    return ipv6;
  }

  /** The connection table, for tests and snapshots (forwarding thread only). */
  public FlowTable flows() {
    return lookup.flows();
  }

  /**
   * The control plane declared {@code hostServer} dead: flows pinned to it are released at their
   * next packet, IPv4 and IPv6 flows alike ({@link RedirectLookup#hostServerDead}, {@link
   * Ipv6Path#hostServerDead}; forwarding thread only).
   */
  public void hostServerDead(int hostServer) {
    lookup.hostServerDead(hostServer);
    ipv6.hostServerDead(hostServer);
  }

  /** The fragment tracker, for tests (forwarding thread only). */
  public FragmentTracker fragments() {
    return fragments;
  }

  public Egress egress() {
    return egress;
  }

  public NeighbourTable neighbours() {
    return neighbours;
  }

  /** The path's clock: the last tick's or frame's time, nanoseconds (live or replayed). */
  public long now() {
    return egress.now();
  }

  @Override
  public void tick(long nowNanos) {
    egress.now(nowNanos);
    egress.poll();
    lookup.tick(nowNanos);
    ipv6.tick(nowNanos);
  }

  @Override
  public void flush() {
    egress.flush();
  }

  /**
   * Look-ahead for the connection table (STYLE.md, "Batches"): at 1M flows its probe is one
   * cache-cold line per packet, about twice the packet's own cost here; noted for a batch first and
   * read together in {@link #loadPrefetched}, the misses overlap (BENCHMARKS.md, "Look-ahead").
   * Parses only the link header here; {@link RedirectLookup#prefetch} the rest. With the table off,
   * or holding fewer than {@link #LOOK_AHEAD_MIN_FLOWS}, it does nothing.
   */
  @Override
  public void prefetch(DirectBuffer buffer, int offset, int length) {
    if (lookup.flows().size() < lookAheadMinFlows || length < EthernetHeader.LENGTH) {
      return;
    }
    int type = EthernetHeader.type(buffer, offset);
    int l3 = offset + EthernetHeader.LENGTH;
    if (type == EthernetHeader.TYPE_VLAN) {
      if (length < EthernetHeader.VLAN_LENGTH) {
        return;
      }
      type =
          buffer.getShort(offset + EthernetHeader.VLAN_TYPE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
      l3 = offset + EthernetHeader.VLAN_LENGTH;
    }
    if (type == EthernetHeader.TYPE_IPV4) {
      lookup.prefetch(buffer, l3, offset + length - l3);
    }
  }

  @Override
  public int loadPrefetched() {
    return lookup.loadPrefetched();
  }

  /**
   * For tests: look ahead from this many live flows on (at least 1: a table that is off, never).
   */
  void lookAheadMinFlows(int flows) {
    if (flows < 1) {
      throw new IllegalArgumentException("lookAheadMinFlows " + flows + " < 1");
    }
    this.lookAheadMinFlows = flows;
  }

  @Override
  public void process(MutableDirectBuffer buffer, int offset, int length, int ingress) {
    counters.increment(Counter.RX_FRAMES);
    counters.add(Counter.RX_BYTES, length);
    PacketContext p = packet;
    p.reset(interfaces[ingress], offset, length);
    switch (classifier.process(buffer, p)) {
      case EtherClassifier.IPV4 -> ipv4(buffer, p);
      case EtherClassifier.ARP -> arp.process(buffer, p);
      case EtherClassifier.IPV6 -> ipv6.process(buffer, p);
      case EtherClassifier.OTHER -> counters.increment(Counter.DROP_UNSUPPORTED_ETHERTYPE);
      default -> {} // dropped and counted by the classifier
    }
  }

  /**
   * The IPv4 graph. Its own steps (forward, redirect, the tunnel) take the datagram's offset and
   * what they learn of it as arguments, not through the context: {@code l3} is read once here,
   * where the classifier has just stored it.
   */
  private void ipv4(MutableDirectBuffer buffer, PacketContext p) {
    int ip = p.l3;
    int in = ipInput.process(buffer, p);
    if (in == IpInput.LOCAL) {
      if (TunnelToOrigin.isTunnel(buffer, ip, p.available)) {
        passedBack(buffer, p);
        return;
      }
      local.process(buffer, p);
      return;
    }
    if (in != IpInput.TRANSIT) {
      return;
    }
    if (Ipv4Header.ttl(buffer, ip) <= 1) {
      icmp.reject(
          buffer,
          ip,
          IcmpHeader.TYPE_TIME_EXCEEDED,
          IcmpHeader.CODE_TTL_EXCEEDED,
          0,
          Counter.ICMP_SENT_TIME_EXCEEDED,
          Counter.DROP_TTL_EXCEEDED);
      return;
    }
    int protocol = Ipv4Header.protocol(buffer, ip);
    if (protocol == Ipv4Header.PROTOCOL_ICMP) {
      if (lookup.steerIcmpError(buffer, p) == RedirectLookup.HOST_SERVER) {
        redirect(buffer, p, ip);
      } else {
        forward(buffer, ip);
      }
      return;
    }
    if (protocol != Ipv4Header.PROTOCOL_TCP && protocol != Ipv4Header.PROTOCOL_UDP) {
      forward(buffer, ip);
      return;
    }
    if (Ipv4Header.fragmentOffset(buffer, ip) != 0) {
      nonFirstFragment(buffer, p, ip);
      return;
    }
    int port = lookup.process(buffer, p);
    if (port == RedirectLookup.DROP) {
      return;
    }
    if (Ipv4Header.isFragment(buffer, ip) && lookup.fragmentsFollow(p)) {
      firstFragment(buffer, p, ip);
      return;
    }
    // The lookup's port says what PacketContext#target does, without loading it again.
    if (port == RedirectLookup.HOST_SERVER) {
      redirect(buffer, p, ip);
    } else {
      forward(buffer, ip);
    }
  }

  /** The datagram at {@code ip} where the decision in {@link PacketContext#target} sends it. */
  private void dispatch(MutableDirectBuffer buffer, PacketContext p, int ip) {
    if (p.target != 0) {
      redirect(buffer, p, ip);
    } else {
      forward(buffer, ip);
    }
  }

  /** A first fragment: its later fragments follow this decision, even those already held. */
  private void firstFragment(MutableDirectBuffer buffer, PacketContext p, int ip) {
    int context = fragments.first(buffer, ip, egress.now(), p.target, p.service);
    if (context < 0) {
      counters.increment(Counter.DROP_BAD_FRAGMENT);
      return;
    }
    dispatch(buffer, p, ip);
    fragments.release(context, releaseSink);
  }

  /**
   * A held fragment released behind its first: a new datagram for the elements after the lookup.
   */
  private void releaseHeld(MutableDirectBuffer buffer, int ip, int target, int service) {
    PacketContext p = packet;
    p.l3 = ip;
    p.target = target;
    p.service = service;
    dispatch(buffer, p, ip);
  }

  /**
   * A fragment without ports. To an address no service has, it is forwarded as before; otherwise it
   * follows its first fragment's decision, or waits for it.
   */
  private void nonFirstFragment(MutableDirectBuffer buffer, PacketContext p, int ip) {
    if (!lookup.isServiceAddress(p.destination)) {
      forward(buffer, ip);
      return;
    }
    int result = fragments.other(buffer, ip, egress.now());
    if (result == FragmentTracker.FOLLOW) {
      p.service = fragments.service();
      p.target = fragments.target();
      dispatch(buffer, p, ip);
    } else if (result == FragmentTracker.DROPPED) {
      counters.increment(Counter.DROP_BAD_FRAGMENT);
    }
    // HELD: the outcome is counted when it is released or times out.
  }

  /**
   * The datagram at {@code ip} to {@link PacketContext#target}, a host server, in IP-in-IP (RFC
   * 2003), or in the second-chance tunnel (UDP, GUE and a hop list: hostserver/SECOND-CHANCE.md)
   * for the host servers configured so; a SYN's MSS clamped to fit the tunnel first.
   */
  private void redirect(MutableDirectBuffer buffer, PacketContext p, int ip) {
    int target = p.target;
    tunnel(
        buffer,
        ip,
        p.service,
        target,
        anyGue && gueHostServers.contains(target),
        clampMss && (p.tcpFlags & TcpHeader.FLAG_SYN) != 0);
  }

  /**
   * A host server's pass-back (a rare path: only tunnels addressed to us reach it): to the origin,
   * never redirected again (the loop guard), or in IP-in-IP to the next candidate of the walk; the
   * flow's pin follows ({@link TunnelToOrigin}, {@link RedirectLookup#repinPassedBack}).
   */
  private void passedBack(MutableDirectBuffer buffer, PacketContext p) {
    int result = tunnelToOrigin.process(buffer, p);
    if (result == TunnelToOrigin.REFUSED) {
      return;
    }
    lookup.repinPassedBack(buffer, p, tunnelToOrigin.sender(), p.target);
    if (result == TunnelToOrigin.FORWARD) {
      forward(buffer, p.l3);
    } else {
      // The walk's step: the inner datagram to the flow's next candidate in IP-in-IP whatever that
      // host server is configured for — the 20 bytes it came back in, so it fits as it did — and
      // never clamped (a pass-back is never a SYN).
      tunnel(buffer, p.l3, p.service, p.target, false, false);
    }
  }

  /**
   * The tunnel to a host server, for {@link #redirect} and the walk of {@link #passedBack}: route
   * to {@code target} → TTL − 1 → MssClamp if {@code clamp} → IpipEncap, or GueEncap if {@code
   * second} → IpOutput; counted redirected (to {@code service}'s host server when it has one), or
   * dropped and counted: no route, or too big with DF (frag-needed to the source).
   */
  private void tunnel(
      MutableDirectBuffer buffer, int ip, int service, int target, boolean second, boolean clamp) {
    int route = output.lookup(target);
    if (route == RouteTable.NOT_FOUND) {
      counters.increment(Counter.DROP_NO_HOST_SERVER_ROUTE);
      return;
    }
    int out = output.interfaceIndex(route);
    int nextHop = output.nextHop(route, target);
    RouterInterface egressInterface = interfaces[out];
    int mtu = egressInterface.mtu();
    int innerLength = Ipv4Header.totalLength(buffer, ip);
    Ipv4Header.decrementTtl(buffer, ip);
    if (clamp) {
      // Exactly this tunnel's bytes: 20 for IP-in-IP; for GUE 36 + 4 a hop, the list being the one
      // GueEncap writes for this service and host server (the same for all its flows).
      mssClamp.clampForTunnel(
          buffer,
          ip,
          mtu,
          second
              ? GueEncap.overhead(GueEncap.hopCount(redirects, service, target))
              : IpipEncap.OVERHEAD);
    }
    int source = egressInterface.address();
    int outer =
        second
            ? gue.encapsulate(buffer, ip, source, service, target)
            : encap.encapsulate(buffer, ip, source, target);
    if (output.send(buffer, outer, mtu, out, nextHop) == IpOutput.TOO_BIG) {
      // RFC 1191 §4: tell the source the MTU it must use, which is ours less the tunnel header
      // (20 bytes of IP-in-IP, or the second-chance tunnel's IP, UDP, GUE and hop list).
      restoreTtl(buffer, ip);
      icmp.reject(
          buffer,
          ip,
          IcmpHeader.TYPE_DESTINATION_UNREACHABLE,
          IcmpHeader.CODE_FRAGMENTATION_NEEDED,
          mtu - (ip - outer),
          Counter.ICMP_SENT_FRAG_NEEDED,
          Counter.DROP_FRAG_NEEDED);
      return;
    }
    if (service != RedirectorTable.NOT_FOUND) {
      redirects.count(service, target, innerLength);
    }
    counters.increment(Counter.REDIRECTED);
  }

  /** The datagram at {@code ip} to its own destination. */
  private void forward(MutableDirectBuffer buffer, int ip) {
    int destination = Ipv4Header.destination(buffer, ip);
    int route = output.lookup(destination);
    if (route == RouteTable.NOT_FOUND) {
      icmp.reject(
          buffer,
          ip,
          IcmpHeader.TYPE_DESTINATION_UNREACHABLE,
          IcmpHeader.CODE_NET_UNREACHABLE,
          0,
          Counter.ICMP_SENT_NET_UNREACHABLE,
          Counter.DROP_NO_ROUTE);
      return;
    }
    int out = output.interfaceIndex(route);
    int nextHop = output.nextHop(route, destination);
    RouterInterface egressInterface = interfaces[out];
    if (destination == egressInterface.broadcast()) {
      counters.increment(Counter.DROP_MARTIAN_DESTINATION);
      return;
    }
    int mtu = egressInterface.mtu();
    // The MTU is checked before the TTL is touched, so a frag-needed quotes the datagram as
    // received.
    int length = Ipv4Header.totalLength(buffer, ip);
    boolean fits = length <= mtu;
    if (!fits && Ipv4Header.dontFragment(buffer, ip)) {
      icmp.reject(
          buffer,
          ip,
          IcmpHeader.TYPE_DESTINATION_UNREACHABLE,
          IcmpHeader.CODE_FRAGMENTATION_NEEDED,
          mtu,
          Counter.ICMP_SENT_FRAG_NEEDED,
          Counter.DROP_FRAG_NEEDED);
      return;
    }
    Ipv4Header.decrementTtl(buffer, ip);
    if (fits) {
      if (clampMss) {
        int service = synFromService(buffer, ip);
        if (service != RedirectorTable.NOT_FOUND) {
          mssClamp.clampForTunnel(buffer, ip, mtu, largestTunnel(service));
        }
      }
      // Known to fit: straight to Egress, without IpOutput.send reading the length and the MTU
      // again.
      output.sendWhole(buffer, ip, length, out, nextHop);
    } else {
      output.send(buffer, ip, mtu, out, nextHop); // too big, DF clear: in fragments
    }
    counters.increment(Counter.FORWARDED);
  }

  /**
   * The service whose address and port sent this SYN-ACK (the origin answering a flow the table did
   * not redirect), or {@link RedirectorTable#NOT_FOUND}: it gets a clamp like redirected SYNs: its
   * MSS bounds what the client sends on that flow, and a tunnel may carry the service's flows
   * (after a restart, or on another redirector behind ECMP). A cheap test first — only SYNs reach
   * the table lookup — so plain forwarding pays one flag read.
   */
  private int synFromService(MutableDirectBuffer buffer, int ip) {
    if (Ipv4Header.protocol(buffer, ip) != Ipv4Header.PROTOCOL_TCP
        || Ipv4Header.isFragment(buffer, ip)) {
      return RedirectorTable.NOT_FOUND;
    }
    int headerLength = Ipv4Header.headerLength(buffer, ip);
    int tcp = ip + headerLength;
    if (Ipv4Header.totalLength(buffer, ip) - headerLength < TcpHeader.MIN_LENGTH
        || (TcpHeader.flags(buffer, tcp) & TcpHeader.FLAG_SYN) == 0) {
      return RedirectorTable.NOT_FOUND;
    }
    return redirects.lookup(
        Ipv4Header.source(buffer, ip), Ipv4Header.PROTOCOL_TCP, TcpHeader.sourcePort(buffer, tcp));
  }

  /**
   * The longest tunnel header the service's flows may be given: a client's segment on a flow the
   * origin answered may later be redirected to any of its host servers (IP-in-IP's 20 bytes, or the
   * second chance's GUE with the list that host server gets). Once per SYN-ACK.
   */
  private int largestTunnel(int service) {
    int largest = IpipEncap.OVERHEAD;
    if (!anyGue) {
      return largest;
    }
    int n = redirects.hostServerCount(service);
    for (int i = 0; i < n; i++) {
      int h = redirects.hostServer(service, i);
      if (h != 0 && gueHostServers.contains(h)) {
        largest = Math.max(largest, GueEncap.overhead(GueEncap.hopCount(redirects, service, h)));
      }
    }
    return largest;
  }

  /** Undoes {@link Ipv4Header#decrementTtl} so an ICMP error quotes the datagram as received. */
  private static void restoreTtl(MutableDirectBuffer buffer, int ip) {
    int word = buffer.getShort(ip + Ipv4Header.TTL_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    int newWord = word + 0x0100;
    buffer.putShort(ip + Ipv4Header.TTL_OFFSET, (short) newWord, ByteOrder.BIG_ENDIAN);
    Ipv4Header.checksum(
        buffer, ip, InternetChecksum.update16(Ipv4Header.checksum(buffer, ip), word, newWord));
  }
}
