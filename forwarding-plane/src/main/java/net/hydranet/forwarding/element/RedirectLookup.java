package net.hydranet.forwarding.element;

import net.hydranet.forwarding.config.ForwardingContext;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.table.FlowTable;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.wire.IcmpHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.TcpHeader;
import net.hydranet.forwarding.wire.UdpHeader;
import org.agrona.MutableDirectBuffer;

/**
 * Where a TCP or UDP datagram in transit goes — the origin or a host server — and the connection
 * table that keeps a flow where its first packet went: service lookup, flow pinning and release,
 * the consistent choice for new flows, and the steering of ICMP errors about redirected flows. It
 * owns the {@link FlowTable}; the redirector table is the control plane's, read here.
 *
 * <p><b>Floods.</b> A SYN is a claim, not a connection: a flood of SYNs from random sources would
 * otherwise fill the table and, once it is full, evict the least recently used flows — idle
 * established connections first. So a SYN never evicts: when the table is full, a SYN's flow is not
 * recorded (counted {@code flows_syn_not_recorded}) and follows the consistent hash, which chooses
 * as the table would have while the host-server set stands; its connection is recorded by its first
 * packet without SYN, evidence that the handshake completed, which evicts as before (IPVS's {@code
 * drop_entry} idea of sparing established entries, in its simplest form; Katran stops inserting
 * above a rate of new flows instead). What a flood can still do is fill the room the table has
 * left, and UDP, having no handshake, is recorded as it comes.
 */
public final class RedirectLookup implements Element {
  /** To the origin: forward as addressed ({@link PacketContext#target} 0). */
  public static final int ORIGIN = 0;

  /** To the host server in {@link PacketContext#target}. */
  public static final int HOST_SERVER = 1;

  /** A transport header too short or malformed to decide by; counted. */
  public static final int DROP = 2;

  private final Counters counters;
  private final RedirectorTable redirects;
  private final FlowTable flows;
  private final long tcpIdleNanos;
  private final long tcpClosingNanos;
  private final long udpIdleNanos;
  private long now;

  public RedirectLookup(ForwardingContext context, Counters counters, RedirectorTable redirects) {
    this.counters = counters;
    this.redirects = redirects;
    this.flows = new FlowTable(context.flowCapacity(), context.flowRecencyNanos(), counters);
    this.tcpIdleNanos = context.tcpIdleNanos();
    this.tcpClosingNanos = context.tcpClosingNanos();
    this.udpIdleNanos = context.udpIdleNanos();
  }

  /** The connection table (forwarding thread only). */
  public FlowTable flows() {
    return flows;
  }

  /** The pipeline's clock, and a bounded sweep from the least recently used end of the table. */
  public void tick(long nowNanos) {
    now = nowNanos;
    // Lookups expire the rest lazily.
    flows.expire(nowNanos, 64);
  }

  /** Whether some service has {@code address}: only then do fragments and ICMP errors need us. */
  public boolean isServiceAddress(int address) {
    return redirects.isServiceAddress(address);
  }

  /**
   * Whether the fragments of the first fragment just looked up must follow its decision: those of a
   * datagram to a service address; elsewhere they are forwarded as they come.
   */
  public boolean fragmentsFollow(PacketContext packet) {
    return packet.service != RedirectorTable.NOT_FOUND
        || redirects.isServiceAddress(packet.destination);
  }

  /**
   * Decides a TCP or UDP datagram that is not a non-first fragment: sets {@link
   * PacketContext#service} and {@link PacketContext#target}.
   *
   * @return {@link #ORIGIN}, {@link #HOST_SERVER} or {@link #DROP} (counted)
   */
  @Override
  public int process(MutableDirectBuffer buffer, PacketContext packet) {
    int service = lookupService(buffer, packet.l3, packet);
    if (service == BAD_TRANSPORT) {
      counters.increment(Counter.DROP_BAD_TRANSPORT);
      return DROP;
    }
    packet.service = service;
    int target = chooseTarget(service, packet.destination, packet);
    packet.target = target;
    return target != 0 ? HOST_SERVER : ORIGIN;
  }

  private static final int BAD_TRANSPORT = -2;

