package net.hydranet.control.rib;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import net.hydranet.control.wire.Addresses;
import net.hydranet.control.wire.Codec;
import net.hydranet.control.wire.Entry;
import net.hydranet.control.wire.Service;

/**
 * A redirector's routing information base: what each host server it hears directly announces, what
 * each peer redirector advertises, and the static services from its config — and, from these, the
 * redirector table it installs and the routes it advertises.
 *
 * <p>The choice, per service (PROTOCOL.md, "Choosing the nearest replica"):
 *
 * <ol>
 *   <li>For each host server, its distance: the configured cost of the link to it when heard
 *       directly, else the least of (peer's advertised distance + cost of the link to that peer).
 *   <li>Among host servers with weight above 0, the nearest distance wins; among those at that
 *       distance, ties are broken by reported load: any whose load exceeds the least by more than
 *       {@code loadBand} points takes no new flows. The rest share new flows by weight (the flows
 *       issue's Maglev table).
 *   <li>Draining host servers (weight 0), and every other candidate not chosen above, stay in the
 *       set with weight 0, so flows pinned to them finish there while new flows go elsewhere.
 *   <li>No host server left: the service is removed and its traffic goes to the origin.
 * </ol>
 *
 * A static service from the config file, IPv4 or IPv6, overrides what is learned for the same
 * service, and stays when what was learned is withdrawn.
 *
 * <p>Not thread-safe: the control thread owns it. Times are nanoseconds from the agent's clock.
 */
public final class Rib {
  /**
   * Tunables; see PROTOCOL.md "Timers".
   *
   * @param maxHostServers the most host servers installed for one service: the forwarding plane's
   *     {@code ForwardingContext.maxHostServers}, which refuses a larger set
   * @param maxDistance distances from this up are unreachable (RIP's 16): it bounds how long a
   *     route to a host server that is gone can circulate round a loop of three or more redirectors
   *     (count to infinity) — at most this many rounds of triggered updates
   */
  public record Settings(
      long routeTimeoutNanos,
      long dampingHalfLifeNanos,
      int loadBand,
      int maxHostServers,
      int maxDistance) {
    /** The forwarding plane's default {@code maxHostServers}. */
    public static final int DEFAULT_MAX_HOST_SERVERS = 8;

    /** As RIP: a network up to 15 link-cost units across. */
    public static final int DEFAULT_MAX_DISTANCE = 16;

    public Settings {
      if (maxHostServers < 1) {
        throw new IllegalArgumentException("maxHostServers " + maxHostServers + " < 1");
      }
      if (maxDistance < 2 || maxDistance > Codec.INFINITY) {
        throw new IllegalArgumentException("maxDistance " + maxDistance + " not in 2..255");
      }
    }

    public Settings(long routeTimeoutNanos, long dampingHalfLifeNanos, int loadBand) {
      this(routeTimeoutNanos, dampingHalfLifeNanos, loadBand, DEFAULT_MAX_HOST_SERVERS);
    }

    public Settings(
        long routeTimeoutNanos, long dampingHalfLifeNanos, int loadBand, int maxHostServers) {
      this(routeTimeoutNanos, dampingHalfLifeNanos, loadBand, maxHostServers, DEFAULT_MAX_DISTANCE);
    }
  }

  /**
   * One static service: host servers and weights, as the config file gives them. A host server is
   * what the table writer installs: an IPv4 address, or for an IPv6 service the forwarding plane's
   * id of an IPv6 host server (0.0.0.0/8), which {@code names} then gives as the operator wrote it
   * (null: every host server is an IPv4 address, shown as such).
   */
  public record StaticService(
      Service service, int[] hostServers, int[] weights, String[] hostServerNames) {
    public StaticService(Service service, int[] hostServers, int[] weights) {
      this(service, hostServers, weights, null);
    }

    /** Host server {@code i} as the operator wrote it. */
    public String hostServerText(int i) {
      return hostServerNames == null ? Addresses.format(hostServers[i]) : hostServerNames[i];
    }
  }

  /** Something that happened, for the log and the counters. */
  public record Event(String kind, int node, String detail) {}

