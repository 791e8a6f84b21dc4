package net.hydranet.forwarding.pipeline;

import java.nio.ByteOrder;
import net.hydranet.forwarding.config.ForwardingContext;
import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.element.CheckIpHeader;
import net.hydranet.forwarding.element.Egress;
import net.hydranet.forwarding.element.FragmentTracker;
import net.hydranet.forwarding.element.IcmpErrorSender;
import net.hydranet.forwarding.element.IpFragmenter;
import net.hydranet.forwarding.element.IpipEncap;
import net.hydranet.forwarding.element.MssClamp;
import net.hydranet.forwarding.element.Verdict;
import net.hydranet.forwarding.io.TxPort;
import net.hydranet.forwarding.neighbour.NeighbourTable;
import net.hydranet.forwarding.table.FlowTable;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.table.RouteTable;
import net.hydranet.forwarding.wire.ArpPacket;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.IcmpHeader;
import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.TcpHeader;
import net.hydranet.forwarding.wire.UdpHeader;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The redirector's element chain for one frame, run by the forwarding thread:
 *
 * <pre>
 * classify (Ethernet, 802.1Q) ─┬─ ARP → learn / answer
 *                              └─ IPv4 → CheckIpHeader → local? → echo reply / delivered
 *                                   → TTL check → ICMP error about a flow? → tunnel to its host server
 *                                   → non-first fragment? → FragmentTracker (follow / hold / drop)
 *                                   → RedirectLookup → FlowTable → Maglev (new flows)
 *                                       ─┬─ host server → DecIpTtl → MssClamp
 *                                        │   → IpipEncap → MTU? (frag / ICMP)
 *                                        └─ origin → DecIpTtl → route → MTU?
 *                                   └──────────────────────────────────→ Egress (ARP, Ethernet, TX)
 * </pre>
 *
 * <p>A first fragment records its decision so that its datagram's other fragments (held until it
 * comes, if they come first) follow it; {@code chooseTarget} says which flows are pinned, and why.
 *
 * <p>Every frame ends in exactly one outcome counter. Nothing here allocates, locks or logs: the
 * elements and scratch buffers are built once, and drops are verdicts, not exceptions.
 */
public final class ForwardingPath implements FrameProcessor {
  private final Counters counters;
  private final RouterInterface[] interfaces;
  private final int[] localAddresses;
  private final RedirectorTable redirects;
  private final RouteTable routes;
  private final NeighbourTable neighbours;
  private final CheckIpHeader checkIpHeader;
  private final MssClamp mssClamp;
  private final IpipEncap encap;
  private final IpFragmenter fragmenter;
  private final IcmpErrorSender icmp;
  private final Egress egress;
  private final boolean clampMss;
  private final FlowTable flows;
  private final FragmentTracker fragments;
  private final FragmentTracker.ReleaseSink releaseSink = this::releaseHeld;
  private final long tcpIdleNanos;
  private final long tcpClosingNanos;
  private final long udpIdleNanos;

  // Where the fragmenter sends: set before each fragment() call, read by the sink.
  private int fragmentInterface;
  private int fragmentNextHop;
  private final IpFragmenter.FragmentSink fragmentSink = this::sendFragment;

  public ForwardingPath(
      ForwardingContext context,
      Counters counters,
      RedirectorTable redirects,
      RouteTable routes,
      NeighbourTable neighbours,
      TxPort[] ports) {
    this.counters = counters;
    this.interfaces = context.interfaces().toArray(new RouterInterface[0]);
    this.localAddresses = new int[interfaces.length];
    for (int i = 0; i < interfaces.length; i++) {
      localAddresses[i] = interfaces[i].address();
    }
    this.redirects = redirects;
    this.routes = routes;
    this.neighbours = neighbours;
    this.checkIpHeader = new CheckIpHeader(counters);
    this.mssClamp = new MssClamp(counters);
    this.encap = new IpipEncap(counters, context.outerTtl(), context.clearDontFragment(), 1);
    this.fragmenter = new IpFragmenter(counters, FrameSlot.MAX_FRAME);
    this.egress = new Egress(counters, interfaces, ports, neighbours);
    this.icmp =
        new IcmpErrorSender(
            counters, routes, interfaces, egress, context.icmpRate(), context.icmpBurst());
    this.clampMss = context.mssClamp();
    this.flows = new FlowTable(context.flowCapacity(), context.flowRecencyNanos(), counters);
    this.fragments =
        new FragmentTracker(
            counters,
            context.fragmentContexts(),
            context.fragmentsHeld(),
            FrameSlot.MAX_FRAME,
            context.fragmentTimeoutNanos());
    this.tcpIdleNanos = context.tcpIdleNanos();
    this.tcpClosingNanos = context.tcpClosingNanos();
    this.udpIdleNanos = context.udpIdleNanos();
  }

