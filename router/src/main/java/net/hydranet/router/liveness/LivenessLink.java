package net.hydranet.router.liveness;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import net.hydranet.forwarding.io.live.TunDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The redirector's liveness as a network interface a routing daemon can watch: a TUN interface that
 * exists only while this process holds its descriptor, and is up only while the forwarding thread
 * answers probes.
 *
 * <p>Why an interface: behind ECMP, each redirector's BGP speaker (BIRD) must withdraw the prefixes
 * it serves as soon as the redirector stops forwarding, and a process killed with SIGKILL runs no
 * hook. The kernel closes every descriptor of a dead process, and a TUN interface that is not
 * persistent is deleted with its last descriptor; BIRD hears the deletion over netlink at once and
 * drops a {@code protocol static} route {@code via "NAME"} ({@code check link} also drops it while
 * the link is down), so the withdrawal needs no supervisor, no polling and no cooperation from the
 * dying process (EcmpIT measured 26 and 51 ms from SIGKILL to the upstream's kernel route at a load
 * of 29 and 41 on two cores; README, "Several redirectors behind ECMP"). A JVM alive around a
 * stalled data path sets the link down the same way: every period a probe is posted to the
 * forwarding thread's command queue, as the systemd watchdog does, and {@code misses} periods
 * without an answer (or a receive error) take the link down until probes run again.
 */
public final class LivenessLink implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LivenessLink.class);

  /** How often a probe is posted to the forwarding thread. */
  public static final long DEFAULT_PERIOD_MILLIS = 100;

  /** Periods without an answer before the link goes down: 300 ms at the default period. */
  public static final int DEFAULT_MISSES = 3;

  /**
   * How long a redirector stopped with SIGTERM keeps forwarding after it withdrew, so packets
   * already on their way still find a forwarding plane: the upstream moved the flows 15 and 208 ms
   * after SIGTERM in EcmpIT (load 29 and 41 on two cores).
   */
  public static final long WITHDRAW_GRACE_MILLIS = 500;

  /** Sets the interface's administrative state. */
  @FunctionalInterface
  public interface LinkState {
    void set(String name, boolean up) throws IOException;
  }

  private final String name;
  private final AutoCloseable holder;
  private final LinkState state;
  private final Consumer<Runnable> post;
  private final Supplier<Object> problem;
  private final int misses;
  private final AtomicLong posted = new AtomicLong();
  private final AtomicLong answered = new AtomicLong();
  private int missed;
  private boolean up = true;
  private volatile boolean closed;
  private Thread prober;

  /**
   * A link already created and up.
   *
   * @param holder closing it removes the interface (the TUN descriptor)
   * @param post runs a task on the forwarding thread (its command queue)
   * @param problem a receive error of the data path, or null
   */
  LivenessLink(
      String name,
      AutoCloseable holder,
      LinkState state,
      Consumer<Runnable> post,
      Supplier<Object> problem,
      int misses) {
    if (misses < 1) {
      throw new IllegalArgumentException("misses must be at least 1, was " + misses);
    }
    this.name = name;
    this.holder = holder;
    this.state = state;
    this.post = post;
    this.problem = problem;
    this.misses = misses;
  }

  /**
   * Creates the TUN interface {@code name}, sets it up, and probes the data path every {@link
   * #DEFAULT_PERIOD_MILLIS} ms.
   *
   * @throws IOException if the interface cannot be created (needs CAP_NET_ADMIN and {@code
   *     /dev/net/tun}) or set up
   */
  public static LivenessLink open(String name, Consumer<Runnable> post, Supplier<Object> problem)
      throws IOException {
    TunDevice tun = TunDevice.open(name);
    LinkState ip = LivenessLink::ipLinkSet;
    try {
      ip.set(tun.name(), true);
    } catch (IOException e) {
      tun.close();
      throw e;
    }
    LivenessLink link = new LivenessLink(tun.name(), tun, ip, post, problem, DEFAULT_MISSES);
    link.start(DEFAULT_PERIOD_MILLIS);
    LOG.atInfo()
        .addKeyValue("event", "liveness-up")
        .addKeyValue("link", tun.name())
        .log("liveness link {} is up: the routing daemon may announce this redirector", tun.name());
    return link;
  }

  public String name() {
    return name;
  }

  /** Whether the link is up now (the data path answered within the last {@code misses} periods). */
  public synchronized boolean up() {
    return up;
  }

  /**
   * One probe period: checks that the probe posted last period ran and the data path reports no
   * error, takes the link down after {@code misses} failed periods or up after a good one, and
   * posts the next probe once the last one has run.
   *
   * @return whether this period was good
   */
  synchronized boolean tick() {
    long p = posted.get();
    Object why = problem.get();
    boolean well = why == null && answered.get() == p;
    if (well) {
      missed = 0;
      if (!up) {
        change(true, "the data path answers again");
      }
    } else if (++missed >= misses && up) {
      change(
          false,
          why != null
              ? "the data path failed: " + why
              : "the forwarding thread ran no probe for " + missed + " periods");
    }
    if (answered.get() == p) {
      long next = p + 1;
      posted.set(next);
      post.accept(() -> answered.set(next));
    }
    return well;
  }

  private void change(boolean toUp, String why) {
    try {
      state.set(name, toUp);
      up = toUp;
      LOG.atWarn()
          .addKeyValue("event", toUp ? "liveness-up" : "liveness-down")
          .addKeyValue("link", name)
          .log("liveness link {} set {}: {}", name, toUp ? "up" : "down", why);
    } catch (IOException e) {
      LOG.atError()
          .addKeyValue("event", "liveness-failed")
          .addKeyValue("link", name)
          .log("cannot set liveness link {} {}: {}", name, toUp ? "up" : "down", e.getMessage());
    }
  }

  private void start(long periodMillis) {
    Thread t =
        new Thread(
            () -> {
              while (!closed) {
                tick();
                try {
                  Thread.sleep(periodMillis);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "hydranet-liveness");
    t.setDaemon(true);
    prober = t;
    t.start();
  }

  /** Removes the interface: the routing daemon withdraws this redirector's prefixes. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    if (prober != null) {
      prober.interrupt();
    }
    try {
      holder.close();
    } catch (Exception e) {
      LOG.warn("closing liveness link {}: {}", name, e.getMessage());
    }
    LOG.atInfo()
        .addKeyValue("event", "liveness-withdrawn")
        .addKeyValue("link", name)
        .log("liveness link {} removed: the routing daemon withdraws this redirector", name);
  }

  /** {@code ip link set dev NAME up|down} (iproute2, a dependency of the package). */
  private static void ipLinkSet(String name, boolean up) throws IOException {
    List<String> cmd = List.of("ip", "link", "set", "dev", name, up ? "up" : "down");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try {
      if (!p.waitFor(5, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", cmd) + ": no answer within 5 s");
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (p.exitValue() != 0) {
        throw new IOException(String.join(" ", cmd) + ": " + out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new IOException(String.join(" ", cmd) + ": interrupted", e);
    }
  }
}
