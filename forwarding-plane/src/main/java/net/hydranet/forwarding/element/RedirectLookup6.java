package net.hydranet.forwarding.element;

import java.security.SecureRandom;
import net.hydranet.forwarding.config.ForwardingContext;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.table.DeadHostServers;
import net.hydranet.forwarding.table.FlowTable;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.wire.Icmpv6Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.forwarding.wire.TcpHeader;
import net.hydranet.forwarding.wire.UdpHeader;
import org.agrona.MutableDirectBuffer;

/**
 * {@link RedirectLookup}'s rules for IPv6: where a TCP or UDP packet in transit goes — the origin
 * or a host server — by the redirector table's IPv6 index ({@link RedirectorTable#lookup6}), a
 * connection table that keeps each flow where its first packet went, and the consistent hash for
 * new flows; and the steering of ICMPv6 errors about redirected flows to their host server.
 *
 * <p><b>Its connection table</b> is a {@link FlowTable} of its own (capacity {@code
 * flowCapacity6}), beside the IPv4 one, so neither family can evict the other's flows. A flow's
 * 296-bit key does not fit the table's two words: the first word is a 64-bit hash of the two
 * addresses, the second the protocol and ports as for IPv4. The full key is not compared, so the
 * address hash is keyed with a secret drawn when the table is made ({@link #tableKey}): flows share
 * an entry only if their address pairs collide in 64 bits by chance — about n²/2⁶⁵ over n flows of
 * one port pair, 3·10⁻⁸ at a million — and a sender cannot choose a source address that lands on
 * another client's entry (with the unkeyed hash it could: the hash is invertible, and a RST from
 * such an address would have closed that client's entry). The consistent choice of a host server
 * ({@link #flowHash6}) stays unkeyed, the same on every redirector.
 *
 * <p>The rules are IPv4's (see {@link RedirectLookup}): a SYN records its choice and never evicts
 * (counted {@code flows_syn_not_recorded} when the table is full); a non-SYN of an unknown flow to
 * a service records the hash's choice; FIN or RST marks a flow closing; a pinned host server that
 * left the service's set is chosen again; a TCP SYN to an address without a service is pinned to
 * the origin, so a connection open to it survives a replica's installation; a flow pinned to a host
 * server declared dead since it was last seen is released at its next packet and counted ({@code
 * flows_released_dead_host_udp}, {@code _tcp}; a TCP flow marked closing), by the same records of
 * its own ({@link DeadHostServers}), so an IPv6 flow is failed over as an IPv4 one is.
 */
public final class RedirectLookup6 implements Element {
  /** To the origin: forward as addressed ({@link PacketContext#target} 0). */
  public static final int ORIGIN = 0;

  /** To the host server in {@link PacketContext#target}. */
  public static final int HOST_SERVER = 1;

  /** A transport header too short or malformed to decide by; counted. */
  public static final int DROP = 2;

  private final Counters counters;
  private final RedirectorTable redirects;
  private final FlowTable flows;
  private final long secret;
  private final long tcpIdleNanos;
  private final long tcpClosingNanos;
  private final long udpIdleNanos;
  private final DeadHostServers dead;
  private long now;

  public RedirectLookup6(ForwardingContext context, Counters counters, RedirectorTable redirects) {
    this(context, counters, redirects, new SecureRandom().nextLong());
  }

  /** With the table key's secret given (tests). */
  RedirectLookup6(
      ForwardingContext context, Counters counters, RedirectorTable redirects, long secret) {
    this.secret = secret;
    this.counters = counters;
    this.redirects = redirects;
    this.flows = new FlowTable(context.flowCapacity6(), context.flowRecencyNanos(), counters);
    this.tcpIdleNanos = context.tcpIdleNanos();
    this.tcpClosingNanos = context.tcpClosingNanos();
    this.udpIdleNanos = context.udpIdleNanos();
    this.dead =
        new DeadHostServers(
            Math.max(1, Math.max(tcpIdleNanos, Math.max(tcpClosingNanos, udpIdleNanos))));
  }

  /**
   * The control plane declared {@code hostServer} dead ({@link RedirectLookup#hostServerDead},
   * which counts the declaration; forwarding thread): every IPv6 flow pinned to it and last seen
   * until now is released at its next packet.
   */
  public void hostServerDead(int hostServer) {
    dead.declare(hostServer, now + 1);
  }