  /** The connection table, for tests and snapshots (forwarding thread only). */
  public FlowTable flows() {
    return flows;
  }

  /** The fragment tracker, for tests (forwarding thread only). */
  public FragmentTracker fragments() {
    return fragments;
  }

  public Egress egress() {
    return egress;
  }

  @Override
  public void tick(long nowNanos) {
    egress.now(nowNanos);
    egress.poll();
    // A bounded sweep from the least recently used end; lookups expire the rest lazily.
    flows.expire(nowNanos, 64);
  }

  @Override
  public void process(MutableDirectBuffer buffer, int offset, int length, int ingress) {
    counters.increment(Counter.RX_FRAMES);
    counters.add(Counter.RX_BYTES, length);
    if (length < EthernetHeader.LENGTH) {
      counters.increment(Counter.DROP_TRUNCATED_ETHERNET);
      return;
    }
    RouterInterface in = interfaces[ingress];
    long destinationMac = EthernetHeader.destination(buffer, offset);
    if (destinationMac != in.mac() && destinationMac != EthernetHeader.BROADCAST) {
      // Promiscuous capture sees the whole segment; a router acts only on frames sent to it.
      counters.increment(Counter.DROP_NOT_FOR_US);
      return;
    }
    int type = EthernetHeader.type(buffer, offset);
    int l3 = offset + EthernetHeader.LENGTH;
    if (type == EthernetHeader.TYPE_VLAN) {
      if (length < EthernetHeader.VLAN_LENGTH) {
        counters.increment(Counter.DROP_TRUNCATED_ETHERNET);
        return;
      }
      type =
          buffer.getShort(offset + EthernetHeader.VLAN_TYPE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
      l3 = offset + EthernetHeader.VLAN_LENGTH;
    }
    int available = offset + length - l3;
    if (type == EthernetHeader.TYPE_IPV4) {
      if (destinationMac == EthernetHeader.BROADCAST) {
        counters.increment(Counter.DROP_MARTIAN_DESTINATION);
        return;
      }
      ipv4(buffer, l3, available, in);
    } else if (type == EthernetHeader.TYPE_ARP) {
      arp(buffer, l3, available, in);
    } else {
      counters.increment(Counter.DROP_UNSUPPORTED_ETHERTYPE);
    }
  }

  private void arp(MutableDirectBuffer buffer, int arp, int available, RouterInterface in) {
    if (available < ArpPacket.LENGTH || !ArpPacket.isEthernetIpv4(buffer, arp)) {
      counters.increment(Counter.DROP_BAD_ARP);
      return;
    }
    int operation = ArpPacket.operation(buffer, arp);
    int senderIp = ArpPacket.senderIp(buffer, arp);
    long senderMac = ArpPacket.senderMac(buffer, arp);
    int targetIp = ArpPacket.targetIp(buffer, arp);
    if ((operation != ArpPacket.OPERATION_REQUEST && operation != ArpPacket.OPERATION_REPLY)
        || EthernetHeader.isGroup(senderMac)
        || CheckIpHeader.isMartianSource(senderIp)) {
      counters.increment(Counter.DROP_BAD_ARP);
      return;
    }
    boolean forUs = targetIp == in.address();
    counters.increment(
        operation == ArpPacket.OPERATION_REQUEST
            ? Counter.ARP_REQUESTS_RECEIVED
            : Counter.ARP_REPLIES_RECEIVED);
    // RFC 826: update a known sender; add it only when the message was meant for us. Never learn
    // a MAC for one of our own addresses: that is someone claiming to be us.
    if (isLocal(senderIp)) {
      counters.increment(Counter.DROP_BAD_ARP);
      return;
    }
    if (senderIp != 0 && onLink(in, senderIp)) {
      neighbours.learn(senderIp, senderMac, in.index(), forUs, egress.now(), egress);
    }
    if (operation == ArpPacket.OPERATION_REQUEST && forUs) {
      egress.reply(in.index(), senderMac, senderIp);
    }
    counters.increment(Counter.DELIVERED_LOCAL);
  }

  private boolean isLocal(int address) {
    for (int local : localAddresses) {
      if (address == local) {
        return true;
      }
    }
    return false;
  }

  private static boolean onLink(RouterInterface in, int address) {
    return (address & RouterInterface.mask(in.prefixLength())) == in.network();
  }

  private void ipv4(MutableDirectBuffer buffer, int ip, int available, RouterInterface in) {
    if (checkIpHeader.check(buffer, ip, available) != Verdict.CONTINUE) {
      return;
    }
    if (Ipv4Header.isFragment(buffer, ip) && !fragmentSane(buffer, ip)) {
      counters.increment(Counter.DROP_BAD_FRAGMENT);
      return;
    }
    int destination = Ipv4Header.destination(buffer, ip);
    int source = Ipv4Header.source(buffer, ip);
    for (int address : localAddresses) {
      if (source == address) {
        // Our own address as a source, from the wire: spoofed or looped (RFC 1812 §5.3.7). Found
        // by the fuzzer: an echo "from us" was answered to a MAC an ARP message had claimed.
        counters.increment(Counter.DROP_MARTIAN_SOURCE);
        return;
      }
      if (destination == address) {
        local(buffer, ip, in);
        return;
      }
    }
    if (CheckIpHeader.isMartianDestination(destination)
        || (destination >>> 28) == 0xE
        || destination == in.broadcast()) {
      // Multicast and broadcast are not routed here; martians never are (RFC 1812 §5.3.7).
      counters.increment(Counter.DROP_MARTIAN_DESTINATION);
      return;
    }
    if (Ipv4Header.ttl(buffer, ip) <= 1) {
      icmp.send(
          buffer,
          ip,
          IcmpHeader.TYPE_TIME_EXCEEDED,
          IcmpHeader.CODE_TTL_EXCEEDED,
          0,
          Counter.ICMP_SENT_TIME_EXCEEDED);
      counters.increment(Counter.DROP_TTL_EXCEEDED);
      return;
    }
    int protocol = Ipv4Header.protocol(buffer, ip);
    if (protocol == Ipv4Header.PROTOCOL_ICMP) {
      if (!steerIcmpError(buffer, ip, destination)) {
        forward(buffer, ip);
      }
      return;
    }
    if (protocol != Ipv4Header.PROTOCOL_TCP && protocol != Ipv4Header.PROTOCOL_UDP) {
      forward(buffer, ip);
      return;
    }
    if (Ipv4Header.fragmentOffset(buffer, ip) != 0) {
      nonFirstFragment(buffer, ip, destination);
      return;
    }
    int service = lookupService(buffer, ip);
    if (service == RedirectLookup.BAD_TRANSPORT) {
      counters.increment(Counter.DROP_BAD_TRANSPORT);
      return;
    }
    int target = chooseTarget(service, destination);
    if (Ipv4Header.isFragment(buffer, ip)
        && (service != RedirectorTable.NOT_FOUND || redirects.isServiceAddress(destination))) {
      // A first fragment: its later fragments follow this decision, even those already held.
      int context = fragments.first(buffer, ip, egress.now(), target, service);
      if (context < 0) {
        counters.increment(Counter.DROP_BAD_FRAGMENT);
        return;
      }
      dispatch(buffer, ip, service, target);
      fragments.release(context, releaseSink);
      return;
    }
    dispatch(buffer, ip, service, target);
  }

  private void dispatch(MutableDirectBuffer buffer, int ip, int service, int target) {
    if (target != 0) {
      redirect(buffer, ip, service, target);
    } else {
      forward(buffer, ip);
    }
  }

  private void releaseHeld(MutableDirectBuffer buffer, int ip, int target, int service) {
    dispatch(buffer, ip, service, target);
  }

  /**
   * A fragment without ports. To an address no service has, it is forwarded as before; otherwise it
   * follows its first fragment's decision, or waits for it.
   */
  private void nonFirstFragment(MutableDirectBuffer buffer, int ip, int destination) {
    if (!redirects.isServiceAddress(destination)) {
      forward(buffer, ip);
      return;
    }
    int result = fragments.other(buffer, ip, egress.now());
    if (result == FragmentTracker.FOLLOW) {
      int service = fragments.service();
      dispatch(buffer, ip, service, fragments.target());
    } else if (result == FragmentTracker.DROPPED) {
      counters.increment(Counter.DROP_BAD_FRAGMENT);
    }
    // HELD: the outcome is counted when it is released or times out.
  }

  /**
   * Where a TCP or UDP packet to a service address goes: 0 for the origin, else a host server.
   *
   * <p>The connection table is consulted first, so a flow stays on the target its first packet
   * chose while host servers come, go or drain. Which flows are recorded, and why:
   *
   * <ul>
   *   <li>TCP to any port of an address some service has — including ports with no service, whose
   *       target is the origin — and every TCP SYN the router forwards to any other address, pinned
   *       to the origin ({@link #pinToOrigin}). This is what keeps "a connection open to the origin
   *       survives the installation of a replica", even when the address had no service when the
   *       connection opened. The cost is one connection-table probe per TCP packet to service
   *       addresses, and one insert per forwarded SYN; other packets to other addresses pay one
   *       hash probe ({@link RedirectorTable#isServiceAddress}).
   *   <li>A SYN (without ACK) records its choice; so does a non-SYN packet of an unknown flow to a
   *       service (after a restart, or after eviction): it follows the consistent hash — the same
   *       choice a redirector with the same table made — and is pinned from then on. A non-SYN of
   *       an unknown flow to a port with no service goes to the origin and is not recorded.
   *   <li>FIN or RST marks the flow closing: kept for the closing timeout so retransmissions follow
   *       it, and a new SYN of the same 5-tuple starts afresh.
   *   <li>UDP to a service: every flow is recorded and kept for the UDP idle time.
   *   <li>A pinned host server that has left the service's set (not merely drained) no longer
   *       serves: the flow is chosen again by the hash. Draining keeps old flows, moves new ones.
   * </ul>
   */
  private int chooseTarget(int service, int destination) {
    boolean tcp = flowProtocol == Ipv4Header.PROTOCOL_TCP;
    boolean syn =
        tcp && (tcpFlags & (TcpHeader.FLAG_SYN | TcpHeader.FLAG_ACK)) == TcpHeader.FLAG_SYN;
    if (service == RedirectorTable.NOT_FOUND && !(tcp && redirects.isServiceAddress(destination))) {
      if (syn) {
        pinToOrigin(destination);
      } else if (tcp && (tcpFlags & (TcpHeader.FLAG_FIN | TcpHeader.FLAG_RST)) != 0) {
        closeOriginPin(destination);
      }
      return 0;
    }
    long now = egress.now();
    long hi = FlowTable.keyHi(flowSource, destination);
    long lo = FlowTable.keyLo(flowProtocol, flowSourcePort, flowDestinationPort);
    int entry = flows.find(hi, lo, now);
    boolean ending = tcp && (tcpFlags & (TcpHeader.FLAG_FIN | TcpHeader.FLAG_RST)) != 0;
    if (entry != FlowTable.NOT_FOUND && syn && flows.closing(entry)) {
      flows.remove(entry);
      entry = FlowTable.NOT_FOUND;
    }
    if (entry != FlowTable.NOT_FOUND) {
      int target = flows.target(entry);
      if (target != 0
          && (service == RedirectorTable.NOT_FOUND || !redirects.hasHostServer(service, target))) {
        target = service == RedirectorTable.NOT_FOUND ? 0 : redirects.select(service, flowHash);
        flows.target(entry, target);
      }
      if (ending) {
        flows.closing(entry, true);
      }
      flows.touch(
          entry, now, !tcp ? udpIdleNanos : flows.closing(entry) ? tcpClosingNanos : tcpIdleNanos);
      return target;
    }
    int target = service == RedirectorTable.NOT_FOUND ? 0 : redirects.select(service, flowHash);
    if (!ending && (syn || service != RedirectorTable.NOT_FOUND)) {
      flows.insert(hi, lo, target, now, tcp ? tcpIdleNanos : udpIdleNanos);
    }
    return target;
  }

  /**
   * Records a TCP SYN to an address with no service, pinned to the origin. Should a replica of that
   * address appear while the connection is open, its later packets — to a service address now, so
   * they consult the table — still find the origin. One insert per forwarded connection, none per
   * packet: other packets to such addresses never touch the table.
   */
  private void pinToOrigin(int destination) {
    long now = egress.now();
    long hi = FlowTable.keyHi(flowSource, destination);
    long lo = FlowTable.keyLo(flowProtocol, flowSourcePort, flowDestinationPort);
    int entry = flows.find(hi, lo, now);
    if (entry == FlowTable.NOT_FOUND) {
      flows.insert(hi, lo, 0, now, tcpIdleNanos);
    } else if (flows.closing(entry)) {
      // A new connection on a 5-tuple whose last one ended: pinned afresh.
      flows.closing(entry, false);
      flows.target(entry, 0);
      flows.touch(entry, now, tcpIdleNanos);
    }
  }

  /**
   * A FIN or RST of a connection pinned to the origin while its address had no service: marked
   * closing, as a connection to a service is, so that a later SYN reusing the 5-tuple (clients
   * reuse source ports within minutes) is a new flow, free to go to a replica installed since. One
   * probe per connection end; other packets to such addresses never touch the table.
   */
  private void closeOriginPin(int destination) {
    long now = egress.now();
    long hi = FlowTable.keyHi(flowSource, destination);
    long lo = FlowTable.keyLo(flowProtocol, flowSourcePort, flowDestinationPort);
    int entry = flows.find(hi, lo, now);
    if (entry != FlowTable.NOT_FOUND && !flows.closing(entry)) {
      flows.closing(entry, true);
      flows.touch(entry, now, tcpClosingNanos);
    }
  }

  /**
   * An ICMP error (destination unreachable — frag-needed among them — time exceeded, parameter
   * problem) sent to a service address about a packet that address sent: the host server that
   * serves the quoted flow sent that packet (direct return with the origin's address), so the error
   * belongs to it. The quoted packet runs origin → client; its flow in the table runs client →
   * origin, so the tuple is reversed for the lookup. An unknown flow to a service follows the
   * consistent hash, as its packets do.
   *
   * @return true when the error was tunnelled to a host server
   */
  private boolean steerIcmpError(MutableDirectBuffer buffer, int ip, int destination) {
    if (Ipv4Header.isFragment(buffer, ip) || !redirects.isServiceAddress(destination)) {
      return false;
    }
    int headerLength = Ipv4Header.headerLength(buffer, ip);
    int icmpOffset = ip + headerLength;
    int icmpLength = Ipv4Header.totalLength(buffer, ip) - headerLength;
    if (icmpLength < IcmpHeader.LENGTH + Ipv4Header.MIN_LENGTH + 4) {
      return false;
    }
    int type = IcmpHeader.type(buffer, icmpOffset);
    if (type != IcmpHeader.TYPE_DESTINATION_UNREACHABLE
        && type != IcmpHeader.TYPE_TIME_EXCEEDED
        && type != IcmpHeader.TYPE_PARAMETER_PROBLEM) {
      return false;
    }
    int quoted = icmpOffset + IcmpHeader.LENGTH;
    int quotedHeader = Ipv4Header.headerLength(buffer, quoted);
    int quotedProtocol = Ipv4Header.protocol(buffer, quoted);
    if (Ipv4Header.version(buffer, quoted) != 4
        || quotedHeader < Ipv4Header.MIN_LENGTH
        || IcmpHeader.LENGTH + quotedHeader + 4 > icmpLength
        || Ipv4Header.source(buffer, quoted) != destination
        || Ipv4Header.fragmentOffset(buffer, quoted) != 0
        || (quotedProtocol != Ipv4Header.PROTOCOL_TCP
            && quotedProtocol != Ipv4Header.PROTOCOL_UDP)) {
      return false;
    }
    int client = Ipv4Header.destination(buffer, quoted);
    int servicePort = UdpHeader.sourcePort(buffer, quoted + quotedHeader);
    int clientPort = UdpHeader.destinationPort(buffer, quoted + quotedHeader);
    int entry =
        flows.find(
            FlowTable.keyHi(client, destination),
            FlowTable.keyLo(quotedProtocol, clientPort, servicePort),
            egress.now());
    int service = redirects.lookup(destination, quotedProtocol, servicePort);
    int target;
    if (entry != FlowTable.NOT_FOUND) {
      target = flows.target(entry);
    } else if (service != RedirectorTable.NOT_FOUND) {
      target =
          redirects.select(
              service,
              RedirectLookup.flowHash(
                  client, destination, quotedProtocol, clientPort, servicePort));
    } else {
      target = 0;
    }
    if (target == 0) {
      return false;
    }
    counters.increment(Counter.ICMP_ERRORS_STEERED);
    redirect(buffer, ip, RedirectorTable.NOT_FOUND, target);
    return true;
  }

  /**
   * Stateless fragment checks, the ones a router can make without holding fragments: no fragment
   * may reach past 65,535 bytes (the "ping of death"); a TCP fragment at offset 8 can only exist to
   * overwrite the TCP header's flags, and a first TCP fragment must hold the whole minimal TCP
   * header (RFC 1858 §3–4, overlapping and tiny fragments). Stateful overlap detection, for
   * datagrams to service addresses, is {@link FragmentTracker}'s.
   */
  private static boolean fragmentSane(MutableDirectBuffer buffer, int ip) {
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

  // ---- redirect lookup ----

  private int flowHash;

  // The 5-tuple of the packet in hand, set by lookupService.
  private int flowSource;
  private int flowProtocol;
  private int flowSourcePort;
  private int flowDestinationPort;
  private int tcpFlags;

  /**
   * The service for (destination, protocol, destination port) of a TCP or UDP packet that is not a
   * non-first fragment, or NOT_FOUND; sets the flow's 5-tuple, flags and hash.
   */
  private int lookupService(MutableDirectBuffer buffer, int ip) {
    int protocol = Ipv4Header.protocol(buffer, ip);
    int headerLength = Ipv4Header.headerLength(buffer, ip);
    int l4 = ip + headerLength;
    int l4Length = Ipv4Header.totalLength(buffer, ip) - headerLength;
    boolean fragment = Ipv4Header.isFragment(buffer, ip);
    if (l4Length < 4) {
      if (fragment) {
        // No ports: nothing to decide by; the origin serves it.
        flowProtocol = -1;
        return RedirectorTable.NOT_FOUND;
      }
      return RedirectLookup.BAD_TRANSPORT;
    }
    tcpFlags = 0;
    if (protocol == Ipv4Header.PROTOCOL_TCP) {
      if (!fragment) {
        int tcpHeader = l4Length >= TcpHeader.MIN_LENGTH ? TcpHeader.headerLength(buffer, l4) : 0;
        if (tcpHeader < TcpHeader.MIN_LENGTH || tcpHeader > l4Length) {
          return RedirectLookup.BAD_TRANSPORT;
        }
      }
      if (l4Length >= TcpHeader.MIN_LENGTH) {
        tcpFlags = TcpHeader.flags(buffer, l4);
      }
    } else if (!fragment && l4Length < UdpHeader.LENGTH) {
      return RedirectLookup.BAD_TRANSPORT;
    }
    flowSource = Ipv4Header.source(buffer, ip);
    flowProtocol = protocol;
    flowSourcePort = UdpHeader.sourcePort(buffer, l4);
    flowDestinationPort = UdpHeader.destinationPort(buffer, l4);
    int destination = Ipv4Header.destination(buffer, ip);
    int service = redirects.lookup(destination, protocol, flowDestinationPort);
    if (service != RedirectorTable.NOT_FOUND) {
      flowHash =
          RedirectLookup.flowHash(
              flowSource, destination, protocol, flowSourcePort, flowDestinationPort);
    }
    return service;
  }

  private void redirect(MutableDirectBuffer buffer, int ip, int service, int hostServer) {
    int route = routes.lookup(hostServer);
    if (route == RouteTable.NOT_FOUND) {
      counters.increment(Counter.DROP_NO_HOST_SERVER_ROUTE);
      return;
    }
    int ifIndex = routes.interfaceIndex(route);
    RouterInterface out = interfaces[ifIndex];
    int nextHop = routes.nextHop(route) == 0 ? hostServer : routes.nextHop(route);
    int innerLength = Ipv4Header.totalLength(buffer, ip);
    Ipv4Header.decrementTtl(buffer, ip);
    if (clampMss) {
      mssClamp.clamp(
          buffer,
          ip,
          out.mtu()
              - Ipv4Header.MIN_LENGTH
              - Ipv4Header.headerLength(buffer, ip)
              - TcpHeader.MIN_LENGTH);
    }
    int outer = encap.encapsulate(buffer, ip, out.address(), hostServer);
    int outerLength = innerLength + Ipv4Header.MIN_LENGTH;
    if (outerLength > out.mtu()) {
      if (Ipv4Header.dontFragment(buffer, outer)) {
        // RFC 1191 §4: tell the source the MTU it must use, which is ours less the tunnel header.
        restoreTtl(buffer, ip);
        icmp.send(
            buffer,
            ip,
            IcmpHeader.TYPE_DESTINATION_UNREACHABLE,
            IcmpHeader.CODE_FRAGMENTATION_NEEDED,
            out.mtu() - Ipv4Header.MIN_LENGTH,
            Counter.ICMP_SENT_FRAG_NEEDED);
        counters.increment(Counter.DROP_FRAG_NEEDED);
        return;
      }
      fragmentInterface = ifIndex;
      fragmentNextHop = nextHop;
      fragmenter.fragment(buffer, outer, out.mtu(), fragmentSink);
    } else {
      egress.send(buffer, outer, outerLength, ifIndex, nextHop);
    }
    if (service != RedirectorTable.NOT_FOUND) {
      redirects.count(service, hostServer, innerLength);
    }
    counters.increment(Counter.REDIRECTED);
  }

  private void forward(MutableDirectBuffer buffer, int ip) {
    int destination = Ipv4Header.destination(buffer, ip);
    int route = routes.lookup(destination);
    if (route == RouteTable.NOT_FOUND) {
      icmp.send(
          buffer,
          ip,
          IcmpHeader.TYPE_DESTINATION_UNREACHABLE,
          IcmpHeader.CODE_NET_UNREACHABLE,
          0,
          Counter.ICMP_SENT_NET_UNREACHABLE);
      counters.increment(Counter.DROP_NO_ROUTE);
      return;
    }
    int ifIndex = routes.interfaceIndex(route);
    RouterInterface out = interfaces[ifIndex];
    if (destination == out.broadcast()) {
      counters.increment(Counter.DROP_MARTIAN_DESTINATION);
      return;
    }
    int nextHop = routes.nextHop(route) == 0 ? destination : routes.nextHop(route);
    int length = Ipv4Header.totalLength(buffer, ip);
    if (length > out.mtu()) {
      if (Ipv4Header.dontFragment(buffer, ip)) {
        icmp.send(
            buffer,
            ip,
            IcmpHeader.TYPE_DESTINATION_UNREACHABLE,
            IcmpHeader.CODE_FRAGMENTATION_NEEDED,
            out.mtu(),
            Counter.ICMP_SENT_FRAG_NEEDED);
        counters.increment(Counter.DROP_FRAG_NEEDED);
        return;
      }
      Ipv4Header.decrementTtl(buffer, ip);
      fragmentInterface = ifIndex;
      fragmentNextHop = nextHop;
      fragmenter.fragment(buffer, ip, out.mtu(), fragmentSink);
    } else {
      Ipv4Header.decrementTtl(buffer, ip);
      if (clampMss) {
        clampSynAckOfService(buffer, ip, out);
      }
      egress.send(buffer, ip, length, ifIndex, nextHop);
    }
    counters.increment(Counter.FORWARDED);
  }

  /**
   * A SYN-ACK from a replicated service's address and port (the origin answering a flow the table
   * did not redirect) gets the same clamp as redirected SYNs: its MSS bounds what the client sends
   * on that flow, and a tunnel may carry the service's flows. A cheap test first — only SYNs reach
   * the table lookup — so plain forwarding pays one flag read.
   */
  private void clampSynAckOfService(MutableDirectBuffer buffer, int ip, RouterInterface out) {
    if (Ipv4Header.protocol(buffer, ip) != Ipv4Header.PROTOCOL_TCP
        || Ipv4Header.isFragment(buffer, ip)) {
      return;
    }
    int headerLength = Ipv4Header.headerLength(buffer, ip);
    int tcp = ip + headerLength;
    if (Ipv4Header.totalLength(buffer, ip) - headerLength < TcpHeader.MIN_LENGTH
        || (TcpHeader.flags(buffer, tcp) & TcpHeader.FLAG_SYN) == 0) {
      return;
    }
    int source = Ipv4Header.source(buffer, ip);
    if (redirects.lookup(source, Ipv4Header.PROTOCOL_TCP, TcpHeader.sourcePort(buffer, tcp))
        != RedirectorTable.NOT_FOUND) {
      mssClamp.clamp(
          buffer, ip, out.mtu() - Ipv4Header.MIN_LENGTH - headerLength - TcpHeader.MIN_LENGTH);
    }
  }

  private void sendFragment(UnsafeBuffer buffer, int ipOffset, int ipLength) {
    egress.send(buffer, ipOffset, ipLength, fragmentInterface, fragmentNextHop);
  }

  /** Undoes {@link Ipv4Header#decrementTtl} so an ICMP error quotes the datagram as received. */
  private static void restoreTtl(MutableDirectBuffer buffer, int ip) {
    int word = buffer.getShort(ip + Ipv4Header.TTL_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
    int newWord = word + 0x0100;
    buffer.putShort(ip + Ipv4Header.TTL_OFFSET, (short) newWord, ByteOrder.BIG_ENDIAN);
    Ipv4Header.checksum(
        buffer, ip, InternetChecksum.update16(Ipv4Header.checksum(buffer, ip), word, newWord));
  }

  // ---- packets for the router itself ----

  private void local(MutableDirectBuffer buffer, int ip, RouterInterface in) {
    counters.increment(Counter.DELIVERED_LOCAL);
    if (Ipv4Header.protocol(buffer, ip) != Ipv4Header.PROTOCOL_ICMP
        || Ipv4Header.isFragment(buffer, ip)) {
      // TCP, UDP and the rest are the local stack's: with pcap as a tap, the kernel has its copy.
      return;
    }
    int headerLength = Ipv4Header.headerLength(buffer, ip);
    int icmpOffset = ip + headerLength;
    int total = Ipv4Header.totalLength(buffer, ip);
    int icmpLength = total - headerLength;
    if (icmpLength < IcmpHeader.LENGTH
        || IcmpHeader.type(buffer, icmpOffset) != IcmpHeader.TYPE_ECHO_REQUEST
        || !InternetChecksum.verify(buffer, icmpOffset, icmpLength)) {
      return;
    }
    int source = Ipv4Header.source(buffer, ip);
    int route = routes.lookup(source);
    if (route == RouteTable.NOT_FOUND) {
      return;
    }
    // Echo reply in place (RFC 792): swap addresses, type 0, and checksum the message anew. Not
    // incrementally: when the reply's words are all zero (id 0, sequence 0, no data) RFC 1624's
    // update yields 0x0000 where only 0xFFFF verifies (found by RedirectorFuzzTest).
    int destination = Ipv4Header.destination(buffer, ip);
    buffer.putByte(icmpOffset, (byte) IcmpHeader.TYPE_ECHO_REPLY);
    IcmpHeader.updateChecksum(buffer, icmpOffset, icmpLength);
    Ipv4Header.source(buffer, ip, destination);
    Ipv4Header.destination(buffer, ip, source);
    buffer.putByte(ip + Ipv4Header.TTL_OFFSET, (byte) 64);
    Ipv4Header.flagsFragment(buffer, ip, 0);
    Ipv4Header.updateChecksum(buffer, ip);
    int ifIndex = routes.interfaceIndex(route);
    int nextHop = routes.nextHop(route) == 0 ? source : routes.nextHop(route);
    if (total > interfaces[ifIndex].mtu()) {
      return;
    }
    egress.send(buffer, ip, total, ifIndex, nextHop);
    counters.increment(Counter.ICMP_SENT_ECHO_REPLY);
  }

  @Override
  public void flush() {
    egress.flush();
  }

  public NeighbourTable neighbours() {
    return neighbours;
  }

  /** The flow hash and the lookup's sentinel. */
  static final class RedirectLookup {
    static final int BAD_TRANSPORT = -2;

    private RedirectLookup() {}

    /**
     * A 5-tuple hash (murmur3's 64-bit finaliser): the same on every redirector for the same flow,
     * so two redirectors with one table choose one host server without sharing state.
     */
    static int flowHash(int source, int destination, int protocol, int sourcePort, int port) {
      long h = ((source & 0xFFFFFFFFL) << 32) | (destination & 0xFFFFFFFFL);
      h ^= Long.rotateLeft(((long) protocol << 32) | ((long) sourcePort << 16) | port, 29);
      h ^= h >>> 33;
      h *= 0xff51afd7ed558ccdL;
      h ^= h >>> 33;
      h *= 0xc4ceb9fe1a85ec53L;
      h ^= h >>> 33;
      return (int) h;
    }
  }
}
