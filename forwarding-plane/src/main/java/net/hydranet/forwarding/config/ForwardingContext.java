package net.hydranet.forwarding.config;

import java.util.ArrayList;
import java.util.List;
import net.hydranet.forwarding.element.IpipEncap;
import net.hydranet.forwarding.wire.Ipv6Header;

/**
 * Everything the forwarding plane is built from: interfaces, table sizes and the encapsulation
 * options, with each default beside its name (Aeron's {@code Configuration} idiom).
 *
 * <p>Fluent setters; {@link #conclude()} validates and names the field that is wrong. The config
 * file is loaded into this same object, and tests build it directly.
 */
public final class ForwardingContext {
  /** Services the redirector table holds. */
  public static final int DEFAULT_REDIRECT_CAPACITY = 65_536;

  /** Host servers one service may have. */
  public static final int DEFAULT_MAX_HOST_SERVERS = 8;

  public static final int DEFAULT_ROUTE_CAPACITY = 4_096;
  public static final int DEFAULT_NEIGHBOUR_CAPACITY = 4_096;

  /** Frames held while their next hop's ARP reply is awaited, over all neighbours. */
  public static final int DEFAULT_ARP_QUEUE_FRAMES = 256;

  /** Frames held per unresolved neighbour; RFC 1122 §2.3.2.2 asks for at least one. */
  public static final int DEFAULT_ARP_QUEUE_PER_NEIGHBOUR = 8;

  public static final long DEFAULT_ARP_RETRY_NANOS = 1_000_000_000L;
  public static final int DEFAULT_ARP_RETRIES = 3;

  /** Lifetime of a learned neighbour, as Linux's base_reachable_time of 30 s. */
  public static final long DEFAULT_NEIGHBOUR_LIFETIME_NANOS = 30_000_000_000L;

  /** ICMP errors per second the router may originate (RFC 1812 §4.3.2.8 rate limiting). */
  public static final int DEFAULT_ICMP_RATE = 1_000;

  public static final int DEFAULT_ICMP_BURST = 100;

  /** TTL of the outer header we add; RFC 2003 §3.1 leaves it to the encapsulator. */
  public static final int DEFAULT_OUTER_TTL = 64;

  /** Slots of the Disruptor ring; a power of two. */
  public static final int DEFAULT_RING_SIZE = 4_096;

  /**
   * Frames in a row the receive thread may run itself while the forwarding thread is idle (see
   * {@code Pipeline}); 0 hands every frame to the forwarding thread. 32: a request's few frames run
   * on one thread, and a stream is split between capture on the receive thread and the path and
   * transmit on the forwarding thread. Measured on session 6's machine (BENCHMARKS.md, "Where the
   * burst goes"): forwarded TCP 1613 and 1384 Mb/s with 32 against 1144 and 1163 with 4,096, where
   * one thread doing everything was saturated (80 % of it the next namespace's receive, run inside
   * our {@code sendto}) while the other core idled. On the slower, saturated machine before it,
   * 4,096 had been a fifth faster: where both cores are busy, a hand-off only adds work.
   */
  public static final int DEFAULT_INLINE_BURST = 32;

  /**
   * Forwarding pipelines, each with its own capture per interface (one {@code PACKET_FANOUT} group
   * per interface spreads the flows), ring, threads, connection table and counters. 1 on a 2-core
   * machine: one pipeline already runs two threads, and a second pipeline measured no faster there
   * (BENCHMARKS.md, "More than one pipeline"). On a box with more cores, about one pipeline per two
   * cores left to the router (ARCHITECTURE.md, "More than one pipeline"). Two NICs on two cores
   * forwarded TCP fastest with one pipeline per NIC ({@link PipelineFeed#INTERFACE}), the shipped
   * config's choice (ARCHITECTURE.md, "A pipeline per interface").
   */
  public static final int DEFAULT_PIPELINES = 1;

  public static final PipelineFeed DEFAULT_PIPELINE_FEED = PipelineFeed.FLOW;

  /**
   * At most this many: each pipeline holds its own captures (32 MiB each), ring and tables, so a
   * typo must not reserve a thousand of them.
   */
  public static final int MAX_PIPELINES = 64;

