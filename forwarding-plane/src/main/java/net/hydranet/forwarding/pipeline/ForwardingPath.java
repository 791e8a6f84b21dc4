package net.hydranet.forwarding.pipeline;

import java.nio.ByteOrder;
import net.hydranet.forwarding.config.ForwardingContext;
import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.element.CheckIpHeader;
import net.hydranet.forwarding.element.Egress;
import net.hydranet.forwarding.element.IcmpErrorSender;
import net.hydranet.forwarding.element.IpFragmenter;
import net.hydranet.forwarding.element.IpipEncap;
import net.hydranet.forwarding.element.MssClamp;
import net.hydranet.forwarding.element.Verdict;
import net.hydranet.forwarding.io.TxPort;
import net.hydranet.forwarding.neighbour.NeighbourTable;
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
 *                                   → TTL check → RedirectLookup ─┬─ hit → DecIpTtl → MssClamp
 *                                   │                              │   → IpipEncap → MTU? (frag / ICMP)
 *                                   │                              └─ miss → DecIpTtl → route → MTU?
 *                                   └──────────────────────────────────→ Egress (ARP, Ethernet, TX)
 * </pre>
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
  }

  public Egress egress() {
    return egress;
  }

  @Override
  public void tick(long nowNanos) {
    egress.now(nowNanos);
    egress.poll();
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
    // RFC 826: update a known sender; add it only when the message was meant for us.
    if (senderIp != 0 && onLink(in, senderIp)) {
      neighbours.learn(senderIp, senderMac, in.index(), forUs, egress.now(), egress);
    }
    if (operation == ArpPacket.OPERATION_REQUEST && forUs) {
      egress.reply(in.index(), senderMac, senderIp);
    }
    counters.increment(Counter.DELIVERED_LOCAL);
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
    for (int address : localAddresses) {
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
    int service = lookupService(buffer, ip);
    if (service == RedirectLookup.BAD_TRANSPORT) {
      counters.increment(Counter.DROP_BAD_TRANSPORT);
      return;
    }
    if (service != RedirectorTable.NOT_FOUND) {
      int hostServer = redirects.select(service, flowHash);
      if (hostServer != 0) {
        redirect(buffer, ip, service, hostServer);
        return;
      }
      // Every host server is draining: the origin serves the flow.
    }
    forward(buffer, ip);
  }

  /**
   * Stateless fragment checks, the ones a router can make without holding fragments: no fragment
   * may reach past 65,535 bytes (the "ping of death"); a TCP fragment at offset 8 can only exist to
   * overwrite the TCP header's flags, and a first TCP fragment must hold the whole minimal TCP
   * header (RFC 1858 §3–4, overlapping and tiny fragments). Stateful overlap detection comes with
   * fragment tracking (the flows issue).
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

  /** The service for (destination, protocol, destination port), or NOT_FOUND. */
  private int lookupService(MutableDirectBuffer buffer, int ip) {
    int protocol = Ipv4Header.protocol(buffer, ip);
    if (protocol != Ipv4Header.PROTOCOL_TCP && protocol != Ipv4Header.PROTOCOL_UDP) {
      return RedirectorTable.NOT_FOUND;
    }
    if (Ipv4Header.fragmentOffset(buffer, ip) != 0) {
      // A non-first fragment has no ports; the flows issue makes it follow its first fragment.
      return RedirectorTable.NOT_FOUND;
    }
    int headerLength = Ipv4Header.headerLength(buffer, ip);
    int l4 = ip + headerLength;
    int l4Length = Ipv4Header.totalLength(buffer, ip) - headerLength;
    if (l4Length < 4) {
      return Ipv4Header.isFragment(buffer, ip)
          ? RedirectorTable.NOT_FOUND
          : RedirectLookup.BAD_TRANSPORT;
    }
    if (!Ipv4Header.isFragment(buffer, ip)) {
      if (protocol == Ipv4Header.PROTOCOL_TCP) {
        int tcpHeader = l4Length >= TcpHeader.MIN_LENGTH ? TcpHeader.headerLength(buffer, l4) : 0;
        if (tcpHeader < TcpHeader.MIN_LENGTH || tcpHeader > l4Length) {
          return RedirectLookup.BAD_TRANSPORT;
        }
      } else if (l4Length < UdpHeader.LENGTH) {
        return RedirectLookup.BAD_TRANSPORT;
      }
    }
    int sourcePort = UdpHeader.sourcePort(buffer, l4);
    int destinationPort = UdpHeader.destinationPort(buffer, l4);
    int destination = Ipv4Header.destination(buffer, ip);
    int service = redirects.lookup(destination, protocol, destinationPort);
    if (service != RedirectorTable.NOT_FOUND) {
      flowHash =
          RedirectLookup.flowHash(
              Ipv4Header.source(buffer, ip), destination, protocol, sourcePort, destinationPort);
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
    redirects.count(service, innerLength);
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
      egress.send(buffer, ip, length, ifIndex, nextHop);
    }
    counters.increment(Counter.FORWARDED);
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
