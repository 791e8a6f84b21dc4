package net.hydranet.hostserver;

import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.element.IpipEncap;
import net.hydranet.forwarding.wire.GueHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.TcpHeader;
import net.hydranet.forwarding.wire.UdpHeader;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The host server's second chance (SECOND-CHANCE.md; GLB's glb-redirect, Beamer's daisy chain): a
 * TCP segment that is not a SYN, for a virtual host that holds no socket for its connection, is not
 * injected — the local stack would answer it with a RST and kill a connection that lives elsewhere.
 * It is passed on instead: to the next host server of the hop list the redirector sent, and at the
 * end of the list back to that redirector, which forwards it to the origin without redirecting it
 * again. A packet that came in IP-in-IP has no list: it goes back to its sender, the redirector, in
 * IP-in-IP again, marked a pass-on by its outer TTL — the minimal second chance, to the origin.
 *
 * <p><b>Loop-free by counting.</b> Every pass-on raises the list's next-hop index by one, a list
 * holds at most {@link GueHeader#MAX_HOPS} hops, and a packet whose list is used up is never passed
 * on by a host server (it is taken here, GLB's last resort) nor redirected by a redirector: a
 * packet is passed on at most four times, one packet out for one in. A list that names this host
 * server or 0.0.0.0 next, or that did not come the way it says, is refused and the packet taken
 * here; so is an IP-in-IP pass-on (its outer TTL above a redirector's): IP-in-IP is passed back at
 * most once.
 *
 * <p><b>Cost.</b> Only non-SYN segments of connections the cache does not know cost a socket-table
 * query (a {@code sock_diag} round trip, BENCHMARKS.md); SYNs are taken here and recorded, and
 * every answer is kept for {@code cacheNanos}. Queries are bounded per second: over the budget a
 * segment is taken here, as without a second chance. UDP, fragments and everything but TCP are
 * taken here: a datagram has no socket state to ask about (GLB does the same). No allocation: one
 * scratch buffer holds the packet being passed on.
 */
public final class SecondChance {
  /** Inject it into the local stack. */
  public static final int LOCAL = 0;

  /** Passed on (counted by hop and reason). */
  public static final int PASSED = 1;

  /** The pass-on could not be written (counted). */
  public static final int DROPPED = 2;

  private static final long SECOND = 1_000_000_000L;
  private static final int OUTER_TTL = 64;

  private final int self;
  private final Counters counters;
  private final SocketTable sockets;
  private final PacketSink passOn;
  private final KnownFlows known;
  private final long cacheNanos;
  private final int checksPerSecond;
  private final UnsafeBuffer scratch =
      new UnsafeBuffer(BufferUtil.allocateDirectAligned(16_384, 64));
  private final int[] hops = new int[GueHeader.MAX_HOPS];
  private int hopCount;
  private long window;
  private int checksInWindow;
  private int nextId = 1;

  /**
   * @param self this host server's address
   * @param passOn where passed-on packets (whole IPv4 datagrams from this host) are written: the
   *     TUN device live, from which the kernel routes them
   * @param cacheCapacity connections whose answer is remembered
   * @param cacheNanos how long an answer is trusted
   * @param checksPerSecond socket-table queries allowed per second
   */
  public SecondChance(
      int self,
      Counters counters,
      SocketTable sockets,
      PacketSink passOn,
      int cacheCapacity,
      long cacheNanos,
      int checksPerSecond) {
    this.self = self;
    this.counters = counters;
    this.sockets = sockets;
    this.passOn = passOn;
    this.known = new KnownFlows(cacheCapacity);
    this.cacheNanos = cacheNanos;
    this.checksPerSecond = checksPerSecond;
  }

  /** Connections whose answer is cached and not expired at {@code now} (tests, status). */
  public int cached(long now) {
    return known.live(now);
  }

  /**
   * Decides a decapsulated datagram for a virtual host: inject it, or pass it on.
   *
   * @param datagram holds the outer header at {@code outer}, the UDP header at {@code udp} (-1 for
   *     IP-in-IP) and the checked inner header at {@code inner}
   * @return {@link #LOCAL}, {@link #PASSED} or {@link #DROPPED}
   */
  public int decide(DirectBuffer datagram, int outer, int udp, int inner, long now) {
    if (Ipv4Header.protocol(datagram, inner) != Ipv4Header.PROTOCOL_TCP
        || Ipv4Header.isFragment(datagram, inner)) {
      return LOCAL;
    }
    int ihl = Ipv4Header.headerLength(datagram, inner);
    int tcp = inner + ihl;
    if (Ipv4Header.totalLength(datagram, inner) - ihl < TcpHeader.MIN_LENGTH) {
      return LOCAL; // the stack drops it
    }
    int client = Ipv4Header.source(datagram, inner);
    int origin = Ipv4Header.destination(datagram, inner);
    int clientPort = TcpHeader.sourcePort(datagram, tcp);
    int originPort = TcpHeader.destinationPort(datagram, tcp);
    long hi = KnownFlows.hi(client, origin);
    long lo = KnownFlows.lo(clientPort, originPort);
    int flags = TcpHeader.flags(datagram, tcp);
    if ((flags & (TcpHeader.FLAG_SYN | TcpHeader.FLAG_ACK)) == TcpHeader.FLAG_SYN) {
      // A SYN is always ours (the redirector chose us for a new connection), and so is the rest of
      // its handshake: recorded, so the ACK that completes a SYN-cookie handshake, which no socket
      // matches yet, is not passed on.
      known.put(hi, lo, KnownFlows.HERE, now + cacheNanos, now);
      return LOCAL;
    }
    int verdict = known.get(hi, lo, now);
    if (verdict != KnownFlows.UNKNOWN) {
      counters.add(HostServerCounter.SECOND_CHANCE_CACHE_HITS.id(), 1);
    } else {
      int answer = check(origin, originPort, client, clientPort, now);
      if (answer == SocketTable.UNKNOWN) {
        counters.add(HostServerCounter.SECOND_CHANCE_UNKNOWN.id(), 1);
        return LOCAL;
      }
      verdict = answer == SocketTable.HELD ? KnownFlows.HERE : KnownFlows.ELSEWHERE;
      known.put(hi, lo, verdict, now + cacheNanos, now);
    }
    if (verdict == KnownFlows.HERE) {
      return LOCAL;
    }
    return udp < 0 ? toSender(datagram, outer, inner) : toNextHop(datagram, outer, udp, inner);
  }

  private int check(int origin, int originPort, int client, int clientPort, long now) {
    if (now - window >= SECOND || now - window < 0) {
      window = now;
      checksInWindow = 0;
    }
    if (checksInWindow >= checksPerSecond) {
      return SocketTable.UNKNOWN;
    }
    checksInWindow++;
    counters.add(HostServerCounter.SECOND_CHANCE_SOCKET_CHECKS.id(), 1);
    return sockets.lookup(origin, originPort, client, clientPort);
  }

  /**
   * IP-in-IP has no list: back to its sender, the redirector, in IP-in-IP again — the same 20 bytes
   * it came in, so a segment the redirector clamped for this tunnel fits the way back too. Its
   * outer TTL, {@link IpipEncap#PASS_ON_TTL}, tells whoever receives it that it is a pass-on: one
   * that arrives here (above {@link IpipEncap#MAX_REDIRECT_TTL}; a forged sender, or a host server
   * sharing a redirector's address) is refused, so two host servers never pass it between them.
   */
  private int toSender(DirectBuffer datagram, int outer, int inner) {
    int sender = Ipv4Header.source(datagram, outer);
    if (sender == self
        || sender == 0
        || Ipv4Header.ttl(datagram, outer) > IpipEncap.MAX_REDIRECT_TTL) {
      counters.add(HostServerCounter.PASS_ON_LOOPS_REFUSED.id(), 1);
      return LOCAL;
    }
    int innerLength = Ipv4Header.totalLength(datagram, inner);
    Ipv4Header.write(
        scratch,
        0,
        Ipv4Header.tos(datagram, inner),
        Ipv4Header.MIN_LENGTH + innerLength,
        nextId++ & 0xFFFF,
        Ipv4Header.dontFragment(datagram, inner) ? Ipv4Header.FLAG_DF : 0,
        IpipEncap.PASS_ON_TTL,
        Ipv4Header.PROTOCOL_IPIP,
        self,
        sender);
    scratch.putBytes(Ipv4Header.MIN_LENGTH, datagram, inner, innerLength);
    return write(Ipv4Header.MIN_LENGTH + innerLength, HostServerCounter.PASSED_ON_ORIGIN_NO_LIST);
  }

  private int toNextHop(DirectBuffer datagram, int outer, int udp, int inner) {
    int count = GueHeader.hopCount(datagram, udp);
    int next = GueHeader.nextHop(datagram, udp);
    if (next >= count) {
      counters.add(HostServerCounter.SECOND_CHANCE_LAST_RESORT.id(), 1);
      return LOCAL;
    }
    for (int i = 0; i < count; i++) {
      hops[i] = GueHeader.hop(datagram, udp, i);
    }
    hopCount = count;
    int hop = hops[next];
    if (hop == self || hop == 0 || !cameAlong(Ipv4Header.source(datagram, outer), next)) {
      counters.add(HostServerCounter.PASS_ON_LOOPS_REFUSED.id(), 1);
      return LOCAL;
    }
    HostServerCounter counter;
    if (next + 1 == count) {
      counter = HostServerCounter.PASSED_ON_ORIGIN;
    } else if (next == 0) {
      counter = HostServerCounter.PASSED_ON_HOP_1;
    } else if (next == 1) {
      counter = HostServerCounter.PASSED_ON_HOP_2;
    } else {
      counter = HostServerCounter.PASSED_ON_HOP_3;
    }
    // The received source port is kept: the flow's ECMP path and NIC queue stay one, hop to hop.
    return send(
        datagram, inner, hop, UdpHeader.sourcePort(datagram, udp), count, next + 1, counter);
  }

  /**
   * Whether the list in {@link #hops} came the way it says: at next hop 0 from the redirector that
   * wrote it (its last hop); at next hop i > 0 this host server is hop i − 1, and from i = 2 on the
   * sender is hop i − 2 (at 1 it is the first host server, which is in no list).
   */
  private boolean cameAlong(int sender, int next) {
    if (next == 0) {
      return sender == hops[hopCount - 1];
    }
    return hops[next - 1] == self && (next < 2 || sender == hops[next - 2]);
  }

  /**
   * Writes outer IPv4 (this host server to {@code destination}, TTL 64, DF and TOS of the inner),
   * UDP, GUE and {@code hops[0..count)} with {@code nextHop}, then the inner datagram unchanged.
   */
  private int send(
      DirectBuffer datagram,
      int inner,
      int destination,
      int sourcePort,
      int count,
      int nextHop,
      HostServerCounter counter) {
    int innerLength = Ipv4Header.totalLength(datagram, inner);
    int header = GueHeader.length(count);
    int udp = Ipv4Header.MIN_LENGTH;
    Ipv4Header.write(
        scratch,
        0,
        Ipv4Header.tos(datagram, inner),
        Ipv4Header.MIN_LENGTH + header + innerLength,
        nextId++ & 0xFFFF,
        Ipv4Header.dontFragment(datagram, inner) ? Ipv4Header.FLAG_DF : 0,
        OUTER_TTL,
        Ipv4Header.PROTOCOL_UDP,
        self,
        destination);
    GueHeader.write(scratch, udp, sourcePort, innerLength, hops, count);
    GueHeader.nextHop(scratch, udp, nextHop);
    scratch.putBytes(udp + header, datagram, inner, innerLength);
    return write(udp + header + innerLength, counter);
  }

  /** Writes the pass-on in {@link #scratch} to the stack and counts it. */
  private int write(int length, HostServerCounter counter) {
    if (!passOn.write(scratch, 0, length)) {
      counters.add(HostServerCounter.DROP_PASS_ON_FAILED.id(), 1);
      return DROPPED;
    }
    counters.add(counter.id(), 1);
    return PASSED;
  }
}