  /**
   * Entries of each service's Maglev lookup table; a prime. 4,093 rather than the paper's 65,537:
   * with at most 8 host servers each holds about 500 entries, so shares stay within 0.2% of their
   * weights and removal disturbs few other flows, while a table costs 4 KiB per service instead of
   * 64 KiB (65,536 services: 256 MiB, not 4 GiB).
   */
  public static final int DEFAULT_MAGLEV_TABLE_SIZE = 4_093;

  /**
   * Flows the connection table holds before the least recently used is evicted. 0 turns the table
   * off: every packet follows the consistent hash, so a connection open to the origin no longer
   * survives a replica's installation (for measuring the table's cost, not for service).
   */
  public static final int DEFAULT_FLOW_CAPACITY = 1 << 20;

  /**
   * How stale the connection table's recency order may be: a hit moves a flow to the head of the
   * LRU list at most once in this time, so eviction is least recently used to within it (far below
   * the idle timeouts), and most hits touch only the flow's own cache line instead of three.
   */
  public static final long DEFAULT_FLOW_RECENCY_NANOS = 1_000_000_000L;

  /**
   * New flows each pipeline's connection table records per second, at most (0: no limit): above it
   * a new flow is not recorded but still goes where the consistent hash sends it (Katran stops
   * inserting into its per-CPU LRU above a rate of new connections, 125 k/s by default). A flood
   * then turns the table over at this rate at most, so a flow used within capacity / rate seconds
   * (21 s with the defaults) keeps its entry whatever floods. 50 k/s is well above what a pipeline
   * here opens in real connections (each costs at least three of its ~100–300 k frames/s).
   */
  public static final int DEFAULT_NEW_FLOW_RATE = 50_000;

  /** New flows recorded at once above {@link #DEFAULT_NEW_FLOW_RATE}, after a quiet spell. */
  public static final int DEFAULT_NEW_FLOW_BURST = 10_000;

  /** Idle time after which an established TCP flow is forgotten (Katran-like LRU; IPVS: 900 s). */
  public static final long DEFAULT_TCP_IDLE_NANOS = 300_000_000_000L;

  /** Time a TCP flow is kept after FIN or RST, so retransmitted FINs and ACKs still follow it. */
  public static final long DEFAULT_TCP_CLOSING_NANOS = 10_000_000_000L;

  /** Idle time for which a UDP flow keeps its host server. */
  public static final long DEFAULT_UDP_IDLE_NANOS = 30_000_000_000L;

  /** Fragmented datagrams whose first fragment's decision is remembered at once. */
  public static final int DEFAULT_FRAGMENT_CONTEXTS = 1_024;

  /** Early non-first fragments held, over all datagrams, until their first fragment arrives. */
  public static final int DEFAULT_FRAGMENTS_HELD = 64;

  /** How long a fragmented datagram's decision and held fragments live (RFC 791's 15 s bound). */
  public static final long DEFAULT_FRAGMENT_TIMEOUT_NANOS = 15_000_000_000L;

  /**
   * IPv6 flows the connection table for IPv6 holds (a table of its own beside the IPv4 one; see
   * {@code RedirectLookup}).
   */
  public static final int DEFAULT_FLOW_CAPACITY_6 = 1 << 16;

