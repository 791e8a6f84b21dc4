package net.hydranet.control.agent;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import net.hydranet.control.auth.Gatekeeper;
import net.hydranet.control.auth.Peer;
import net.hydranet.control.auth.Signer;
import net.hydranet.control.wire.Addresses;
import net.hydranet.control.wire.Codec;
import net.hydranet.control.wire.Entry;
import net.hydranet.control.wire.Message;
import net.hydranet.control.wire.MessageType;
import net.hydranet.control.wire.Service;
import org.slf4j.LoggerFactory;

/**
 * A host server's protocol agent: tells its redirectors which service access points its virtual
 * hosts serve. Every change is announced at once (the complete set, so a lost message is healed by
 * the next), the set is re-announced every refresh interval, and a KEEPALIVE goes every third of
 * the hold time. {@link #drainAndLeave} is the graceful shutdown: weight 0 first (established
 * connections finish, new ones go elsewhere), then WITHDRAW and a goodbye (hold time 0).
 */
public final class HostServerAgent extends ControlAgent {
  private final Map<Service, Entry> services = new TreeMap<>();
  // Services announced at weight 0 whatever their entry says, even if bound again (a replica
  // being removed): new flows go elsewhere, pinned ones finish here.
  private final Set<Service> drained = new HashSet<>();
  private final List<Peer> redirectors = new ArrayList<>();
  private final int weight;
  private final IntSupplier load;
  private boolean draining;
  private boolean changed = true;
  private long nextKeepalive;
  private long nextRefresh;

  public HostServerAgent(
      Settings settings, Signer signer, Gatekeeper gatekeeper, int weight, IntSupplier load)
      throws IOException {
    super(
        "hydranet-control",
        settings,
        signer,
        gatekeeper,
        LoggerFactory.getLogger(HostServerAgent.class));
    if (weight < 0 || weight > Codec.MAX_WEIGHT) {
      throw new IllegalArgumentException(
          "weight " + weight + " is outside [0, " + Codec.MAX_WEIGHT + "]");
    }
    this.weight = weight;
    this.load = load;
    for (Peer p : gatekeeper.trusted().values()) {
      if (p.role() == Message.ROLE_REDIRECTOR) {
        redirectors.add(p);
      }
    }
  }

  /** A virtual host listens on (origin, protocol, port): announce it. Any thread. */
  public void portBound(int origin, int protocol, int port) {
    portBound(Service.ipv4(origin, protocol, port));
  }

  /** A virtual host listens on the service (IPv4 or IPv6 origin): announce it. Any thread. */
  public void portBound(Service service) {
    submit(
        () -> {
          int protocol = service.protocol();
          int port = service.port();
          boolean unicast =
              service.isIpv4()
                  ? Codec.unicast(service.ipv4Origin())
                  : Addresses.unicastIpv6(service.high(), service.low());
          if (!unicast || (protocol != 6 && protocol != 17) || port < 1 || port > 0xffff) {
            // The codec would refuse the whole set, every tick, and nothing would be announced.
            log.warn("not announcing {}: not a service access point", service);
            return;
          }
          if (services.containsKey(service)) {
            return;
          }
          // An ANNOUNCE is the complete set in one message: 109 entries in version 1, 54 once one
          // of them is IPv6 and the set needs version 2's larger entries.
          boolean ipv6 = !service.isIpv4() || hasIpv6();
          int max = ipv6 ? Codec.MAX_ANNOUNCE_ENTRIES_V2 : Codec.MAX_ANNOUNCE_ENTRIES;
          if (services.size() >= max) {
            log.warn(
                "not announcing {}: one host server announces at most {} services{}",
                service,
                max,
                ipv6 ? " when one is IPv6" : "");
            return;
          }
          services.put(service, new Entry(service, settings.address(), weight, 0, 0));
          changed = true;
        });
  }

  private boolean hasIpv6() {
    for (Service s : services.keySet()) {
      if (!s.isIpv4()) {
        return true;
      }
    }
    return false;
  }

  /** The socket closed or its process exited: withdraw it now. Any thread. */
  public void portClosed(int origin, int protocol, int port) {
    portClosed(Service.ipv4(origin, protocol, port));
  }

  /** The service's socket closed or its process exited: withdraw it now. Any thread. */
  public void portClosed(Service key) {
    submit(
        () -> {
          Entry e = services.remove(key);
          drained.remove(key); // a replica binding it later is announced normally
          if (e != null) {
            for (Peer r : redirectors) {
              send(r, MessageType.WITHDRAW, settings.holdMillis(), 0, List.of(e));
            }
            changed = true;
          }
        });
  }

  /**
   * Announce (origin, protocol, port) at weight 0 from now on, bound or not, until {@link
   * #undrainService}: the replica behind it is being removed. Any thread.
   */
  public void drainService(int origin, int protocol, int port) {
    drainService(Service.ipv4(origin, protocol, port));
  }

  /** {@link #drainService(int, int, int)} for a service of either family. Any thread. */
  public void drainService(Service service) {
    submit(
        () -> {
          if (drained.add(service)) {
            log.atInfo()
                .addKeyValue("event", "drain")
                .addKeyValue("service", service.toString())
                .log("draining {}: weight 0", service);
            changed = true;
          }
        });
  }

