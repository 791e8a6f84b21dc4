package net.hydranet.forwarding.element;

import net.hydranet.forwarding.config.ForwardingContext;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.table.DeadHostServers;
import net.hydranet.forwarding.table.FlowTable;
import net.hydranet.forwarding.table.NewFlowBudget;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.wire.IcmpHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.TcpHeader;
import net.hydranet.forwarding.wire.UdpHeader;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Where a TCP or UDP datagram in transit goes — the origin or a host server — and the connection
 * table that keeps a flow where its first packet went: service lookup, flow pinning and release,
 * the consistent choice for new flows, and the steering of ICMP errors about redirected flows. It
 * owns the {@link FlowTable}; the redirector table is the control plane's, read here.
 *
 * <p><b>Floods.</b> A SYN is a claim, not a connection: a flood of SYNs from random sources would
 * otherwise fill the table and, once it is full, evict the least recently used flows — idle
 * established connections first. Two rules keep the flows of established connections (both counted;
 * neither drops a packet, since an unrecorded flow still follows the consistent hash, which chooses
 * as the table would have while the host-server set stands):
 *
 * <ul>
 *   <li>A SYN never evicts: when the table is full a SYN's flow is not recorded ({@code
 *       flows_syn_not_recorded}); its connection is recorded by its first packet without SYN,
 *       evidence that the handshake completed (IPVS's {@code drop_entry} idea of sparing
 *       established entries, in its simplest form). This is checked first, so a SYN flood against a
 *       full table spends none of the budget below.
 *   <li>A new-flow budget: each pipeline records at most {@code newFlowRate} new flows a second (a
 *       token bucket, {@link NewFlowBudget}, on the path's clock); above it a new flow is not
 *       recorded ({@code flows_not_recorded_rate}) — Katran's per-CPU rate above which it stops
 *       inserting into its LRU. So a flood of anything — SYNs filling free room, UDP, bare ACKs —
 *       turns the table over at that rate at most, and a flow used within capacity / rate seconds
 *       keeps its entry.
 * </ul>
 *
 * <p><b>Host servers declared dead.</b> When the control plane declares a host server dead (its
 * hold time expired: {@link #hostServerDead}, a command like every table write), the flows pinned
 * to it are released at their next packet, not swept: a flow whose target has a record in {@link
 * DeadHostServers} and that was last seen before the declaration is chosen again by the consistent
 * hash over the host servers left — a UDP flow simply moves on ({@code
 * flows_released_dead_host_udp}); a TCP flow is a connection lost with the host server's state
 * ({@code flows_released_dead_host_tcp}), marked closing so its entry lives only the closing
 * timeout and a new SYN of the same 5-tuple starts afresh. Its segment goes where the table says
 * now, a replica or the origin, whose kernel has no socket for it and answers RST: the client
 * learns at its next segment, instead of retransmitting into a dead host server for the idle
 * timeout. The time, not only the set of host servers, is what is compared, so a host server back
 * (chosen again by the hash) before an old flow's next packet still does not get that flow, and a
 * flow pinned to it after its return is left alone. One comparison per packet while no host server
 * is dead.
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
  private final NewFlowBudget budget;
  private final long tcpIdleNanos;
  private final long tcpClosingNanos;
  private final long udpIdleNanos;
  private final DeadHostServers dead;
  private long now;

  public RedirectLookup(ForwardingContext context, Counters counters, RedirectorTable redirects) {
    this.counters = counters;
    this.redirects = redirects;
    this.flows = new FlowTable(context.flowCapacity(), context.flowRecencyNanos(), counters);
    this.budget = new NewFlowBudget(context.newFlowRate(), context.newFlowBurst());
    this.tcpIdleNanos = context.tcpIdleNanos();
    this.tcpClosingNanos = context.tcpClosingNanos();
    this.udpIdleNanos = context.udpIdleNanos();
    this.dead =
        new DeadHostServers(
            Math.max(1, Math.max(tcpIdleNanos, Math.max(tcpClosingNanos, udpIdleNanos))));
  }

  /** The connection table (forwarding thread only). */
  public FlowTable flows() {
    return flows;
  }

  /** The pipeline's clock, and a bounded sweep from the least recently used end of the table. */
  public void tick(long nowNanos) {
    // Lookups expire the rest lazily.
    flows.expire(nowNanos, FlowTable.sweepBudget(nowNanos - now));
    now = nowNanos;
    if (dead.size() != 0) {
      dead.forget(nowNanos);
    }
  }

  /**
   * The control plane declared {@code hostServer} dead (forwarding thread: a command queued just
   * before the table writes that take it out of its services). Every flow pinned to it and last
   * seen until now is released at its next packet; see the class comment. The declaration is dated
   * just after the last tick, so flows seen in that tick count as before it. Should a released flow
   * be chosen again for the host server before those writes land, it is counted once and moved by
   * them, as a flow whose host server left the set.
   */
  public void hostServerDead(int hostServer) {
    counters.increment(Counter.HOST_SERVERS_DECLARED_DEAD);
    dead.declare(hostServer, now + 1);
  }

  /** The host servers declared dead and not yet forgotten (forwarding thread only). */
  public DeadHostServers deadHostServers() {
    return dead;
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
   * protocol, ports and TCP flags (its addresses are the IP header's, already in the context).
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
    int sourcePort = UdpHeader.sourcePort(buffer, l4);
    int destinationPort = UdpHeader.destinationPort(buffer, l4);
    int destination = Ipv4Header.destination(buffer, ip);
    packet.tcpFlags = tcpFlags;
    packet.protocol = protocol;
    packet.sourcePort = sourcePort;
    packet.destinationPort = destinationPort;
    return redirects.lookup(destination, protocol, destinationPort);
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
   *   <li>A pinned host server declared dead since the flow was last seen: released and counted
   *       ({@link #releaseFromDeadHost}).
   * </ul>
   */
  private int chooseTarget(int service, int destination, PacketContext packet) {
    int tcpFlags = packet.tcpFlags;
    boolean tcp = packet.protocol == Ipv4Header.PROTOCOL_TCP;
    if (service == RedirectorTable.NOT_FOUND && !(tcp && redirects.isServiceAddress(destination))) {
      noService(tcp, tcpFlags, destination, packet);
      return 0;
    }
    boolean syn =
        tcp && (tcpFlags & (TcpHeader.FLAG_SYN | TcpHeader.FLAG_ACK)) == TcpHeader.FLAG_SYN;
    long hi = FlowTable.keyHi(packet.source, destination);
    long lo = FlowTable.keyLo(packet.protocol, packet.sourcePort, packet.destinationPort);
    int entry = flows.find(hi, lo, now);
    if (entry == FlowTable.NOT_FOUND || (syn && flows.closing(entry))) {
      return newFlow(service, entry, hi, lo, tcp, syn, tcpFlags, packet);
    }
    int target = flows.target(entry);
    if (target != 0 && dead.size() != 0 && diedSinceSeen(entry, target, tcp)) {
      return releaseFromDeadHost(entry, target, service, tcp, tcpFlags, packet);
    }
    if (target != 0
        && (service == RedirectorTable.NOT_FOUND || !redirects.hasHostServer(service, target))) {
      target = reselect(service, entry, packet);
    }
    if (tcp && (tcpFlags & (TcpHeader.FLAG_FIN | TcpHeader.FLAG_RST)) != 0) {
      flows.closing(entry, true);
    }
    flows.touch(entry, now, timeout(entry, tcp));
    return target;
  }

  /** Whether {@code target}, the flow's host server, was declared dead since the flow was seen. */
  private boolean diedSinceSeen(int entry, int target, boolean tcp) {
    int d = dead.indexOf(target);
    return d >= 0 && lastSeen(entry, tcp) - dead.declaredAt(d) < 0;
  }

  /**
   * A flow to an address no service has: a SYN is pinned to the origin, a FIN or RST closes that
   * pin. Out of {@link #chooseTarget}'s line so that the per-packet part stays small enough for the
   * JIT to inline.
   */
  private void noService(boolean tcp, int tcpFlags, int destination, PacketContext packet) {
    if (tcp && (tcpFlags & (TcpHeader.FLAG_SYN | TcpHeader.FLAG_ACK)) == TcpHeader.FLAG_SYN) {
      pinToOrigin(destination, packet);
    } else if (tcp && (tcpFlags & (TcpHeader.FLAG_FIN | TcpHeader.FLAG_RST)) != 0) {
      closeOriginPin(destination, packet);
    }
  }

  /** A pinned flow whose host server left the service: chosen again (0 without a service). */
  private int reselect(int service, int entry, PacketContext packet) {
    int target = select(service, packet);
    flows.target(entry, target);
    return target;
  }

  /**
   * A flow the table does not hold (or a SYN reusing a closing one's 4-tuple, whose entry goes):
   * chosen by the consistent hash and recorded, except a FIN or RST, and a SYN when the table is
   * full.
   */
  private int newFlow(
      int service,
      int entry,
      long hi,
      long lo,
      boolean tcp,
      boolean syn,
      int tcpFlags,
      PacketContext packet) {
    if (entry != FlowTable.NOT_FOUND) {
      flows.remove(entry);
    }
    boolean ending = tcp && (tcpFlags & (TcpHeader.FLAG_FIN | TcpHeader.FLAG_RST)) != 0;
    int target = select(service, packet);
    if (!ending && (syn || service != RedirectorTable.NOT_FOUND) && mayRecord(syn)) {
      flows.insert(hi, lo, target, now, tcp ? tcpIdleNanos : udpIdleNanos);
    }
    return target;
  }

  /**
   * The consistent hash's choice for the packet's flow, 0 (the origin) without a service. The flow
   * hash is computed here, when a choice is made, not for every packet to a service: a packet of a
   * flow the connection table holds, most of them, needs none.
   */
  private int select(int service, PacketContext packet) {
    if (service == RedirectorTable.NOT_FOUND) {
      return 0;
    }
    return redirects.select(
        service,
        flowHash(
            packet.source,
            packet.destination,
            packet.protocol,
            packet.sourcePort,
            packet.destinationPort));
  }

  /** The idle time a flow's last touch gave it: the same rule for touching and for reading back. */
  private long timeout(int entry, boolean tcp) {
    return !tcp ? udpIdleNanos : flows.closing(entry) ? tcpClosingNanos : tcpIdleNanos;
  }

  /**
   * When the flow's last packet was seen: its deadline less the timeout that packet gave it (a
   * flow's deadline is only ever set by {@link FlowTable#insert} and {@link FlowTable#touch} with
   * {@link #timeout}, so nothing more is stored per flow).
   */
  private long lastSeen(int entry, boolean tcp) {
    return flows.deadline(entry) - timeout(entry, tcp);
  }

  /**
   * Releases a flow pinned to a host server declared dead: chosen again by the consistent hash (the
   * origin when the service is gone), counted by protocol; a TCP flow, whose connection died with
   * the host server, is marked closing.
   *
   * @return the new target
   */
  private int releaseFromDeadHost(
      int entry, int deadTarget, int service, boolean tcp, int tcpFlags, PacketContext packet) {
    long declared = dead.declaredAt(dead.indexOf(deadTarget));
    int target = select(service, packet);
    flows.target(entry, target);
    if (tcp) {
      flows.closing(entry, true);
      counters.increment(Counter.FLOWS_RELEASED_DEAD_HOST_TCP);
    } else {
      counters.increment(Counter.FLOWS_RELEASED_DEAD_HOST_UDP);
    }
    if (tcp && (tcpFlags & (TcpHeader.FLAG_FIN | TcpHeader.FLAG_RST)) != 0) {
      flows.closing(entry, true);
    }
    // Seen no earlier than the declaration from now on, so released only once.
    flows.touch(entry, now - declared < 0 ? declared : now, timeout(entry, tcp));
    return target;
  }

  /**
   * Whether a new flow may be recorded (see Floods above): not a SYN's when the table is full, and
   * none once the new-flow budget is spent; each refusal is counted. A table that is off (capacity
   * 0) records nothing and counts nothing.
   */
  private boolean mayRecord(boolean syn) {
    if (flows.capacity() == 0) {
      return false;
    }
    if (syn && flows.size() >= flows.capacity()) {
      counters.increment(Counter.FLOWS_SYN_NOT_RECORDED);
      return false;
    }
    if (!budget.take(now)) {
      counters.increment(Counter.FLOWS_NOT_RECORDED_RATE);
      return false;
    }
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
      if (mayRecord(true)) {
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
   * A host server passed this packet back ({@link TunnelToOrigin}) and it goes on to {@code to}:
   * the next candidate of the redirector's walk, or 0, the origin — no host server on its list held
   * the connection, or, in IP-in-IP, none of the walk's. The flow's pin moves there, so its next
   * packets go straight to where the connection may live, not around the candidates again — but
   * only from {@code sender}, the host server that passed it back: a pin that moved since that
   * packet was sent (a reordered or late pass-back, or the table's own changes) is newer and is
   * kept, so a pin never moves backwards. {@code sender} {@link TunnelToOrigin#ANY_HOST_SERVER} (a
   * used-up GUE list, whose last host server is not where the flow was sent) moves any pin to a
   * host server. A pass-on creates no entry. Call with {@link PacketContext#l3} at the inner
   * datagram, after the guard.
   */
  public void repinPassedBack(
      MutableDirectBuffer buffer, PacketContext packet, int sender, int to) {
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
    if (entry == FlowTable.NOT_FOUND) {
      return;
    }
    int pinned = flows.target(entry);
    if (pinned == to
        || (sender == TunnelToOrigin.ANY_HOST_SERVER ? pinned == 0 : pinned != sender)) {
      return;
    }
    flows.target(entry, to);
    counters.increment(
        to == 0 ? Counter.FLOWS_REPINNED_TO_ORIGIN : Counter.FLOWS_REPINNED_TO_NEXT_CANDIDATE);
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
   * Look-ahead, pass one, for the IPv4 datagram at {@code ip} ({@code available} bytes of frame
   * from there): notes the connection-table slot that {@link #process} will probe for it — TCP to a
   * service address, UDP to a service, or a forwarded TCP SYN, FIN or RST ({@link #pinToOrigin},
   * {@link #closeOriginPin}) — so that {@link #loadPrefetched} reads it ahead. Parses just enough
   * to hash the 5-tuple and reads nothing beyond {@code available}; whatever it cannot parse it
   * skips, and {@link #process} decides as before. Changes nothing {@link #process} sees.
   */
  public void prefetch(DirectBuffer buffer, int ip, int available) {
    if (available < Ipv4Header.MIN_LENGTH + 4) {
      return;
    }
    int headerLength = Ipv4Header.headerLength(buffer, ip);
    if (Ipv4Header.version(buffer, ip) != 4
        || headerLength < Ipv4Header.MIN_LENGTH
        || headerLength + 4 > available
        || Ipv4Header.fragmentOffset(buffer, ip) != 0) {
      return;
    }
    int protocol = Ipv4Header.protocol(buffer, ip);
    int destination = Ipv4Header.destination(buffer, ip);
    int l4 = ip + headerLength;
    int destinationPort = UdpHeader.destinationPort(buffer, l4);
    boolean probes;
    if (protocol == Ipv4Header.PROTOCOL_TCP) {
      probes =
          redirects.isServiceAddress(destination)
              || (headerLength + TcpHeader.MIN_LENGTH <= available
                  && (TcpHeader.flags(buffer, l4)
                          & (TcpHeader.FLAG_SYN | TcpHeader.FLAG_FIN | TcpHeader.FLAG_RST))
                      != 0);
    } else {
      probes =
          protocol == Ipv4Header.PROTOCOL_UDP
              && redirects.lookup(destination, protocol, destinationPort)
                  != RedirectorTable.NOT_FOUND;
    }
    if (probes) {
      flows.prefetch(
          FlowTable.keyHi(Ipv4Header.source(buffer, ip), destination),
          FlowTable.keyLo(protocol, UdpHeader.sourcePort(buffer, l4), destinationPort));
    }
  }

  /**
   * Look-ahead, end of pass one: reads the table lines noted by {@link #prefetch} together.
   *
   * @return how many lines were read
   */
  public int loadPrefetched() {
    return flows.loadPrefetched();
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
