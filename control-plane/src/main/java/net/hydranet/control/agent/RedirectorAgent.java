package net.hydranet.control.agent;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.hydranet.control.auth.Gatekeeper;
import net.hydranet.control.auth.Peer;
import net.hydranet.control.auth.Signer;
import net.hydranet.control.rib.Rib;
import net.hydranet.control.rib.Rib.RouteKey;
import net.hydranet.control.rib.TableWriter;
import net.hydranet.control.wire.Addresses;
import net.hydranet.control.wire.Entry;
import net.hydranet.control.wire.Message;
import net.hydranet.control.wire.MessageType;
import net.hydranet.control.wire.Service;
import org.slf4j.LoggerFactory;

/**
 * A redirector's protocol agent. It hears host servers (HELLO, KEEPALIVE, ANNOUNCE, WITHDRAW) and
 * peer redirectors (HELLO, KEEPALIVE, UPDATE, REQUEST), keeps the {@link Rib}, and writes the
 * redirector table through a {@link TableWriter} — the forwarding plane's command queue. On start
 * it asks every trusted node for everything (REQUEST), so a restarted redirector rebuilds its table
 * from its peers and host servers within one round trip.
 */
public final class RedirectorAgent extends ControlAgent {
  private final Rib rib;
  private final TableWriter writer;
  private final Map<Integer, Peer> trusted;
  private long nextKeepalive;
  private long nextRefresh;
  private long nextRecompute;
  private boolean dirty = true;
  private volatile int hostServersUp;
  private volatile int peersUp;
  private volatile int services;

  public RedirectorAgent(
      Settings settings,
      Signer signer,
      Gatekeeper gatekeeper,
      Rib.Settings ribSettings,
      TableWriter writer)
      throws IOException {
    super(
        "hydranet-control",
        settings,
        signer,
        gatekeeper,
        LoggerFactory.getLogger(RedirectorAgent.class));
    this.trusted = gatekeeper.trusted();
    this.writer = countingWriter(writer);
    this.rib = new Rib(ribSettings, this.writer);
  }

  private TableWriter countingWriter(TableWriter writer) {
    return new TableWriter() {
      @Override
      public void put(int origin, int protocol, int port, int[] hostServers, int[] weights) {
        logPut(Service.ipv4(origin, protocol, port), hostServers, weights);
        writer.put(origin, protocol, port, hostServers, weights);
      }

      @Override
      public void remove(int origin, int protocol, int port) {
        logRemove(Service.ipv4(origin, protocol, port));
        writer.remove(origin, protocol, port);
      }

      @Override
      public void hostServerDead(int hostServer) {
        log.atInfo()
            .addKeyValue("table", "host-server-dead")
            .addKeyValue("host_server", Addresses.format(hostServer))
            .log("table: flows pinned to {} released", Addresses.format(hostServer));
        writer.hostServerDead(hostServer);
      }

      @Override
      public void putIpv6(
          long high, long low, int protocol, int port, int[] hostServers, int[] weights) {
        logPut(Service.ipv6(high, low, protocol, port), hostServers, weights);
        writer.putIpv6(high, low, protocol, port, hostServers, weights);
      }

      @Override
      public void removeIpv6(long high, long low, int protocol, int port) {
        logRemove(Service.ipv6(high, low, protocol, port));
        writer.removeIpv6(high, low, protocol, port);
      }
    };
  }

  /** 198.18.2.10:80/tcp or [2001:2::10]:80/tcp, as the metrics' service label has it. */
  private void logPut(Service service, int[] hostServers, int[] weights) {
    counters.increment(ControlCounter.TABLE_WRITES);
    String[] names = new String[hostServers.length];
    for (int i = 0; i < names.length; i++) {
      // A static IPv6-in-IPv6 host server by its IPv6 address, not the plane's id for it.
      names[i] = rib.hostServerText(service, hostServers[i]);
    }
    log.atInfo()
        .addKeyValue("table", "put")
        .addKeyValue("service", service.toString())
        .addKeyValue("host_servers", String.join(",", names))
        .addKeyValue("weights", join(weights))
        .log("table: {} -> {}", service, describe(names, weights));
  }

  private void logRemove(Service service) {
    counters.increment(ControlCounter.TABLE_WRITES);
    log.atInfo()
        .addKeyValue("table", "remove")
        .addKeyValue("service", service.toString())
        .log("table: {} -> origin (no replica left)", service);
  }