  private final List<RouterInterface> interfaces = new ArrayList<>();
  private final List<RouterAddress6> addresses6 = new ArrayList<>();
  private int flowCapacity6 = DEFAULT_FLOW_CAPACITY_6;
  private int redirectCapacity = DEFAULT_REDIRECT_CAPACITY;
  private int maxHostServers = DEFAULT_MAX_HOST_SERVERS;
  private int routeCapacity = DEFAULT_ROUTE_CAPACITY;
  private int neighbourCapacity = DEFAULT_NEIGHBOUR_CAPACITY;
  private int arpQueueFrames = DEFAULT_ARP_QUEUE_FRAMES;
  private int arpQueuePerNeighbour = DEFAULT_ARP_QUEUE_PER_NEIGHBOUR;
  private long arpRetryNanos = DEFAULT_ARP_RETRY_NANOS;
  private int arpRetries = DEFAULT_ARP_RETRIES;
  private long neighbourLifetimeNanos = DEFAULT_NEIGHBOUR_LIFETIME_NANOS;
  private int icmpRate = DEFAULT_ICMP_RATE;
  private int icmpBurst = DEFAULT_ICMP_BURST;
  private int outerTtl = DEFAULT_OUTER_TTL;
  private int ringSize = DEFAULT_RING_SIZE;
  private int inlineBurst = DEFAULT_INLINE_BURST;
  private int pipelines = DEFAULT_PIPELINES;
  private PipelineFeed pipelineFeed = DEFAULT_PIPELINE_FEED;
  private int maglevTableSize = DEFAULT_MAGLEV_TABLE_SIZE;
  private int flowCapacity = DEFAULT_FLOW_CAPACITY;
  private long flowRecencyNanos = DEFAULT_FLOW_RECENCY_NANOS;
  private int newFlowRate = DEFAULT_NEW_FLOW_RATE;
  private int newFlowBurst = DEFAULT_NEW_FLOW_BURST;
  private long tcpIdleNanos = DEFAULT_TCP_IDLE_NANOS;
  private long tcpClosingNanos = DEFAULT_TCP_CLOSING_NANOS;
  private long udpIdleNanos = DEFAULT_UDP_IDLE_NANOS;
  private int fragmentContexts = DEFAULT_FRAGMENT_CONTEXTS;
  private int fragmentsHeld = DEFAULT_FRAGMENTS_HELD;
  private long fragmentTimeoutNanos = DEFAULT_FRAGMENT_TIMEOUT_NANOS;
  private boolean mssClamp = true;
  private boolean clearDontFragment = false;
  private boolean dropTransit = true;
  private int[] gueHostServers = new int[0];

  /** Adds an interface; its index is its position. */
  public ForwardingContext addInterface(String name, long mac, int address, int prefix, int mtu) {
    interfaces.add(new RouterInterface(interfaces.size(), name, mac, address, prefix, mtu));
    return this;
  }

  public List<RouterInterface> interfaces() {
    return interfaces;
  }

  /**
   * Gives the interface called {@code name} an IPv6 address and its connected prefix (at most one
   * per interface; its link-local address it has anyway).
   *
   * @throws IllegalArgumentException when there is no such interface
   */
  public ForwardingContext addInterfaceAddress6(
      String name, long high, long low, int prefixLength) {
    RouterInterface i = interfaceNamed(name);
    if (i == null) {
      throw new IllegalArgumentException("no interface called '" + name + "'");
    }
    addresses6.add(new RouterAddress6(i.index(), high, low, prefixLength));
    return this;
  }

  /** The router's configured IPv6 addresses, in the order added. */
  public List<RouterAddress6> addresses6() {
    return addresses6;
  }

  /** The IPv6 address of interface {@code index}, or null when it has none. */
  public RouterAddress6 address6(int index) {
    for (RouterAddress6 a : addresses6) {
      if (a.interfaceIndex() == index) {
        return a;
      }
    }
    return null;
  }

  public int flowCapacity6() {
    return flowCapacity6;
  }

  public ForwardingContext flowCapacity6(int value) {
    this.flowCapacity6 = value;
    return this;
  }

  /** The interface called {@code name}, or null. */
  public RouterInterface interfaceNamed(String name) {
    for (RouterInterface i : interfaces) {
      if (i.name().equals(name)) {
        return i;
      }
    }
    return null;
  }

  public int redirectCapacity() {
    return redirectCapacity;
  }

  public ForwardingContext redirectCapacity(int value) {
    this.redirectCapacity = value;
    return this;
  }

  public int maxHostServers() {
    return maxHostServers;
  }

  public ForwardingContext maxHostServers(int value) {
    this.maxHostServers = value;
    return this;
  }

  public int routeCapacity() {
    return routeCapacity;
  }

  public ForwardingContext routeCapacity(int value) {
    this.routeCapacity = value;
    return this;
  }

  public int neighbourCapacity() {
    return neighbourCapacity;
  }

  public ForwardingContext neighbourCapacity(int value) {
    this.neighbourCapacity = value;
    return this;
  }