  /** The IPv6 connection table (forwarding thread only). */
  public FlowTable flows() {
    return flows;
  }

  /** The pipeline's clock, and a bounded sweep from the least recently used end of the table. */
  public void tick(long nowNanos) {
    flows.expire(nowNanos, FlowTable.sweepBudget(nowNanos - now));
    now = nowNanos;
    if (dead.size() != 0) {
      dead.forget(nowNanos);
    }
  }

  /** Whether some service has the packet's destination. */
  public boolean isServiceAddress(PacketContext packet) {
    return redirects.isServiceAddress6(packet.destination6High, packet.destination6Low);
  }

  /**
   * Decides a TCP or UDP packet whose upper-layer header is in it (unfragmented, or a first
   * fragment): sets {@link PacketContext#service} and {@link PacketContext#target}.
   *
   * @return {@link #ORIGIN}, {@link #HOST_SERVER} or {@link #DROP} (counted)
   */
  @Override
  public int process(MutableDirectBuffer buffer, PacketContext packet) {
    int protocol = packet.protocol;
    int l4 = packet.upper;
    int l4Length = packet.upperLength;
    boolean fragment = packet.fragment6 != -1;
    if (l4Length < 4) {
      counters.increment(Counter.DROP_BAD_TRANSPORT);
      return DROP;
    }
    int tcpFlags = 0;
    if (protocol == Ipv6Header.NEXT_HEADER_TCP) {
      if (!fragment) {
        int tcpHeader = l4Length >= TcpHeader.MIN_LENGTH ? TcpHeader.headerLength(buffer, l4) : 0;
        if (tcpHeader < TcpHeader.MIN_LENGTH || tcpHeader > l4Length) {
          counters.increment(Counter.DROP_BAD_TRANSPORT);
          return DROP;
        }
      }
      if (l4Length >= TcpHeader.MIN_LENGTH) {
        tcpFlags = TcpHeader.flags(buffer, l4);
      }
    } else if (!fragment && l4Length < UdpHeader.LENGTH) {
      counters.increment(Counter.DROP_BAD_TRANSPORT);
      return DROP;
    }
    int sourcePort = UdpHeader.sourcePort(buffer, l4);
    int destinationPort = UdpHeader.destinationPort(buffer, l4);
    packet.tcpFlags = tcpFlags;
    packet.sourcePort = sourcePort;
    packet.destinationPort = destinationPort;
    int service =
        redirects.lookup6(
            packet.destination6High, packet.destination6Low, protocol, destinationPort);
    packet.service = service;
    int target = chooseTarget(service, packet);
    packet.target = target;
    return target != 0 ? HOST_SERVER : ORIGIN;
  }

  private int chooseTarget(int service, PacketContext packet) {
    int tcpFlags = packet.tcpFlags;
    boolean tcp = packet.protocol == Ipv6Header.NEXT_HEADER_TCP;
    boolean syn =
        tcp && (tcpFlags & (TcpHeader.FLAG_SYN | TcpHeader.FLAG_ACK)) == TcpHeader.FLAG_SYN;
    boolean ending = tcp && (tcpFlags & (TcpHeader.FLAG_FIN | TcpHeader.FLAG_RST)) != 0;
    long hi =
        tableKey(
            packet.source6High, packet.source6Low, packet.destination6High, packet.destination6Low);
    long lo = FlowTable.keyLo(packet.protocol, packet.sourcePort, packet.destinationPort);
    if (service == RedirectorTable.NOT_FOUND && !(tcp && isServiceAddress(packet))) {
      if (syn) {
        pinToOrigin(hi, lo);
      } else if (ending) {
        int entry = flows.find(hi, lo, now);
        if (entry != FlowTable.NOT_FOUND && !flows.closing(entry)) {
          flows.closing(entry, true);
          flows.touch(entry, now, tcpClosingNanos);
        }
      }
      return 0;
    }
    int entry = flows.find(hi, lo, now);
    if (entry != FlowTable.NOT_FOUND && syn && flows.closing(entry)) {
      flows.remove(entry);
      entry = FlowTable.NOT_FOUND;
    }
    if (entry != FlowTable.NOT_FOUND) {
      int target = flows.target(entry);
      if (target != 0 && dead.size() != 0 && diedSinceSeen(entry, target, tcp)) {
        return releaseFromDeadHost(entry, target, service, tcp, packet);
      }
      if (target != 0
          && (service == RedirectorTable.NOT_FOUND || !redirects.hasHostServer(service, target))) {
        target = select(service, packet);
        flows.target(entry, target);
      }
      if (ending) {
        flows.closing(entry, true);
      }
      flows.touch(
          entry, now, !tcp ? udpIdleNanos : flows.closing(entry) ? tcpClosingNanos : tcpIdleNanos);
      return target;
    }
    int target = select(service, packet);
    if (!ending && (syn || service != RedirectorTable.NOT_FOUND) && !(syn && fullForSyn())) {
      flows.insert(hi, lo, target, now, tcp ? tcpIdleNanos : udpIdleNanos);
    }
    return target;
  }

