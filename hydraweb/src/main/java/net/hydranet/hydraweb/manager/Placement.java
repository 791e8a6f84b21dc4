package net.hydranet.hydraweb.manager;

import static net.hydranet.hydraweb.manager.ManagerState.LOG;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import net.hydranet.hydraweb.manager.ManagedReplica.State;
import net.hydranet.replica.Bundle;

/**
 * Placement, on its one "hydraweb-placement" thread: every {@link
 * ReplicaManager#PLACEMENT_EVERY_MS} it samples the demand (the origin's rate plus what the
 * replicas served themselves), reconnects links to host servers that run our replicas, asks the
 * {@link PlacementPolicy}, and runs the blocking INSTALL or REMOVE it decides, with a backoff per
 * host server after a refused install. The operator's install and remove run on the same thread, so
 * there is one writer of placement's own fields.
 */
final class Placement {
  private final ManagerState state;
  private final HostServerLinks links;
  private final LoadSource load;
  private final PlacementPolicy policy;
  private final ScheduledExecutorService executor;
  // Placement thread only.
  private final long[] installBackoff;
  private final long[] noInstallBefore; // nanoTime
  private int nameCounter;
  private long servedBefore = -1;
  private long servedAtNanos;
  // Written by start(), before the first tick is scheduled.
  private byte[] jar;
  private byte[] signature;
  private volatile double lastLoad = Double.NaN;
  private volatile boolean closed;