  public int arpQueueFrames() {
    return arpQueueFrames;
  }

  public ForwardingContext arpQueueFrames(int value) {
    this.arpQueueFrames = value;
    return this;
  }

  public int arpQueuePerNeighbour() {
    return arpQueuePerNeighbour;
  }

  public ForwardingContext arpQueuePerNeighbour(int value) {
    this.arpQueuePerNeighbour = value;
    return this;
  }

  public long arpRetryNanos() {
    return arpRetryNanos;
  }

  public ForwardingContext arpRetryNanos(long value) {
    this.arpRetryNanos = value;
    return this;
  }

  public int arpRetries() {
    return arpRetries;
  }

  public ForwardingContext arpRetries(int value) {
    this.arpRetries = value;
    return this;
  }

  public long neighbourLifetimeNanos() {
    return neighbourLifetimeNanos;
  }

  public ForwardingContext neighbourLifetimeNanos(long value) {
    this.neighbourLifetimeNanos = value;
    return this;
  }

  public int icmpRate() {
    return icmpRate;
  }

  public ForwardingContext icmpRate(int value) {
    this.icmpRate = value;
    return this;
  }

  public int icmpBurst() {
    return icmpBurst;
  }

  public ForwardingContext icmpBurst(int value) {
    this.icmpBurst = value;
    return this;
  }

  public int outerTtl() {
    return outerTtl;
  }

  public ForwardingContext outerTtl(int value) {
    this.outerTtl = value;
    return this;
  }

  public int ringSize() {
    return ringSize;
  }

  public ForwardingContext ringSize(int value) {
    this.ringSize = value;
    return this;
  }

  public int inlineBurst() {
    return inlineBurst;
  }

  public ForwardingContext inlineBurst(int value) {
    this.inlineBurst = value;
    return this;
  }

  public int pipelines() {
    return pipelines;
  }

  public ForwardingContext pipelines(int value) {
    this.pipelines = value;
    return this;
  }

  public PipelineFeed pipelineFeed() {
    return pipelineFeed;
  }

  public ForwardingContext pipelineFeed(PipelineFeed value) {
    this.pipelineFeed = value;
    return this;
  }

  public int maglevTableSize() {
    return maglevTableSize;
  }

  public ForwardingContext maglevTableSize(int value) {
    this.maglevTableSize = value;
    return this;
  }

  public int flowCapacity() {
    return flowCapacity;
  }

  public ForwardingContext flowCapacity(int value) {
    this.flowCapacity = value;
    return this;
  }

  public long flowRecencyNanos() {
    return flowRecencyNanos;
  }

  public ForwardingContext flowRecencyNanos(long value) {
    this.flowRecencyNanos = value;
    return this;
  }

  /** New flows the connection table records per second (per pipeline); 0: no limit. */
  public int newFlowRate() {
    return newFlowRate;
  }

  public ForwardingContext newFlowRate(int value) {
    this.newFlowRate = value;
    return this;
  }

  /** New flows recorded at once after a quiet spell: the new-flow token bucket's depth. */
  public int newFlowBurst() {
    return newFlowBurst;
  }

  public ForwardingContext newFlowBurst(int value) {
    this.newFlowBurst = value;
    return this;
  }

  public long tcpIdleNanos() {
    return tcpIdleNanos;
  }

  public ForwardingContext tcpIdleNanos(long value) {
    this.tcpIdleNanos = value;
    return this;
  }

  public long tcpClosingNanos() {
    return tcpClosingNanos;
  }

  public ForwardingContext tcpClosingNanos(long value) {
    this.tcpClosingNanos = value;
    return this;
  }

  public long udpIdleNanos() {
    return udpIdleNanos;
  }

  public ForwardingContext udpIdleNanos(long value) {
    this.udpIdleNanos = value;
    return this;
  }

  public int fragmentContexts() {
    return fragmentContexts;
  }

  public ForwardingContext fragmentContexts(int value) {
    this.fragmentContexts = value;
    return this;
  }

  public int fragmentsHeld() {
    return fragmentsHeld;
  }

  public ForwardingContext fragmentsHeld(int value) {
    this.fragmentsHeld = value;
    return this;
  }