  /**
   * The consistent hash's choice for the packet's flow, 0 (the origin) without a service; the flow
   * hash computed only here, as {@link RedirectLookup} does.
   */
  private int select(int service, PacketContext packet) {
    if (service == RedirectorTable.NOT_FOUND) {
      return 0;
    }
    return redirects.select(
        service,
        flowHash6(
            packet.source6High,
            packet.source6Low,
            packet.destination6High,
            packet.destination6Low,
            packet.protocol,
            packet.sourcePort,
            packet.destinationPort));
  }

  /** The idle time a flow's last touch gave it: the same rule for touching and for reading back. */
  private long timeout(int entry, boolean tcp) {
    return !tcp ? udpIdleNanos : flows.closing(entry) ? tcpClosingNanos : tcpIdleNanos;
  }

  /** Whether {@code target}, the flow's host server, was declared dead since the flow was seen. */
  private boolean diedSinceSeen(int entry, int target, boolean tcp) {
    int d = dead.indexOf(target);
    // Last seen: the deadline less the timeout its last touch gave it (as RedirectLookup).
    return d >= 0 && flows.deadline(entry) - timeout(entry, tcp) - dead.declaredAt(d) < 0;
  }

  /**
   * Releases a flow pinned to a host server declared dead: chosen again by the consistent hash (the
   * origin when the service is gone), counted by protocol; a TCP flow, whose connection died with
   * the host server, is marked closing (RedirectLookup's rule).
   */
  private int releaseFromDeadHost(
      int entry, int deadTarget, int service, boolean tcp, PacketContext packet) {
    long declared = dead.declaredAt(dead.indexOf(deadTarget));
    int target = select(service, packet);
    flows.target(entry, target);
    if (tcp) {
      flows.closing(entry, true);
      counters.increment(Counter.FLOWS_RELEASED_DEAD_HOST_TCP);
    } else {
      counters.increment(Counter.FLOWS_RELEASED_DEAD_HOST_UDP);
    }
    // Seen no earlier than the declaration from now on, so released only once.
    flows.touch(entry, now - declared < 0 ? declared : now, timeout(entry, tcp));
    return target;
  }

  private void pinToOrigin(long hi, long lo) {
    int entry = flows.find(hi, lo, now);
    if (entry == FlowTable.NOT_FOUND) {
      if (!fullForSyn()) {
        flows.insert(hi, lo, 0, now, tcpIdleNanos);
      }
    } else if (flows.closing(entry)) {
      flows.closing(entry, false);
      flows.target(entry, 0);
      flows.touch(entry, now, tcpIdleNanos);
    }
  }

  private boolean fullForSyn() {
    if (flows.capacity() == 0 || flows.size() < flows.capacity()) {
      return false;
    }
    counters.increment(Counter.FLOWS_SYN_NOT_RECORDED);
    return true;
  }

