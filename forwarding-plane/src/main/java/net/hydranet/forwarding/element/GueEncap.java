package net.hydranet.forwarding.element;

import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.wire.GueHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Wraps a datagram for a host server that takes the second-chance tunnel (hostserver/SECOND-
 * CHANCE.md): outer IPv4 (as {@link IpipEncap} writes it, protocol 17), UDP to port {@link
 * GueHeader#PORT} from a source port hashed from the flow, GUE, and a hop list naming the other
 * host servers of the service — where the connection may live if the chosen one holds no socket for
 * it (GLB's "second chance", Beamer's daisy chain). Written in the headroom, no copy.
 *
 * <p>The hop list is every other host server of the service, draining ones included (they are the
 * ones that still hold old connections), ranked by a rendezvous hash of the flow and each address,
 * at most {@link #MAX_CANDIDATES}: the same list on every redirector with the same table, without
 * state. Its last hop is always this redirector's own address, the way to the origin: a host server
 * that reaches it passes the packet back here with the list used up, and {@link TunnelToOrigin}
 * forwards it to the origin without redirecting it again.
 */
public final class GueEncap implements Element {
  /** Other host servers the redirector lists, before its own address. */
  public static final int MAX_CANDIDATES = GueHeader.MAX_HOPS - 1;

  private final Counters counters;
  private final RouterInterface[] interfaces;
  private final RedirectorTable redirects;
  private final int outerTtl;
  private final boolean clearDontFragment;
  private final int[] hops = new int[GueHeader.MAX_HOPS];
  private final long[] scores = new long[MAX_CANDIDATES];
  private int nextId;

  public GueEncap(
      Counters counters,
      RouterInterface[] interfaces,
      RedirectorTable redirects,
      int outerTtl,
      boolean clearDontFragment,
      int firstId) {
    this.counters = counters;
    this.interfaces = interfaces;
    this.redirects = redirects;
    this.outerTtl = outerTtl;
    this.clearDontFragment = clearDontFragment;
    this.nextId = firstId;
  }

  /**
   * Bytes this tunnel adds with a list of {@code hops} hops: outer IPv4 20, UDP 8, GUE 4, the
   * private data's type word 4 and 4 a hop — 40 with the redirector alone, 52 with {@link
   * GueHeader#MAX_HOPS}.
   */
  public static int overhead(int hops) {
    return Ipv4Header.MIN_LENGTH + GueHeader.length(hops);
  }

  /**
   * How many hops {@link #process} lists for a flow of {@code service} sent to {@code target}: the
   * other host servers, at most {@link #MAX_CANDIDATES}, and the redirector (1 for no service). The
   * same for every flow of the service, whatever its hash; allocation-free, a walk of the service's
   * few host servers.
   */
  public static int hopCount(RedirectorTable redirects, int service, int target) {
    if (service == RedirectorTable.NOT_FOUND) {
      return 1;
    }
    int others = 0;
    int n = redirects.hostServerCount(service);
    for (int i = 0; i < n; i++) {
      int h = redirects.hostServer(service, i);
      if (h != target && h != 0) {
        others++;
      }
    }
    return Math.min(others, MAX_CANDIDATES) + 1;
  }

  /**
   * As an element: wraps the datagram at {@link PacketContext#l3} for {@link PacketContext#target},
   * listing the other host servers of {@link PacketContext#service} (none for a steered ICMP error,
   * which has no service), and moves {@code l3} to the outer header.
   */
  @Override
  public int process(MutableDirectBuffer buffer, PacketContext packet) {
    packet.l3 =
        encapsulate(
            buffer,
            packet.l3,
            interfaces[packet.egressInterface].address(),
            packet.service,
            packet.target);
    return Verdict.CONTINUE;
  }

  /**
   * {@link #process} with the values its caller holds: wraps the datagram at {@code inner} for
   * {@code hostServer}, from {@code source}, listing the other host servers of {@code service}.
   *
   * @return the outer header's offset
   */
  public int encapsulate(
      MutableDirectBuffer buffer, int inner, int source, int service, int hostServer) {
    int hash = addressHash(buffer, inner);
    int count =
        service == RedirectorTable.NOT_FOUND
            ? 0
            : chooseHops(redirects, service, hostServer, hash, hops, scores);
    hops[count++] = source;
    return encapsulate(buffer, inner, source, hostServer, hash, hops, count);
  }

  /**
   * Writes outer IPv4, UDP and GUE with {@code hops[0..count)} in front of the datagram at {@code
   * innerOffset}; the caller guarantees {@code 20 + GueHeader.length(count)} bytes of headroom.
   *
   * @return the outer header's offset
   */
  public int encapsulate(
      MutableDirectBuffer buffer,
      int innerOffset,
      int source,
      int hostServer,
      int flowHash,
      int[] hops,
      int count) {
    int innerLength = Ipv4Header.totalLength(buffer, innerOffset);
    int udp = innerOffset - GueHeader.length(count);
    int outer = udp - Ipv4Header.MIN_LENGTH;
    int flags =
        !clearDontFragment && Ipv4Header.dontFragment(buffer, innerOffset) ? Ipv4Header.FLAG_DF : 0;
    GueHeader.write(buffer, udp, GueHeader.sourcePort(flowHash), innerLength, hops, count);
    Ipv4Header.write(
        buffer,
        outer,
        Ipv4Header.tos(buffer, innerOffset),
        innerLength + GueHeader.length(count) + Ipv4Header.MIN_LENGTH,
        nextId++ & 0xFFFF,
        flags,
        outerTtl,
        Ipv4Header.PROTOCOL_UDP,
        source,
        hostServer);
    counters.add(Counter.ENCAPSULATED_BYTES, innerLength);
    counters.increment(Counter.GUE_ENCAPSULATED);
    return outer;
  }

  /**
   * The flow's hash for the UDP source port and the hop ranking: of the inner addresses and
   * protocol only, so the fragments of a datagram (which carry no ports) and the rest of its flow
   * take one ECMP path and one NIC queue, and are never reordered against each other.
   */
  public static int addressHash(DirectBuffer buffer, int inner) {
    return RedirectLookup.flowHash(
        Ipv4Header.source(buffer, inner),
        Ipv4Header.destination(buffer, inner),
        Ipv4Header.protocol(buffer, inner),
        0,
        0);
  }

  /**
   * The other host servers of {@code service} than {@code target}, highest rendezvous score of
   * (hash, address) first, at most {@link #MAX_CANDIDATES}, into {@code hops}. No allocation: an
   * insertion into the few best.
   *
   * @return how many
   */
  public static int chooseHops(
      RedirectorTable redirects, int service, int target, int hash, int[] hops, long[] scores) {
    int count = 0;
    int n = redirects.hostServerCount(service);
    for (int i = 0; i < n; i++) {
      int h = redirects.hostServer(service, i);
      if (h == target || h == 0) {
        continue;
      }
      long score = score(hash, h);
      int at = count < MAX_CANDIDATES ? count : MAX_CANDIDATES;
      while (at > 0 && Long.compareUnsigned(scores[at - 1], score) < 0) {
        if (at < MAX_CANDIDATES) {
          scores[at] = scores[at - 1];
          hops[at] = hops[at - 1];
        }
        at--;
      }
      if (at < MAX_CANDIDATES) {
        scores[at] = score;
        hops[at] = h;
        if (count < MAX_CANDIDATES) {
          count++;
        }
      }
    }
    return count;
  }

  /** Rendezvous (highest random weight) score: murmur3's finaliser of hash and address. */
  static long score(int hash, int hostServer) {
    long h = ((long) hash << 32) ^ (hostServer & 0xFFFFFFFFL) ^ 0x9E3779B97F4A7C15L;
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h;
  }
}