  Placement(ManagerState state, HostServerLinks links, LoadSource load) {
    this.state = state;
    this.links = links;
    this.load = load;
    List<String> hosts = new ArrayList<>();
    state.config.hostServers().forEach(h -> hosts.add(h.toString()));
    this.policy = new PlacementPolicy(state.config.placement(), hosts);
    int n = hosts.size();
    this.installBackoff = new long[n];
    this.noInstallBefore = new long[n];
    this.executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> ReplicaManager.thread(r, "hydraweb-placement"));
  }

  /** Reads the signed bundle it installs. */
  void readBundle() throws IOException {
    jar = Files.readAllBytes(state.config.bundleJar());
    signature = Bundle.readSignature(state.config.bundleSignature());
  }

  void start() {
    executor.scheduleWithFixedDelay(
        this::tick, 0, ReplicaManager.PLACEMENT_EVERY_MS, TimeUnit.MILLISECONDS);
  }

  /** The last demand sampled, requests/s (NaN when unknown). */
  double load() {
    return lastLoad;
  }

  /** Requests/s the replicas answered from their caches since the last tick (placement thread). */
  private double replicaServedRate() {
    long served = 0;
    for (ManagedReplica r : state.replicas.values()) {
      synchronized (r) {
        served += Math.max(0, r.requests - r.misses);
      }
    }
    long now = System.nanoTime();
    double rate = 0;
    if (servedBefore >= 0 && now > servedAtNanos && served >= servedBefore) {
      rate = (served - servedBefore) * 1e9 / (now - servedAtNanos);
    }
    servedBefore = served;
    servedAtNanos = now;
    return rate;
  }

  private void tick() {
    if (closed) {
      return;
    }
    try {
      double rate;
      try {
        rate = load.requestsPerSecond();
      } catch (IOException e) {
        state.logOnce("load source failed", e);
        rate = Double.NaN;
      }
      // The service's demand is what reaches the origin plus what its replicas answer themselves
      // (a replica's misses reach the origin and are in its count already): judged on the origin's
      // count alone, a replica that takes the load away looks like the load going away, and is
      // removed in the middle of the crowd it was installed for (seen in demo web).
      rate = rate + replicaServedRate();
      lastLoad = rate;
      reconnectLinks();
      List<PlacementPolicy.Running> running = new ArrayList<>();
      for (ManagedReplica r : state.replicas.values()) {
        synchronized (r) {
          if (r.state != State.REMOVING) {
            running.add(new PlacementPolicy.Running(r.name, r.host, r.installedAt));
          }
        }
      }
      PlacementPolicy.Decision d =
          policy.decide(state.clock.getAsLong(), rate, running, nextName());
      switch (d.action()) {
        case INSTALL -> installDecided(d);
        case REMOVE -> {
          logDecision(d);
          removeNow(d.replica());
        }
        case NONE -> {
          // nothing to do
        }
      }
    } catch (RuntimeException e) {
      state.logOnce("placement failed", e);
    }
  }

  /** Installs as decided, unless its host server is in its backoff; a refusal doubles it. */
  private void installDecided(PlacementPolicy.Decision d) {
    int h = d.hostIndex();
    if (System.nanoTime() - noInstallBefore[h] < 0) {
      return;
    }
    logDecision(d);
    if (installNow(h, d.replica())) {
      installBackoff[h] = 0;
      return;
    }
    // A refused bundle would be refused again: do not upload it every second.
    installBackoff[h] = Math.min(300_000, Math.max(5_000, installBackoff[h] * 2));
    noInstallBefore[h] = System.nanoTime() + installBackoff[h] * 1_000_000L;
    LOG.atWarn()
        .addKeyValue("action", "backoff")
        .addKeyValue("host", state.hostServer(h).toString())
        .addKeyValue("backoff_s", installBackoff[h] / 1000)
        .log("no install on {} for {} s", state.hostServer(h), installBackoff[h] / 1000);
  }

  /**
   * A placement decision as one line: the reason in words, and as keys action (install, remove),
   * replica, host, reason (PlacementPolicy's cause), rps (the demand it was judged on), threshold
   * and for_s (how long the demand stayed past it).
   */
  private void logDecision(PlacementPolicy.Decision d) {
    var event =
        LOG.atInfo()
            .addKeyValue("action", d.action().name().toLowerCase(Locale.ROOT))
            .addKeyValue("replica", d.replica())
            .addKeyValue("host", state.hostServer(d.hostIndex()).toString())
            .addKeyValue("reason", d.cause());
    if (Double.isFinite(d.load())) {
      event = event.addKeyValue("rps", Math.round(d.load() * 10) / 10.0);
    }
    if (Double.isFinite(d.threshold())) {
      event = event.addKeyValue("threshold", d.threshold());
    }
    if (d.sustainedMillis() > 0) {
      event = event.addKeyValue("for_s", d.sustainedMillis() / 1000.0);
    }
    event.log(d.reason());
  }

  /** The outcome of an install or remove: action, replica, host, result and the reply's text. */
  private static void logOutcome(
      boolean warn, String action, String name, Object host, String result, String detail) {
    (warn ? LOG.atWarn() : LOG.atInfo())
        .addKeyValue("action", action)
        .addKeyValue("replica", name)
        .addKeyValue("host", String.valueOf(host))
        .addKeyValue("result", result)
        .addKeyValue("detail", detail)
        .log("{} of {} on {}: {}: {}", action, name, host, result, detail);
  }

  private String nextName() {
    String n;
    int i = nameCounter;
    do {
      n = state.config.namePrefix() + "-" + ++i;
    } while (state.replicas.containsKey(n));
    return n;
  }

  /** Installs {@code name} on host server {@code host}; on the placement thread. */
  private boolean installNow(int host, String name) {
    HostServerLink link = links.connect(host);
    if (link == null) {
      state.count(ManagerCounter.INSTALL_FAILURES);
      logOutcome(
          true, "install", name, state.hostServer(host), "failed", "host server unreachable");
      return false;
    }
    nameCounter++;
    ManagedReplica r = new ManagedReplica(name, host, state.clock.getAsLong());
    state.replicas.put(name, r); // before INSTALL: its READY may come before the OK
    HostServerLink.Reply reply;
    try {
      reply = link.install(name, jar, signature, ReplicaManager.INSTALL_TIMEOUT);
    } catch (IOException e) {
      reply = new HostServerLink.Reply(false, e.getMessage());
    }
    if (!reply.ok()) {
      state.replicas.remove(name);
      state.count(ManagerCounter.INSTALL_FAILURES);
      logOutcome(true, "install", name, state.hostServer(host), "failed", reply.text());
      return false;
    }
    state.count(ManagerCounter.INSTALLS);
    logOutcome(false, "install", name, state.hostServer(host), "ok", reply.text());
    return true;
  }

  /** Removes {@code name} with the configured drain; on the placement thread. */
  private boolean removeNow(String name) {
    ManagedReplica r = state.replicas.get(name);
    if (r == null) {
      return false;
    }
    synchronized (r) {
      r.state = State.REMOVING;
    }
    HostServerLink link = links.connect(r.host);
    HostServerLink.Reply reply;
    if (link == null) {
      reply = new HostServerLink.Reply(false, "host server unreachable");
    } else {
      long drainMillis = state.config.drainMillis();
      try {
        reply = link.remove(name, drainMillis, Duration.ofMillis(drainMillis).plusSeconds(30));
      } catch (IOException e) {
        reply = new HostServerLink.Reply(false, e.getMessage());
      }
    }
    state.replicas.remove(name);
    if (!reply.ok()) {
      state.count(ManagerCounter.REMOVE_FAILURES);
      logOutcome(true, "remove", name, state.hostServer(r.host), "failed", reply.text());
      return false;
    }
    state.count(ManagerCounter.REMOVES);
    logOutcome(false, "remove", name, state.hostServer(r.host), "ok", reply.text());
    return true;
  }

  /** Reconnects to host servers that run our replicas; those replicas wait for a probe again. */
  private void reconnectLinks() {
    for (int h = 0; h < links.size(); h++) {
      boolean used = false;
      for (ManagedReplica r : state.replicas.values()) {
        used |= r.host == h;
      }
      if (!used || links.open(h) != null) {
        continue;
      }
      for (ManagedReplica r : state.replicas.values()) {
        synchronized (r) {
          if (r.host == h && r.state == State.READY) {
            r.state = State.WAITING;
          }
        }
      }
      HostServerLink l = links.connect(h);
      if (l != null) {
        forgetLost(h, l);
      }
    }
  }

  /**
   * After a reconnection: replicas the host server no longer runs (their EVENT was lost with the
   * connection) are forgotten, so placement can install again.
   */
  private void forgetLost(int h, HostServerLink l) {
    Set<String> alive = new HashSet<>();
    try {
      for (HostServerLink.Status s : l.status("", Duration.ofSeconds(10))) {
        if (!s.state().equals("exited") && !s.state().equals("killed")) {
          alive.add(s.name());
        }
      }
    } catch (IOException e) {
      state.logOnce("status from " + state.hostServer(h) + " failed", e);
      return;
    }
    for (ManagedReplica r : new ArrayList<>(state.replicas.values())) {
      if (r.host == h && !alive.contains(r.name)) {
        state.replicas.remove(r.name);
        state.count(ManagerCounter.REPLICAS_LOST);
        LOG.warn(
            "{} is gone from {} (not in its status after a reconnection)",
            r.name,
            state.hostServer(h));
      }
    }
  }

  /** The operator's install on host server {@code hostIndex}: its name, or null on failure. */
  String install(int hostIndex) throws IOException {
    return onPlacementThread(
        () -> {
          String name = nextName();
          LOG.atInfo()
              .addKeyValue("action", "install")
              .addKeyValue("replica", name)
              .addKeyValue("host", state.hostServer(hostIndex).toString())
              .addKeyValue("reason", "operator")
              .log("installing {} on {}: asked by the operator", name, state.hostServer(hostIndex));
          return installNow(hostIndex, name) ? name : null;
        },
        ReplicaManager.INSTALL_TIMEOUT.plusSeconds(10));
  }

  /** The operator's remove of {@code name} (with the drain): true if the host server said OK. */
  boolean remove(String name) throws IOException {
    Boolean ok =
        onPlacementThread(
            () -> {
              LOG.atInfo()
                  .addKeyValue("action", "remove")
                  .addKeyValue("replica", name)
                  .addKeyValue("reason", "operator")
                  .log("removing {}: asked by the operator", name);
              return removeNow(name);
            },
            Duration.ofMillis(state.config.drainMillis()).plusSeconds(40));
    return ok != null && ok;
  }

  private <T> T onPlacementThread(Callable<T> task, Duration timeout) throws IOException {
    try {
      return executor.submit(task).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
      throw new IOException("placement did not finish: " + e, e);
    }
  }

  /** No more decisions: the manager is closing. */
  void stopDeciding() {
    closed = true;
  }

  /** Removes {@code names} one after the other, each with its drain, on the placement thread. */
  void removeAll(List<String> names) {
    for (String name : names) {
      try {
        executor
            .submit(() -> removeNow(name))
            .get(state.config.drainMillis() + 40_000, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
        LOG.warn("remove of {} on close failed: {}", name, e.toString());
      }
    }
  }

  void shutdownNow() {
    executor.shutdownNow();
  }

  void awaitTermination(long seconds) throws InterruptedException {
    executor.awaitTermination(seconds, TimeUnit.SECONDS);
  }
}