  /**
   * A candidate host server of a service as the operator sees it; {@code hostServerText} is its
   * address as text (a static IPv6 host server's IPv6 address, where {@code hostServer} is the
   * forwarding plane's id for it).
   */
  public record Candidate(
      int hostServer,
      int distance,
      int via,
      int weight,
      int load,
      boolean selected,
      String hostServerText) {
    /** A candidate named by its IPv4 address. */
    public Candidate(
        int hostServer, int distance, int via, int weight, int load, boolean selected) {
      this(hostServer, distance, via, weight, load, selected, Addresses.format(hostServer));
    }
  }

  /** A route's identity: one host server for one service. */
  public record RouteKey(Service service, int hostServer) {}

  private record Learned(Entry entry, long refreshed) {}

  private static final class Direct {
    int cost;
    long lastHeard;
    long holdNanos;
    Map<Service, Entry> services = new HashMap<>();
  }

  private static final class PeerState {
    int cost;
    long lastHeard;
    long holdNanos;
    final Map<RouteKey, Learned> routes = new HashMap<>();
  }

  /** A best route: distance and the peer it came through (0 = heard directly). */
  private record Best(Entry entry, int via) {}

  private final Settings settings;
  private final TableWriter writer;
  private final Map<Integer, Direct> direct = new HashMap<>();
  private final Map<Integer, PeerState> peers = new HashMap<>();
  private final Map<Service, StaticService> statics = new HashMap<>();
  private final Map<Service, int[][]> installed = new HashMap<>();
  private Map<RouteKey, Best> advertised = new HashMap<>();
  private Map<RouteKey, Best> previous = new HashMap<>();
  private final Map<Integer, FlapDamper> dampers = new HashMap<>();
  private final List<Event> events = new ArrayList<>();

  public Rib(Settings settings, TableWriter writer) {
    this.settings = settings;
    this.writer = writer;
  }

  // --- inputs -------------------------------------------------------------------------------

  /** Any authenticated message from a host server heard directly refreshes its hold time. */
  public void hostServerHeard(int hs, int cost, int holdMillis, long now) {
    Direct d = direct.get(hs);
    if (d == null) {
      d = new Direct();
      direct.put(hs, d);
      events.add(new Event("host-server-up", hs, "heard directly"));
    }
    d.cost = cost;
    d.lastHeard = now;
    d.holdNanos = holdMillis * 1_000_000L;
  }

  /** The host server's complete set: what it does not list is withdrawn. */
  public void hostServerAnnounce(int hs, List<Entry> set) {
    Direct d = direct.get(hs);
    if (d == null) {
      return;
    }
    Map<Service, Entry> next = new HashMap<>();
    for (Entry e : set) {
      next.put(e.service(), e.withDistance(0));
    }
    d.services = next;
  }

  public void hostServerWithdraw(int hs, List<Entry> entries) {
    Direct d = direct.get(hs);
    if (d != null) {
      for (Entry e : entries) {
        d.services.remove(e.service());
      }
    }
  }

  /** Hold time 0: the host server left cleanly (after draining); no damping penalty. */
  public void hostServerLeft(int hs) {
    if (direct.remove(hs) != null) {
      events.add(new Event("host-server-left", hs, "said goodbye"));
    }
  }

  public void peerHeard(int peer, int cost, int holdMillis, long now) {
    PeerState p = peers.get(peer);
    if (p == null) {
      p = new PeerState();
      peers.put(peer, p);
      events.add(new Event("peer-up", peer, "heard"));
    }
    p.cost = cost;
    p.lastHeard = now;
    p.holdNanos = holdMillis * 1_000_000L;
  }

  /** Routes from a peer; distance {@link Codec#INFINITY} withdraws. */
  public void peerUpdate(int peer, List<Entry> entries, long now) {
    PeerState p = peers.get(peer);
    if (p == null) {
      return;
    }
    for (Entry e : entries) {
      RouteKey k = new RouteKey(e.service(), e.hostServer());
      if (e.distance() >= Codec.INFINITY) {
        p.routes.remove(k);
      } else {
        p.routes.put(k, new Learned(e, now));
      }
    }
  }