  /**
   * An ICMPv6 error (destination unreachable, Packet Too Big, time exceeded, parameter problem)
   * sent to a service address about a packet that address sent — by the host server serving the
   * quoted flow, under direct return — belongs to that host server. The quoted packet runs origin →
   * client, so the tuple is reversed for the lookup; an unknown flow to a service follows the
   * consistent hash, as its packets do. Only a quote whose upper layer follows the fixed header
   * directly is read.
   *
   * @return {@link #HOST_SERVER} (counted; {@link PacketContext#target} set, no service) or {@link
   *     #ORIGIN} to forward it as addressed
   */
  public int steerIcmpError(MutableDirectBuffer buffer, PacketContext packet) {
    int icmp = packet.upper;
    int icmpLength = packet.upperLength;
    if (packet.fragment6 != -1
        || !isServiceAddress(packet)
        || icmpLength < Icmpv6Header.LENGTH + Ipv6Header.LENGTH + 4) {
      return ORIGIN;
    }
    int type = Icmpv6Header.type(buffer, icmp);
    if (type < Icmpv6Header.TYPE_DESTINATION_UNREACHABLE
        || type > Icmpv6Header.TYPE_PARAMETER_PROBLEM) {
      return ORIGIN;
    }
    int quoted = icmp + Icmpv6Header.LENGTH;
    int protocol = Ipv6Header.nextHeader(buffer, quoted);
    if (Ipv6Header.version(buffer, quoted) != 6
        || Ipv6Header.sourceHigh(buffer, quoted) != packet.destination6High
        || Ipv6Header.sourceLow(buffer, quoted) != packet.destination6Low
        || (protocol != Ipv6Header.NEXT_HEADER_TCP && protocol != Ipv6Header.NEXT_HEADER_UDP)) {
      return ORIGIN;
    }
    long clientHigh = Ipv6Header.destinationHigh(buffer, quoted);
    long clientLow = Ipv6Header.destinationLow(buffer, quoted);
    int l4 = quoted + Ipv6Header.LENGTH;
    int servicePort = UdpHeader.sourcePort(buffer, l4);
    int clientPort = UdpHeader.destinationPort(buffer, l4);
    long serviceHigh = packet.destination6High;
    long serviceLow = packet.destination6Low;
    int entry =
        flows.find(
            tableKey(clientHigh, clientLow, serviceHigh, serviceLow),
            FlowTable.keyLo(protocol, clientPort, servicePort),
            now);
    int target;
    if (entry != FlowTable.NOT_FOUND) {
      target = flows.target(entry);
    } else {
      int service = redirects.lookup6(serviceHigh, serviceLow, protocol, servicePort);
      target =
          service == RedirectorTable.NOT_FOUND
              ? 0
              : redirects.select(
                  service,
                  flowHash6(
                      clientHigh,
                      clientLow,
                      serviceHigh,
                      serviceLow,
                      protocol,
                      clientPort,
                      servicePort));
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
   * The first word of an IPv6 flow's key in this redirector's tables: its two addresses hashed in a
   * chain of bijections that starts from the secret (xor a word, multiply by an odd constant, fold
   * the high half down), so a collision needs two words to differ and then depends on values
   * derived from the secret. One multiply a word, not a finaliser's two: the probe waits for this
   * hash.
   */
  long tableKey(long sourceHigh, long sourceLow, long destinationHigh, long destinationLow) {
    long h = (sourceHigh ^ secret) * 0x9E3779B97F4A7C15L;
    h = ((h ^ (h >>> 32)) ^ sourceLow) * 0xff51afd7ed558ccdL;
    h = ((h ^ (h >>> 32)) ^ destinationHigh) * 0xc4ceb9fe1a85ec53L;
    h = ((h ^ (h >>> 32)) ^ destinationLow) * 0x9E3779B97F4A7C15L;
    return h ^ (h >>> 29);
  }

  /** A 64-bit hash of a flow's two addresses, the same everywhere: {@link #flowHash6}'s part. */
  static long addressKey(
      long sourceHigh, long sourceLow, long destinationHigh, long destinationLow) {
    long h = mix(sourceHigh ^ Long.rotateLeft(sourceLow, 31));
    h = mix(h ^ destinationHigh * 0x9E3779B97F4A7C15L);
    return mix(h ^ Long.rotateLeft(destinationLow, 17));
  }

  /**
   * A 5-tuple hash for IPv6 flows (murmur3's 64-bit finaliser, as {@link RedirectLookup#flowHash}):
   * the same on every redirector for the same flow.
   */
  public static int flowHash6(
      long sourceHigh,
      long sourceLow,
      long destinationHigh,
      long destinationLow,
      int protocol,
      int sourcePort,
      int port) {
    long h = addressKey(sourceHigh, sourceLow, destinationHigh, destinationLow);
    h ^= Long.rotateLeft(((long) protocol << 32) | ((long) sourcePort << 16) | port, 29);
    return (int) mix(h);
  }

  private static long mix(long h) {
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h;
  }
}