  /**
   * The service for (destination, protocol, destination port), or NOT_FOUND; sets the flow's
   * 5-tuple, flags and hash.
   */
  private int lookupService(MutableDirectBuffer buffer, int ip, PacketContext packet) {
    int protocol = Ipv4Header.protocol(buffer, ip);
    int headerLength = Ipv4Header.headerLength(buffer, ip);
    int l4 = ip + headerLength;
    int l4Length = Ipv4Header.totalLength(buffer, ip) - headerLength;
    boolean fragment = Ipv4Header.isFragment(buffer, ip);
    if (l4Length < 4) {
      if (fragment) {
        // No ports: nothing to decide by; the origin serves it.
        packet.protocol = -1;
        return RedirectorTable.NOT_FOUND;
      }
      return BAD_TRANSPORT;
    }
    int tcpFlags = 0;
    if (protocol == Ipv4Header.PROTOCOL_TCP) {
      if (!fragment) {
        int tcpHeader = l4Length >= TcpHeader.MIN_LENGTH ? TcpHeader.headerLength(buffer, l4) : 0;
        if (tcpHeader < TcpHeader.MIN_LENGTH || tcpHeader > l4Length) {
          return BAD_TRANSPORT;
        }
      }
      if (l4Length >= TcpHeader.MIN_LENGTH) {
        tcpFlags = TcpHeader.flags(buffer, l4);
      }
    } else if (!fragment && l4Length < UdpHeader.LENGTH) {
      return BAD_TRANSPORT;
    }
    int source = Ipv4Header.source(buffer, ip);
    int sourcePort = UdpHeader.sourcePort(buffer, l4);
    int destinationPort = UdpHeader.destinationPort(buffer, l4);
    int destination = Ipv4Header.destination(buffer, ip);
    packet.tcpFlags = tcpFlags;
    packet.protocol = protocol;
    packet.sourcePort = sourcePort;
    packet.destinationPort = destinationPort;
    int service = redirects.lookup(destination, protocol, destinationPort);
    if (service != RedirectorTable.NOT_FOUND) {
      packet.flowHash = flowHash(source, destination, protocol, sourcePort, destinationPort);
    }
    return service;
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
  private int chooseTarget(int service, int destination, PacketContext packet) {
    int tcpFlags = packet.tcpFlags;
    boolean tcp = packet.protocol == Ipv4Header.PROTOCOL_TCP;
    boolean syn =
        tcp && (tcpFlags & (TcpHeader.FLAG_SYN | TcpHeader.FLAG_ACK)) == TcpHeader.FLAG_SYN;
    if (service == RedirectorTable.NOT_FOUND && !(tcp && redirects.isServiceAddress(destination))) {
      if (syn) {
        pinToOrigin(destination, packet);
      } else if (tcp && (tcpFlags & (TcpHeader.FLAG_FIN | TcpHeader.FLAG_RST)) != 0) {
        closeOriginPin(destination, packet);
      }
      return 0;
    }
    long hi = FlowTable.keyHi(packet.source, destination);
    long lo = FlowTable.keyLo(packet.protocol, packet.sourcePort, packet.destinationPort);
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
        target =
            service == RedirectorTable.NOT_FOUND ? 0 : redirects.select(service, packet.flowHash);
        flows.target(entry, target);
      }
      if (ending) {
        flows.closing(entry, true);
      }
      flows.touch(
          entry, now, !tcp ? udpIdleNanos : flows.closing(entry) ? tcpClosingNanos : tcpIdleNanos);
      return target;
    }
    int target =
        service == RedirectorTable.NOT_FOUND ? 0 : redirects.select(service, packet.flowHash);
    if (!ending && (syn || service != RedirectorTable.NOT_FOUND) && !(syn && fullForSyn())) {
      flows.insert(hi, lo, target, now, tcp ? tcpIdleNanos : udpIdleNanos);
    }
    return target;
  }

  /**
   * True when the table is full, so a SYN's flow is not recorded (and counted): a SYN never evicts.
   * A table that is off (capacity 0) records nothing and counts nothing.
   */
  private boolean fullForSyn() {
    if (flows.capacity() == 0 || flows.size() < flows.capacity()) {
      return false;
    }
    counters.increment(Counter.FLOWS_SYN_NOT_RECORDED);
    return true;
  }

  /**
   * Records a TCP SYN to an address with no service, pinned to the origin. Should a replica of that
   * address appear while the connection is open, its later packets — to a service address now, so
   * they consult the table — still find the origin. One insert per forwarded connection, none per
   * packet: other packets to such addresses never touch the table.
   */
  private void pinToOrigin(int destination, PacketContext packet) {
    long hi = FlowTable.keyHi(packet.source, destination);
    long lo = FlowTable.keyLo(packet.protocol, packet.sourcePort, packet.destinationPort);
    int entry = flows.find(hi, lo, now);
    if (entry == FlowTable.NOT_FOUND) {
      if (!fullForSyn()) {
        flows.insert(hi, lo, 0, now, tcpIdleNanos);
      }
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
  private void closeOriginPin(int destination, PacketContext packet) {
    long hi = FlowTable.keyHi(packet.source, destination);
    long lo = FlowTable.keyLo(packet.protocol, packet.sourcePort, packet.destinationPort);
    int entry = flows.find(hi, lo, now);
    if (entry != FlowTable.NOT_FOUND && !flows.closing(entry)) {
      flows.closing(entry, true);
      flows.touch(entry, now, tcpClosingNanos);
    }
  }

  /**
   * A host server passed this packet back for the origin ({@link TunnelToOrigin}: no host server on
   * its list holds the connection), so the connection lives at the origin: an existing pin moves
   * there and the flow's next packets go straight to it, not around the list again. A pass-on
   * creates no entry. Call with {@link PacketContext#l3} at the inner datagram, after the guard.
   */
  public void repinToOrigin(MutableDirectBuffer buffer, PacketContext packet) {
    int ip = packet.l3;
    int l4 = ip + Ipv4Header.headerLength(buffer, ip);
    int entry =
        flows.find(
            FlowTable.keyHi(packet.source, packet.destination),
            FlowTable.keyLo(
                Ipv4Header.protocol(buffer, ip),
                UdpHeader.sourcePort(buffer, l4),
                UdpHeader.destinationPort(buffer, l4)),
            now);
    if (entry != FlowTable.NOT_FOUND && flows.target(entry) != 0) {
      flows.target(entry, 0);
      counters.increment(Counter.FLOWS_REPINNED_TO_ORIGIN);
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
   * @return {@link #HOST_SERVER} (counted; {@link PacketContext#target} set, no service) or {@link
   *     #ORIGIN} to forward it as addressed
   */
  public int steerIcmpError(MutableDirectBuffer buffer, PacketContext packet) {
    int ip = packet.l3;
    int destination = packet.destination;
    if (Ipv4Header.isFragment(buffer, ip) || !redirects.isServiceAddress(destination)) {
      return ORIGIN;
    }
    int headerLength = Ipv4Header.headerLength(buffer, ip);
    int icmpOffset = ip + headerLength;
    int icmpLength = Ipv4Header.totalLength(buffer, ip) - headerLength;
    if (icmpLength < IcmpHeader.LENGTH + Ipv4Header.MIN_LENGTH + 4) {
      return ORIGIN;
    }
    int type = IcmpHeader.type(buffer, icmpOffset);
    if (type != IcmpHeader.TYPE_DESTINATION_UNREACHABLE
        && type != IcmpHeader.TYPE_TIME_EXCEEDED
        && type != IcmpHeader.TYPE_PARAMETER_PROBLEM) {
      return ORIGIN;
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
      return ORIGIN;
    }
    int client = Ipv4Header.destination(buffer, quoted);
    int servicePort = UdpHeader.sourcePort(buffer, quoted + quotedHeader);
    int clientPort = UdpHeader.destinationPort(buffer, quoted + quotedHeader);
    int entry =
        flows.find(
            FlowTable.keyHi(client, destination),
            FlowTable.keyLo(quotedProtocol, clientPort, servicePort),
            now);
    int service = redirects.lookup(destination, quotedProtocol, servicePort);
    int target;
    if (entry != FlowTable.NOT_FOUND) {
      target = flows.target(entry);
    } else if (service != RedirectorTable.NOT_FOUND) {
      target =
          redirects.select(
              service, flowHash(client, destination, quotedProtocol, clientPort, servicePort));
    } else {
      target = 0;
    }
    if (target == 0) {
      return ORIGIN;
    }
    counters.increment(Counter.ICMP_ERRORS_STEERED);
    packet.service = RedirectorTable.NOT_FOUND;
    packet.target = target;
    return HOST_SERVER;
  }

  /**
   * A 5-tuple hash (murmur3's 64-bit finaliser): the same on every redirector for the same flow, so
   * two redirectors with one table choose one host server without sharing state.
   */
  public static int flowHash(int source, int destination, int protocol, int sourcePort, int port) {
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