  public void peerLeft(int peer) {
    if (peers.remove(peer) != null) {
      events.add(new Event("peer-left", peer, "said goodbye"));
    }
  }

  /** Replaces the static services (config load or reload). */
  public void setStatic(List<StaticService> services) {
    statics.clear();
    for (StaticService s : services) {
      statics.put(s.service(), s);
    }
  }

  /**
   * Expires host servers and peers past their hold time, and stale peer routes.
   *
   * @return whether anything expired
   */
  public boolean expire(long now) {
    int before = events.size();
    int routes = 0;
    for (var it = direct.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      Direct d = e.getValue();
      if (now - d.lastHeard > d.holdNanos) {
        it.remove();
        damper(e.getKey()).fail(now);
        events.add(
            new Event(
                "host-server-lost",
                e.getKey(),
                "hold time " + d.holdNanos / 1_000_000 + " ms expired"));
      }
    }
    for (var it = peers.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      PeerState p = e.getValue();
      if (now - p.lastHeard > p.holdNanos) {
        it.remove();
        events.add(
            new Event(
                "peer-lost", e.getKey(), "hold time " + p.holdNanos / 1_000_000 + " ms expired"));
        continue;
      }
      if (p.routes.values().removeIf(l -> now - l.refreshed() > settings.routeTimeoutNanos())) {
        routes++;
      }
    }
    return routes > 0 || events.size() > before;
  }

  private FlapDamper damper(int hs) {
    return dampers.computeIfAbsent(hs, k -> new FlapDamper(settings.dampingHalfLifeNanos()));
  }

  /** Events since the last call, oldest first. */
  public List<Event> drainEvents() {
    List<Event> out = new ArrayList<>(events);
    events.clear();
    return out;
  }

  public int hostServerCount() {
    return direct.size();
  }

  public int peerCount() {
    return peers.size();
  }

  public boolean knowsHostServer(int hs) {
    return direct.containsKey(hs);
  }

  public boolean knowsPeer(int peer) {
    return peers.containsKey(peer);
  }

  // --- outputs ------------------------------------------------------------------------------

  /**
   * Recomputes best routes and the installed table; writes only the services that changed.
   *
   * @return the (service, host server) routes whose advertisement changed, to send as triggered
   *     updates; see {@link #updateFor}
   */
  public Set<RouteKey> commit(long now) {
    Map<RouteKey, Best> best = bestRoutes(now);
    Map<Service, int[][]> table = new HashMap<>();
    Map<Service, List<Best>> byService = new HashMap<>();
    for (var e : best.entrySet()) {
      byService.computeIfAbsent(e.getKey().service(), k -> new ArrayList<>()).add(e.getValue());
    }
    for (var e : byService.entrySet()) {
      int[][] chosen = choose(e.getValue());
      if (chosen != null) {
        table.put(e.getKey(), chosen);
      }
    }
    for (StaticService s : statics.values()) {
      table.put(s.service(), new int[][] {s.hostServers().clone(), s.weights().clone()});
    }
    for (var e : table.entrySet()) {
      int[][] before = installed.get(e.getKey());
      int[][] now2 = e.getValue();
      if (before == null
          || !Arrays.equals(before[0], now2[0])
          || !Arrays.equals(before[1], now2[1])) {
        Service s = e.getKey();
        if (s.isIpv4()) {
          writer.put(s.ipv4Origin(), s.protocol(), s.port(), now2[0], now2[1]);
        } else {
          writer.putIpv6(s.high(), s.low(), s.protocol(), s.port(), now2[0], now2[1]);
        }
      }
    }
    for (Service s : installed.keySet()) {
      if (!table.containsKey(s)) {
        if (s.isIpv4()) {
          writer.remove(s.ipv4Origin(), s.protocol(), s.port());
        } else {
          writer.removeIpv6(s.high(), s.low(), s.protocol(), s.port());
        }
      }
    }
    installed.clear();
    installed.putAll(table);

    Set<RouteKey> changed = new HashSet<>();
    for (var e : best.entrySet()) {
      if (!e.getValue().equals(advertised.get(e.getKey()))) {
        changed.add(e.getKey());
      }
    }
    for (RouteKey k : advertised.keySet()) {
      if (!best.containsKey(k)) {
        changed.add(k);
      }
    }
    previous = advertised;
    advertised = best;
    return changed;
  }