  /** "1,2". */
  private static String join(int[] values) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < values.length; i++) {
      sb.append(i == 0 ? "" : ",").append(values[i]);
    }
    return sb.toString();
  }

  private static String describe(String[] hs, int[] w) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < hs.length; i++) {
      sb.append(i == 0 ? "" : ", ").append(hs[i]).append(" w").append(w[i]);
    }
    return sb.toString();
  }

  /** Static services from the config file (applied on the control thread). */
  public void setStatic(List<Rib.StaticService> services) {
    submit(
        () -> {
          rib.setStatic(services);
          dirty = true;
        });
  }

  public Rib rib() {
    return rib;
  }

  @Override
  protected int role() {
    return Message.ROLE_REDIRECTOR;
  }

  @Override
  protected void onStart() {
    log.info(
        "control plane on {}:{}/udp, {} trusted node(s)",
        Addresses.format(settings.address()),
        settings.port(),
        trusted.size());
    for (Peer p : trusted.values()) {
      send(p, MessageType.HELLO, settings.holdMillis(), Message.ROLE_REDIRECTOR, List.of());
      send(p, MessageType.REQUEST, settings.holdMillis(), 0, List.of());
    }
  }

  @Override
  protected void handle(Message m, Peer from, long now) {
    boolean hostServer = from.role() == Message.ROLE_HOST_SERVER;
    boolean known =
        hostServer ? rib.knowsHostServer(from.address()) : rib.knowsPeer(from.address());
    if (m.holdMillis() == 0) {
      if (hostServer) {
        rib.hostServerLeft(from.address());
      } else {
        rib.peerLeft(from.address());
      }
      dirty = true;
      return;
    }
    if (hostServer) {
      rib.hostServerHeard(from.address(), from.cost(), m.holdMillis(), now);
    } else {
      rib.peerHeard(from.address(), from.cost(), m.holdMillis(), now);
    }
    switch (m.type()) {
      case HELLO -> {
        // Answer only a HELLO that opens the adjacency: two redirectors answering every HELLO
        // with a HELLO would echo them back and forth for ever, as fast as they can sign.
        if (!known) {
          send(from, MessageType.HELLO, settings.holdMillis(), Message.ROLE_REDIRECTOR, List.of());
        }
        if (hostServer) {
          send(from, MessageType.REQUEST, settings.holdMillis(), 0, List.of());
        } else {
          sendEntries(from, MessageType.UPDATE, rib.fullDumpFor(from.address()));
        }
      }
      case KEEPALIVE -> {
        if (!known) {
          // We restarted, or its HELLO was lost: ask for its state rather than wait for a refresh.
          send(from, MessageType.REQUEST, settings.holdMillis(), 0, List.of());
        }
      }
      case ANNOUNCE -> rib.hostServerAnnounce(from.address(), m.entries());
      case WITHDRAW -> rib.hostServerWithdraw(from.address(), m.entries());
      case UPDATE -> rib.peerUpdate(from.address(), m.entries(), now);
      case REQUEST -> {
        if (!hostServer) {
          sendEntries(from, MessageType.UPDATE, rib.fullDumpFor(from.address()));
        }
      }
    }
    // Only what can change the choice or the advertisements: a node newly heard, or routes.
    // Keepalives from known nodes (most of the traffic) cost no recomputation.
    if (!known
        || m.type() == MessageType.ANNOUNCE
        || m.type() == MessageType.WITHDRAW
        || m.type() == MessageType.UPDATE) {
      dirty = true;
    }
  }

  @Override
  protected void tick(long now) {
    List<Rib.Event> events = expire(now);
    if (dirty || now >= nextRecompute) {
      // Recompute at least once a second even when idle: flap damping releases with time.
      recompute(now, events);
    }
    if (now >= nextKeepalive) {
      nextKeepalive = now + settings.holdMillis() / 3 * 1_000_000L;
      sendKeepalives();
    }
    if (now >= nextRefresh) {
      nextRefresh = now + settings.refreshMillis() * 1_000_000L;
      sendFullDumps();
    }
  }

  /** Adjacencies whose hold time ran out: their events; a lost host server's flows released. */
  private List<Rib.Event> expire(long now) {
    List<Rib.Event> events = List.of();
    if (rib.expire(now)) {
      dirty = true;
      events = rib.drainEvents();
      for (Rib.Event e : events) {
        if (e.kind().equals("host-server-lost")) {
          // Before the writes that take it out of its services: then every flow pinned to it is
          // released at its next packet and counted, whichever command the forwarding thread has
          // applied when that packet comes (a flow moved by the writes alone would be uncounted).
          writer.hostServerDead(e.node());
        }
      }
    }
    return events;
  }

  /**
   * The routes committed, the figures for metrics updated, the adjacency events ({@code expired}'s
   * and the commit's) counted and logged, and the changes sent to the redirector peers.
   */
  private void recompute(long now, List<Rib.Event> expired) {
    Set<RouteKey> changed = rib.commit(now);
    dirty = false;
    hostServersUp = rib.hostServerCount();
    peersUp = rib.peerCount();
    services = rib.installed().size();
    nextRecompute = now + 1_000_000_000L;
    List<Rib.Event> all = new ArrayList<>(expired);
    all.addAll(rib.drainEvents());
    for (Rib.Event e : all) {
      adjacencyChanged(e);
    }
    if (!changed.isEmpty()) {
      sendTriggeredUpdates(changed);
    }
  }

  /** Adjacency changes (host-server-up/left/lost, peer-up/left/lost): "lost" is a failover. */
  private void adjacencyChanged(Rib.Event e) {
    if (e.kind().equals("host-server-lost")) {
      counters.increment(ControlCounter.HOST_SERVERS_LOST);
    } else if (e.kind().equals("peer-lost")) {
      counters.increment(ControlCounter.PEERS_LOST);
    }
    log.atInfo()
        .addKeyValue("event", e.kind())
        .addKeyValue("node", Addresses.format(e.node()))
        .addKeyValue("detail", e.detail())
        .log("{} {}: {}", e.kind(), Addresses.format(e.node()), e.detail());
  }

  /** To each redirector peer, what of {@code changed} it is to hear. */
  private void sendTriggeredUpdates(Set<RouteKey> changed) {
    for (Peer p : trusted.values()) {
      if (p.role() == Message.ROLE_REDIRECTOR) {
        List<Entry> update = rib.updateFor(p.address(), changed);
        if (!update.isEmpty()) {
          counters.increment(ControlCounter.TRIGGERED_UPDATES);
          sendEntries(p, MessageType.UPDATE, update);
        }
      }
    }
  }

  private void sendKeepalives() {
    for (Peer p : trusted.values()) {
      if (p.role() == Message.ROLE_REDIRECTOR) {
        send(p, MessageType.KEEPALIVE, settings.holdMillis(), 0, List.of());
      }
    }
  }

  /** To each redirector peer, all it is to hear: the periodic refresh. */
  private void sendFullDumps() {
    for (Peer p : trusted.values()) {
      if (p.role() == Message.ROLE_REDIRECTOR) {
        List<Entry> dump = rib.fullDumpFor(p.address());
        if (!dump.isEmpty()) {
          sendEntries(p, MessageType.UPDATE, dump);
        }
      }
    }
  }

  /** Host servers heard directly and alive, as of the last recomputation (any thread). */
  public int hostServersUp() {
    return hostServersUp;
  }

  /** Peer redirectors alive, as of the last recomputation (any thread). */
  public int peersUp() {
    return peersUp;
  }

  /** Services in the installed table, as of the last recomputation (any thread). */
  public int services() {
    return services;
  }

  /**
   * The table with each candidate's source, the host servers and peers heard with their state, and
   * every counter: what {@code hydranet ctl --json} and the status page show.
   */
  public record Snapshot(
      Map<Service, List<Rib.Candidate>> table,
      Map<Integer, String> hostServers,
      Map<Integer, String> peers,
      Map<String, Long> counters) {}

  /** The operator's view as data, built on the control thread. */
  public Snapshot snapshot() throws Exception {
    return query(
        () -> {
          long now = clock.getAsLong();
          Map<String, Long> c = new java.util.LinkedHashMap<>();
          for (ControlCounter k : ControlCounter.values()) {
            c.put(k.metricName(), counters.get(k));
          }
          return new Snapshot(rib.view(), rib.hostServers(now), rib.peers(now), c);
        });
  }

  /** The operator's view, built on the control thread. */
  public String show(String what) throws Exception {
    return query(() -> View.render(what, rib, counters, clock.getAsLong(), this::readsVersion));
  }
}