  public long fragmentTimeoutNanos() {
    return fragmentTimeoutNanos;
  }

  public ForwardingContext fragmentTimeoutNanos(long value) {
    this.fragmentTimeoutNanos = value;
    return this;
  }

  /** Clamp the MSS of redirected SYNs so TCP never needs the tunnel to fragment. */
  public boolean mssClamp() {
    return mssClamp;
  }

  public ForwardingContext mssClamp(boolean value) {
    this.mssClamp = value;
    return this;
  }

  /** The paper's mode: the outer header never carries DF, and oversize packets are fragmented. */
  /**
   * Host servers this redirector tunnels to in UDP and GUE with a hop list (the second chance,
   * hostserver/SECOND-CHANCE.md) rather than IP-in-IP; empty by default.
   */
  public int[] gueHostServers() {
    return gueHostServers.clone();
  }

  public ForwardingContext gueHostServers(int... addresses) {
    this.gueHostServers = addresses.clone();
    return this;
  }

  public boolean clearDontFragment() {
    return clearDontFragment;
  }

  public ForwardingContext clearDontFragment(boolean value) {
    this.clearDontFragment = value;
    return this;
  }

  /**
   * Live only: has the box's own kernel drop, at ingress and after capture, the IPv4 frames not
   * addressed to it ({@code TransitDrop}), sparing it an IP input per forwarded frame.
   */
  public boolean dropTransit() {
    return dropTransit;
  }

  public ForwardingContext dropTransit(boolean value) {
    this.dropTransit = value;
    return this;
  }

  /**
   * Checks every field.
   *
   * @throws IllegalArgumentException naming the field and why it is wrong
   */
  public ForwardingContext conclude() {
    checkInterfaces();
    checkIpv6Addresses();
    checkTablesAndIcmp();
    checkTunnelAndEngine();
    checkFlows();
    checkTimers();
    return this;
  }

  /** At least one interface; each with a sane MTU and prefix, and a name of its own. */
  private void checkInterfaces() {
    if (interfaces.isEmpty()) {
      throw new IllegalArgumentException("interfaces: at least one interface is needed");
    }
    for (RouterInterface i : interfaces) {
      if (i.mtu() < 576 || i.mtu() > 9000) {
        throw new IllegalArgumentException(
            "interfaces[" + i.index() + "].mtu: " + i.mtu() + " is outside 576..9000");
      }
      if (i.prefixLength() < 0 || i.prefixLength() > 32) {
        throw new IllegalArgumentException(
            "interfaces[" + i.index() + "].address: prefix length must be 0..32");
      }
      for (RouterInterface j : interfaces) {
        if (j.index() < i.index() && j.name().equals(i.name())) {
          throw new IllegalArgumentException(
              "interfaces[" + i.index() + "].name: '" + i.name() + "' is listed twice");
        }
      }
    }
  }

  /** At most one IPv6 address an interface, each global unicast. */
  private void checkIpv6Addresses() {
    for (int n = 0; n < addresses6.size(); n++) {
      RouterAddress6 a = addresses6.get(n);
      String at = "interfaces[" + a.interfaceIndex() + "].address6";
      if (a.prefixLength() < 1 || a.prefixLength() > 128) {
        throw new IllegalArgumentException(at + ": prefix length must be 1..128");
      }
      if (Ipv6Header.isMulticast(a.high())
          || Ipv6Header.isLinkLocal(a.high())
          || Ipv6Header.isUnspecified(a.high(), a.low())
          || Ipv6Header.isLoopback(a.high(), a.low())) {
        throw new IllegalArgumentException(at + ": " + a + " is not a global unicast address");
      }
      for (int m = 0; m < n; m++) {
        if (addresses6.get(m).interfaceIndex() == a.interfaceIndex()) {
          throw new IllegalArgumentException(at + ": one IPv6 address per interface");
        }
      }
    }
  }