  private Map<RouteKey, Best> bestRoutes(long now) {
    Map<RouteKey, Best> best = new HashMap<>();
    for (var d : direct.entrySet()) {
      int hs = d.getKey();
      FlapDamper damper = dampers.get(hs);
      if (damper != null && damper.suppressed(now)) {
        continue;
      }
      for (Entry e : d.getValue().services.values()) {
        int dist = d.getValue().cost;
        if (dist >= settings.maxDistance()) {
          continue;
        }
        offer(best, e.withDistance(dist), 0);
      }
    }
    for (var p : peers.entrySet()) {
      for (Learned l : p.getValue().routes.values()) {
        int dist = l.entry().distance() + p.getValue().cost;
        if (dist < settings.maxDistance() && !direct.containsKey(l.entry().hostServer())) {
          offer(best, l.entry().withDistance(dist), p.getKey());
        }
      }
    }
    return best;
  }

  private static void offer(Map<RouteKey, Best> best, Entry e, int via) {
    RouteKey k = new RouteKey(e.service(), e.hostServer());
    Best b = best.get(k);
    // Nearest wins; at equal distance the lower peer address, so every run picks the same.
    if (b == null
        || e.distance() < b.entry().distance()
        || (e.distance() == b.entry().distance() && Integer.compareUnsigned(via, b.via()) < 0)) {
      best.put(k, new Best(e, via));
    }
  }

  /**
   * {host servers, weights} sorted by address, or null for "no host server". Every candidate stays
   * in the set, those not chosen for new flows with weight 0: the forwarding path re-hashes a flow
   * whose pinned host server has left the set, so a connection to a farther or busier replica that
   * still works would break the moment a nearer or idler one appeared. Beyond {@link
   * Settings#maxHostServers} the chosen ones are kept first, then the nearest.
   */
  private int[][] choose(List<Best> routes) {
    int nearest = Integer.MAX_VALUE;
    for (Best b : routes) {
      if (b.entry().weight() > 0) {
        nearest = Math.min(nearest, b.entry().distance());
      }
    }
    int leastLoad = Integer.MAX_VALUE;
    for (Best b : routes) {
      if (b.entry().weight() > 0 && b.entry().distance() == nearest) {
        leastLoad = Math.min(leastLoad, b.entry().load());
      }
    }
    List<Entry> ranked = new ArrayList<>(routes.size());
    for (Best b : routes) {
      Entry e = b.entry();
      boolean chosen =
          e.weight() > 0 && e.distance() == nearest && e.load() <= leastLoad + settings.loadBand();
      ranked.add(chosen ? e : e.withWeight(0));
    }
    if (ranked.isEmpty()) {
      return null;
    }
    if (ranked.size() > settings.maxHostServers()) {
      ranked.sort(
          Comparator.comparing((Entry e) -> e.weight() == 0)
              .thenComparingInt(Entry::distance)
              .thenComparingInt(Entry::load)
              .thenComparing(Entry::hostServer, Integer::compareUnsigned));
      ranked = ranked.subList(0, settings.maxHostServers());
    }
    ranked.sort(Comparator.comparing(Entry::hostServer, Integer::compareUnsigned));
    int[] hs = new int[ranked.size()];
    int[] w = new int[ranked.size()];
    for (int i = 0; i < hs.length; i++) {
      hs[i] = ranked.get(i).hostServer();
      w[i] = ranked.get(i).weight();
    }
    return new int[][] {hs, w};
  }

  /**
   * What to send {@code peer} for the routes in {@code changed} (from {@link #commit}): the current
   * route, or a withdrawal (distance {@link Codec#INFINITY}) if it is gone or was learned from that
   * very peer (split horizon: a route is never advertised back where it came from).
   */
  public List<Entry> updateFor(int peer, Set<RouteKey> changed) {
    List<Entry> out = new ArrayList<>();
    for (RouteKey k : changed) {
      Best b = advertised.get(k);
      Best old = previous.get(k);
      if (b != null && b.via() != peer) {
        out.add(b.entry());
      } else if (b != null || old != null) {
        // Gone, or now learned from this peer: withdraw (harmless if it never had it).
        out.add((b != null ? b : old).entry().withDistance(Codec.INFINITY));
      }
    }
    return out;
  }

