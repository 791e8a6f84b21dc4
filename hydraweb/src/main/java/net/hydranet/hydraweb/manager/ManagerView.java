package net.hydranet.hydraweb.manager;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import net.hydranet.hydraweb.manager.ManagedReplica.State;

/**
 * The manager as its readers see it (ctl, metrics at scrape time, tests): figures copied out of
 * each replica under its lock, one replica at a time. It changes nothing, and may be called from
 * any thread.
 */
final class ManagerView {
  private final ManagerState state;
  private final HostServerLinks links;
  private final Placement placement;

  private final MissFetcher misses;

  ManagerView(ManagerState state, HostServerLinks links, Placement placement, MissFetcher misses) {
    this.state = state;
    this.links = links;
    this.placement = placement;
    this.misses = misses;
  }

  ReplicaManager.OriginStatus origin() {
    OriginHealth.Snapshot o = misses.origin();
    return new ReplicaManager.OriginStatus(
        o.state().name().toLowerCase(Locale.ROOT),
        o.lastContactMillis(),
        o.downSinceMillis(),
        o.status(),
        o.failure());
  }

  /**
   * "web server http://…: up, last answer 1.2 s ago", or down since when, why, and what misses get.
   */
  private String originLine() {
    ReplicaManager.OriginStatus o = origin();
    long now = state.clock.getAsLong();
    StringBuilder b =
        new StringBuilder("web server ").append(state.config.webServer()).append(": ");
    switch (o.state()) {
      case "up" -> b.append("up");
      case "down" ->
          b.append("DOWN for ")
              .append(seconds(now - o.downSinceMillis()))
              .append(" (")
              .append(o.failure())
              .append("); replicas serve what they hold, misses are answered ")
              .append(o.status())
              .append(" at once");
      default -> b.append("not contacted yet");
    }
    if (o.lastContactMillis() >= 0) {
      b.append(", last answer ")
          .append(seconds(now - o.lastContactMillis()))
          .append(" ago (")
          .append(java.time.Instant.ofEpochMilli(o.lastContactMillis()))
          .append(')');
    }
    return b.append('\n').toString();
  }

  private static String seconds(long millis) {
    return String.format(Locale.ROOT, "%.1f s", Math.max(0, millis) / 1000.0);
  }

  List<String> replicaNames() {
    return new ArrayList<>(new TreeMap<>(state.replicas).keySet());
  }

  boolean isPreheated(String name) {
    ManagedReplica r = state.replicas.get(name);
    if (r == null) {
      return false;
    }
    synchronized (r) {
      return r.state == State.READY && r.preheatedAt >= 0;
    }
  }

  long ackedVersion(String name, String path) {
    ManagedReplica r = state.replicas.get(name);
    if (r == null) {
      return -1;
    }
    synchronized (r) {
      return r.acked.getOrDefault(path, -1L);
    }
  }

  long ackedAtMillis(String name, String path) {
    ManagedReplica r = state.replicas.get(name);
    if (r == null) {
      return -1;
    }
    synchronized (r) {
      return r.ackedAt.getOrDefault(path, -1L);
    }
  }

  long docrootVersion(String path) {
    Docroot.FileState fs = state.docroot.get(path);
    return fs == null ? -1 : fs.version();
  }

  Map<String, Long> hits(String name) {
    ManagedReplica r = state.replicas.get(name);
    Map<String, Long> m = new LinkedHashMap<>();
    if (r != null) {
      synchronized (r) {
        r.hits.forEach((p, c) -> m.put(p, c[1]));
      }
    }
    return m;
  }

  List<ReplicaManager.ReplicaFigures> replicaFigures() {
    List<ReplicaManager.ReplicaFigures> out = new ArrayList<>();
    for (String name : replicaNames()) {
      ManagedReplica r = state.replicas.get(name);
      if (r == null) {
        continue;
      }
      synchronized (r) {
        out.add(
            new ReplicaManager.ReplicaFigures(
                name,
                state.hostServer(r.host).toString(),
                r.totalHits(),
                r.misses,
                r.requests,
                r.hitLatency.snapshot(),
                r.missLatency.snapshot()));
      }
    }
    return out;
  }

  boolean isConnected(int host) {
    return links.open(host) != null;
  }

  int hostServersConnected() {
    int n = 0;
    for (int i = 0; i < state.config.hostServers().size(); i++) {
      n += isConnected(i) ? 1 : 0;
    }
    return n;
  }

  /** A text table of the replicas, their state and hits, for {@code hydranet manager status}. */
  String snapshot() {
    StringBuilder b = new StringBuilder();
    double lastLoad = placement.load();
    Docroot docroot = state.docroot;
    b.append(
        String.format(
            Locale.ROOT,
            "origin %s  load %s req/s  docroot %d paths (%d pre-heated, %d templates)%n",
            state.config.managerAddressesText(),
            Double.isNaN(lastLoad) ? "?" : String.format(Locale.ROOT, "%.0f", lastLoad),
            docroot.all().size(),
            docroot.preheat().size(),
            docroot.templateCount()));
    b.append(originLine());
    List<String> names = replicaNames();
    appendReplicas(b, names);
    for (String name : names) {
      appendHits(b, name);
    }
    return b.toString();
  }

  /** One line per replica: host server, state, ACKed and pending pushes, hits, misses, requests. */
  private void appendReplicas(StringBuilder b, List<String> names) {
    b.append(
        String.format(
            Locale.ROOT,
            "%-20s %-16s %-9s %8s %8s %10s %10s %10s%n",
            "REPLICA",
            "HOST SERVER",
            "STATE",
            "ACKED",
            "PENDING",
            "HITS",
            "MISSES",
            "REQUESTS"));
    for (String name : names) {
      ManagedReplica r = state.replicas.get(name);
      if (r == null) {
        continue;
      }
      synchronized (r) {
        String rs =
            r.state == State.READY ? (r.preheatedAt >= 0 ? "hot" : "heating") : r.state.name();
        b.append(
            String.format(
                Locale.ROOT,
                "%-20s %-16s %-9s %8d %8d %10d %10d %10d%n",
                name,
                state.hostServer(r.host),
                rs.toLowerCase(Locale.ROOT),
                r.acked.size(),
                r.inflight.size(),
                r.totalHits(),
                r.misses,
                r.requests));
      }
    }
  }

  /** The replica's 20 most hit paths, if it reported any. */
  private void appendHits(StringBuilder b, String name) {
    Map<String, Long> h = hits(name);
    if (h.isEmpty()) {
      return;
    }
    b.append(String.format(Locale.ROOT, "%nhits on %s:%n", name));
    h.entrySet().stream()
        .sorted((x, y) -> Long.compare(y.getValue(), x.getValue()))
        .limit(20)
        .forEach(e -> b.append(String.format(Locale.ROOT, "%10d  %s%n", e.getValue(), e.getKey())));
  }
}