  /**
   * The drained service's replica is gone: a new one may be announced normally. Any thread.
   *
   * <p>While the port is still announced, its virtual host has not withdrawn it yet (the host
   * server learns that from its next scan): the mark stays, and {@link #portClosed} clears it.
   * Announcing the port at full weight in between sent new connections to a virtual host that no
   * longer existed, and the client saw "No route to host" (HydraWebIT, removal under load).
   */
  public void undrainService(int origin, int protocol, int port) {
    undrainService(Service.ipv4(origin, protocol, port));
  }

  /** {@link #undrainService(int, int, int)} for a service of either family. Any thread. */
  public void undrainService(Service key) {
    submit(
        () -> {
          if (!services.containsKey(key) && drained.remove(key)) {
            changed = true;
          }
        });
  }

  /**
   * Graceful shutdown: announce weight 0, wait {@code drainMillis} for established connections,
   * withdraw everything and say goodbye. Blocks the caller (a shutdown hook) for the drain.
   */
  public void drainAndLeave(long drainMillis) throws InterruptedException {
    CountDownLatch drained = new CountDownLatch(1);
    submit(
        () -> {
          draining = true;
          changed = true;
          log.atInfo()
              .addKeyValue("event", "leave")
              .addKeyValue("drain_ms", drainMillis)
              .log("draining: weight 0 announced; leaving in {} ms", drainMillis);
          drained.countDown();
        });
    drained.await(2, TimeUnit.SECONDS);
    Thread.sleep(drainMillis);
    CountDownLatch left = new CountDownLatch(1);
    submit(
        () -> {
          List<Entry> all = List.copyOf(services.values());
          for (Peer r : redirectors) {
            if (!all.isEmpty()) {
              sendEntries(r, MessageType.WITHDRAW, all);
            }
            send(r, MessageType.KEEPALIVE, 0, 0, List.of());
          }
          services.clear();
          left.countDown();
        });
    left.await(2, TimeUnit.SECONDS);
  }

  @Override
  protected int role() {
    return Message.ROLE_HOST_SERVER;
  }

  @Override
  protected void onStart() {
    log.info(
        "control plane on {}:{}/udp, announcing to {} redirector(s)",
        Addresses.format(settings.address()),
        settings.port(),
        redirectors.size());
    for (Peer r : redirectors) {
      send(r, MessageType.HELLO, settings.holdMillis(), Message.ROLE_HOST_SERVER, List.of());
    }
  }

  @Override
  protected void handle(Message m, Peer from, long now) {
    if (from.role() != Message.ROLE_REDIRECTOR) {
      return;
    }
    if (m.type() == MessageType.REQUEST || m.type() == MessageType.HELLO) {
      if (m.type() == MessageType.HELLO) {
        send(from, MessageType.KEEPALIVE, settings.holdMillis(), 0, List.of());
      }
      sendEntries(from, MessageType.ANNOUNCE, current());
    }
  }

  private List<Entry> current() {
    int l = Math.max(0, Math.min(Codec.MAX_LOAD, load.getAsInt()));
    List<Entry> out = new ArrayList<>(services.size());
    for (Entry e : services.values()) {
      out.add(
          new Entry(
              e.service(),
              e.hostServer(),
              draining || drained.contains(e.service()) ? 0 : e.weight(),
              l,
              0));
    }
    return out;
  }

  @Override
  protected void tick(long now) {
    if (changed || now >= nextRefresh) {
      changed = false;
      nextRefresh = now + settings.refreshMillis() * 1_000_000L;
      nextKeepalive = now + settings.holdMillis() / 3 * 1_000_000L;
      List<Entry> set = current();
      for (Peer r : redirectors) {
        sendEntries(r, MessageType.ANNOUNCE, set);
      }
      return;
    }
    if (now >= nextKeepalive) {
      nextKeepalive = now + settings.holdMillis() / 3 * 1_000_000L;
      for (Peer r : redirectors) {
        send(r, MessageType.KEEPALIVE, settings.holdMillis(), 0, List.of());
      }
    }
  }

  /** What this host server announces, to whom, and its counters: {@code hydranet ctl --json}. */
  public record Announced(
      List<Entry> entries,
      boolean draining,
      List<Integer> redirectors,
      Map<String, Long> counters) {}

  /** {@link #show()} as data, built on the control thread. */
  public Announced announced() throws Exception {
    return query(
        () -> {
          List<Integer> to = new ArrayList<>();
          for (Peer r : redirectors) {
            to.add(r.address());
          }
          Map<String, Long> c = new java.util.LinkedHashMap<>();
          for (ControlCounter k : ControlCounter.values()) {
            c.put(k.metricName(), counters.get(k));
          }
          return new Announced(List.copyOf(current()), draining, List.copyOf(to), c);
        });
  }

  /** What this host server announces, for {@code hydranet ctl}. */
  public String show() throws Exception {
    return query(
        () -> {
          StringBuilder sb = new StringBuilder("announced service access points");
          sb.append(draining ? " (DRAINING)\n" : "\n");
          for (Entry e : current()) {
            sb.append(String.format("  %s weight %d load %d%n", e.service(), e.weight(), e.load()));
          }
          sb.append("redirectors\n");
          for (Peer r : redirectors) {
            int v = readsVersion(r.address());
            sb.append("  ")
                .append(Addresses.format(r.address()))
                .append(v == 0 ? " (protocol version not heard yet)" : " (reads version " + v + ")")
                .append('\n');
          }
          View.counters(sb, counters);
          return sb.toString();
        });
  }
}