  /** Every route this node advertises to {@code peer} (split horizon applied): a full dump. */
  public List<Entry> fullDumpFor(int peer) {
    List<Entry> out = new ArrayList<>();
    for (Best b : advertised.values()) {
      if (b.via() != peer) {
        out.add(b.entry());
      }
    }
    return out;
  }

  // --- operator's view ----------------------------------------------------------------------

  /** Per service: every candidate with its distance, where it came from and whether it is used. */
  public Map<Service, List<Candidate>> view() {
    Map<Service, List<Candidate>> out = new TreeMap<>();
    for (var e : advertised.entrySet()) {
      Service s = e.getKey().service();
      Best b = e.getValue();
      int[][] inst = installed.get(s);
      boolean selected = false;
      if (inst != null && !statics.containsKey(s)) {
        for (int i = 0; i < inst[0].length; i++) {
          selected |= inst[0][i] == b.entry().hostServer() && inst[1][i] > 0;
        }
      }
      out.computeIfAbsent(s, k -> new ArrayList<>())
          .add(
              new Candidate(
                  b.entry().hostServer(),
                  b.entry().distance(),
                  b.via(),
                  b.entry().weight(),
                  b.entry().load(),
                  selected));
    }
    for (StaticService s : statics.values()) {
      List<Candidate> list = new ArrayList<>();
      for (int i = 0; i < s.hostServers().length; i++) {
        list.add(
            new Candidate(
                s.hostServers()[i],
                0,
                -1,
                s.weights()[i],
                0,
                s.weights()[i] > 0,
                s.hostServerText(i)));
      }
      out.put(s.service(), list);
    }
    return out;
  }

  /**
   * A host server of {@code service} as the operator wrote it: a static IPv6 service's IPv6-in-IPv6
   * host server by its address (the table holds the plane's id), any other by its IPv4 address.
   */
  public String hostServerText(Service service, int hostServer) {
    StaticService s = statics.get(service);
    for (int i = 0; s != null && i < s.hostServers().length; i++) {
      if (s.hostServers()[i] == hostServer) {
        return s.hostServerText(i);
      }
    }
    return Addresses.format(hostServer);
  }

  /** Host servers heard directly: address → {cost, ms since heard, hold ms, services, damped}. */
  public Map<Integer, String> hostServers(long now) {
    Map<Integer, String> out = new TreeMap<>(Integer::compareUnsigned);
    for (var e : direct.entrySet()) {
      Direct d = e.getValue();
      FlapDamper damper = dampers.get(e.getKey());
      out.put(
          e.getKey(),
          String.format(
              "up, cost %d, heard %d ms ago, hold %d ms, %d service(s)%s",
              d.cost,
              (now - d.lastHeard) / 1_000_000,
              d.holdNanos / 1_000_000,
              d.services.size(),
              damper != null && damper.suppressed(now) ? ", DAMPED" : ""));
    }
    for (var e : dampers.entrySet()) {
      if (!direct.containsKey(e.getKey()) && e.getValue().penalty(now) > 1) {
        out.put(e.getKey(), String.format("down, flap penalty %.0f", e.getValue().penalty(now)));
      }
    }
    return out;
  }

  public Map<Integer, String> peers(long now) {
    Map<Integer, String> out = new TreeMap<>(Integer::compareUnsigned);
    for (var e : peers.entrySet()) {
      PeerState p = e.getValue();
      out.put(
          e.getKey(),
          String.format(
              "up, cost %d, heard %d ms ago, hold %d ms, %d route(s)",
              p.cost, (now - p.lastHeard) / 1_000_000, p.holdNanos / 1_000_000, p.routes.size()));
    }
    return out;
  }

  /** The installed table, for tests: service → {host servers, weights}. */
  public Map<Service, int[][]> installed() {
    return Map.copyOf(installed);
  }
}