  /** The fixed tables' capacities, the neighbour queue's bounds, and the ICMP rate limit. */
  private void checkTablesAndIcmp() {
    if (flowCapacity6 < 0 || flowCapacity6 > 1 << 24) {
      throw new IllegalArgumentException(
          "flowCapacity6: must be in 0..2^24 (0: no IPv6 connection table), was " + flowCapacity6);
    }
    positive("redirectCapacity", redirectCapacity);
    positive("maxHostServers", maxHostServers);
    positive("routeCapacity", routeCapacity);
    positive("neighbourCapacity", neighbourCapacity);
    positive("arpQueueFrames", arpQueueFrames);
    positive("arpQueuePerNeighbour", arpQueuePerNeighbour);
    positive("arpRetries", arpRetries);
    positive("icmpBurst", icmpBurst);
    if (icmpRate < 0) {
      throw new IllegalArgumentException("icmpRate: must be 0 or more");
    }
  }

  /** The tunnel's outer TTL, the ring, and the pipelines. */
  private void checkTunnelAndEngine() {
    if (outerTtl < 1 || outerTtl > IpipEncap.MAX_REDIRECT_TTL) {
      // Above it, a host server would take our tunnel for another host server's pass-on.
      throw new IllegalArgumentException(
          "outerTtl: must be 1.."
              + IpipEncap.MAX_REDIRECT_TTL
              + " (a higher outer TTL marks a host server's pass-on, SECOND-CHANCE.md)");
    }
    if (ringSize < 2 || Integer.bitCount(ringSize) != 1) {
      throw new IllegalArgumentException("ringSize: must be a power of two, at least 2");
    }
    if (inlineBurst < 0) {
      throw new IllegalArgumentException("inlineBurst: must not be negative, was " + inlineBurst);
    }
    if (pipelines < 1 || pipelines > MAX_PIPELINES) {
      throw new IllegalArgumentException(
          "pipelines: must be in 1.." + MAX_PIPELINES + ", was " + pipelines);
    }
    if (pipelineFeed == null) {
      throw new IllegalArgumentException("pipelineFeed: must be flow or interface");
    }
    if (pipelineFeed == PipelineFeed.INTERFACE && pipelines > interfaces.size()) {
      throw new IllegalArgumentException(
          "pipelines: fed by interface, at most one per interface ("
              + interfaces.size()
              + "), was "
              + pipelines);
    }
  }

  /** The consistent hash, the connection table, the new-flow limit and fragment reassembly. */
  private void checkFlows() {
    if (maglevTableSize < 2 || maglevTableSize > 65_537 || !isPrime(maglevTableSize)) {
      throw new IllegalArgumentException(
          "maglevTableSize: must be a prime in 2..65537, was " + maglevTableSize);
    }
    if (flowCapacity < 0 || flowCapacity > 1 << 28) {
      throw new IllegalArgumentException(
          "flowCapacity: must be in 0..2^28 (0: no connection table), was " + flowCapacity);
    }
    if (flowRecencyNanos < 0 || flowRecencyNanos > 1L << 50) {
      throw new IllegalArgumentException(
          "flowRecencyNanos: must be in 0..2^50 (0: exact LRU), was " + flowRecencyNanos);
    }
    if (newFlowRate < 0) {
      throw new IllegalArgumentException(
          "newFlowRate (limits.newFlowsPerSecond): must be 0 (no limit) or more, was "
              + newFlowRate);
    }
    positive("newFlowBurst (limits.newFlowBurst)", newFlowBurst);
    positive("fragmentContexts", fragmentContexts);
    positive("fragmentsHeld", fragmentsHeld);
  }

  /** Every timeout positive. */
  private void checkTimers() {
    if (tcpIdleNanos <= 0 || tcpClosingNanos <= 0 || udpIdleNanos <= 0) {
      throw new IllegalArgumentException("flow timeouts: must be positive");
    }
    if (fragmentTimeoutNanos <= 0) {
      throw new IllegalArgumentException("fragmentTimeoutNanos: must be positive");
    }
    if (arpRetryNanos <= 0 || neighbourLifetimeNanos <= 0) {
      throw new IllegalArgumentException("arp timers: must be positive");
    }
  }

  private static boolean isPrime(int n) {
    for (int d = 2; d * d <= n; d++) {
      if (n % d == 0) {
        return false;
      }
    }
    return n >= 2;
  }

  private static void positive(String field, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(field + ": must be positive, was " + value);
    }
  }
}
