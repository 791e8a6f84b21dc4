package net.hydranet.router.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import net.hydranet.control.ctl.CtlServer;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.router.config.ConfigException;
import net.hydranet.router.config.ConfigLoader;
import net.hydranet.router.config.ControlConfig;
import net.hydranet.router.config.RedirectorConfig;
import net.hydranet.router.daemon.Libpcap;
import net.hydranet.router.daemon.StatusFile;
import net.hydranet.router.daemon.redirector.Captures;
import net.hydranet.router.daemon.redirector.ConfigFiles;
import net.hydranet.router.daemon.redirector.KernelGuard;
import net.hydranet.router.daemon.redirector.KernelInterfaces;
import net.hydranet.router.daemon.redirector.KnownServices;
import net.hydranet.router.daemon.redirector.MetricsWiring;
import net.hydranet.router.daemon.redirector.RedirectorControl;
import net.hydranet.router.daemon.redirector.SecondChancePort;
import net.hydranet.router.liveness.LivenessLink;
import net.hydranet.router.metrics.ConfigReloads;
import net.hydranet.router.systemd.SdNotify;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code hydranet redirector}: the deployable redirector daemon between NICs. */
@Command(
    name = "redirector",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a redirector on the interfaces of its config: frames are captured with pcap,",
      "replicated services are tunnelled (IP-in-IP) to host servers, the rest is routed.",
      "The box's kernel must not forward too: net.ipv4.ip_forward=0 and GRO/LRO/GSO/TSO off",
      "on every interface named (checked at start). The config is re-read on SIGHUP and when",
      "the file changes: redirects are updated in place; changed interfaces, routes or",
      "neighbours are logged as needing a restart. --check only validates the config(s) and",
      "exits 0 or 2. SIGTERM drains the ring and exits.",
      "",
      "Example:",
      "  hydranet redirector --check --config /etc/hydranet/redirector.yaml",
      "  hydranet redirector --config /etc/hydranet/redirector.yaml --status /run/hydranet/status"
    })
public final class RedirectorCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(RedirectorCommand.class);

  @Option(names = "--config", required = true, description = "redirector YAML configuration")
  Path config;

  @Option(
      names = "--status",
      description = "write the table and counters to this file every second")
  Path status;

  @Option(
      names = "--metrics",
      defaultValue = "127.0.0.1:9464",
      description =
          "serve Prometheus /metrics and the status page /status on HOST:PORT, or 'off'"
              + " (${DEFAULT-VALUE})")
  String metricsAddress;

  @Option(
      names = "--control",
      description = {
        "control-plane YAML (see config/control-redirector.yaml): learn the table from host",
        "servers and peer redirectors over the HYDRANET routing protocol"
      })
  Path control;

  @Option(
      names = "--ctl-socket",
      description = "local operator socket for 'hydranet ctl' (/run/hydranet/redirector/ctl)")
  Path ctl = Path.of("/run/hydranet/redirector/ctl");

  @Option(names = "--ctl", hidden = true, description = "deprecated: --ctl-socket")
  void deprecatedCtl(Path path) {
    LOG.warn("--ctl is deprecated, use --ctl-socket");
    ctl = path;
  }

  @Option(
      names = "--table-wait",
      defaultValue = "2000",
      paramLabel = "MS",
      description = {
        "with --control: at start, forward only once every configured host server and",
        "redirector has been heard and its services learned, or after MS milliseconds (a node",
        "that is down); 0 forwards at once (${DEFAULT-VALUE})"
      })
  long tableWaitMillis;

  @Option(
      names = "--check",
      description = "check the config (and --control file) and exit: 0 valid, 2 not")
  boolean check;

  @Option(
      names = "--liveness-link",
      paramLabel = "NAME",
      description = {
        "hold a TUN interface NAME while the data path forwards (down while it stalls, gone",
        "with the process, even after SIGKILL): a BGP speaker announces this redirector's",
        "prefixes only while it is up (BIRD: a static route via \"NAME\" with check link;",
        "see config/bird/). SIGTERM removes it first and forwards "
            + LivenessLink.WITHDRAW_GRACE_MILLIS
            + " ms more."
      })
  String livenessLink;

  @Option(
      names = "--pipelines",
      paramLabel = "N",
      description = {
        "forwarding pipelines, each with its own capture per interface (PACKET_FANOUT by flow",
        "hash), ring, threads, connection table and counters; overrides limits.pipelines (1)"
      })
  Integer pipelines;

  @Option(
      names = "--skip-kernel-checks",
      description = "start even if ip_forward, offloads or an MTU are wrong (for experiments only)")
  boolean skipKernelChecks;

  private KernelGuard kernel;
  private final SecondChancePort secondChancePort = new SecondChancePort();
  private final Captures captures = new Captures();
  private final KnownServices services = new KnownServices();
  private final ConfigReloads reloads = new ConfigReloads();
  private RedirectorControl controlPlane;
  private MetricsWiring metrics;

  @Override
  public Integer call() throws Exception {
    if (check) {
      return configFiles().check();
    }
    Libpcap.require();
    kernel = new KernelGuard(skipKernelChecks);
    controlPlane = new RedirectorControl(control, services);
    metrics = new MetricsWiring(metricsAddress, controlPlane::agent, reloads, services);
    RedirectorConfig cfg = configFiles().load();
    ControlConfig controlConfig = configFiles().loadControl();
    kernel.check(cfg);
    try {
      kernel.installTransitDrop(cfg);
      secondChancePort.claim();
      captures.open(cfg);
      ForwardingPlane plane = captures.buildPlane(cfg);
      if (controlConfig != null) {
        controlPlane.start(controlConfig, plane, cfg);
        controlPlane.awaitTable(controlConfig, tableWaitMillis);
      }
      captures.start(plane);
      metrics.start(plane, cfg, captures.sources());
      CtlServer ctlServer = startCtl(plane);
      try {
        run(plane, cfg);
      } finally {
        ctlServer.close();
      }
      return 0;
    } finally {
      release();
    }
  }

  /** Stops what {@link #call} started, in reverse order; the shutdown hook waits for this. */
  private void release() {
    withdraw();
    metrics.stopSampler();
    controlPlane.close();
    metrics.close();
    captures.close();
    secondChancePort.close();
    try {
      kernel.removeTransitDrop();
    } finally {
      cleanedUp.countDown();
    }
  }

  /**
   * Counted down when {@link #call} has released everything. On SIGTERM the JVM halts as soon as
   * its shutdown hooks end, so the hook waits for this: without it the halt raced the clean-up here
   * and left, for one, the transit drop installed (seen in paper-fig3, whose next point, the
   * kernel's own forwarding, then saw every frame dropped).
   */
  private final CountDownLatch cleanedUp = new CountDownLatch(1);

  // The config the redirector started with: interfaces, routes and neighbours stay as in it.
  private RedirectorConfig startedWith;
  private final AtomicReference<LivenessLink> liveness = new AtomicReference<>();

  private CtlServer startCtl(ForwardingPlane plane) throws IOException {
    RedirectorViews views = new RedirectorViews(plane, controlPlane::agent);
    return CtlServer.start(ctl, views::answer);
  }

  private void run(ForwardingPlane plane, RedirectorConfig initial) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              if (withdraw()) {
                // The upstream moves the flows away while this redirector still forwards.
                try {
                  Thread.sleep(LivenessLink.WITHDRAW_GRACE_MILLIS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
              LOG.info("stopping: draining the ring");
              SdNotify.stopping("draining the ring");
              plane.close();
              stopped.countDown();
              try {
                if (!cleanedUp.await(10, TimeUnit.SECONDS)) {
                  LOG.warn("stopping: clean-up not done after 10 s, exiting anyway");
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "hydranet-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    Hangup hangup = Hangup.install();
    LOG.info("forwarding");
    SdNotify.ready("forwarding", r -> everyPipeline(plane, r), plane::receiveError);
    openLiveness(plane);
    startedWith = initial;
    RedirectorConfig current = initial;
    long nextStatus = System.nanoTime();
    FileTime seen = modified(config);
    while (!plane.awaitEnd(200)) {
      FileTime now = modified(config);
      boolean changed = now != null && !now.equals(seen);
      boolean hup = hangup.take();
      if (hup || changed) {
        LOG.info("reloading {} ({})", config, hup ? "SIGHUP" : "the file changed");
        seen = now;
        SdNotify.reloading();
        current = reload(plane, current);
        SdNotify.reloaded("forwarding");
      }
      if (status != null && System.nanoTime() - nextStatus >= 0) {
        nextStatus = System.nanoTime() + 1_000_000_000L;
        writeStatus(plane, current);
      }
      if (plane.receiveError() != null) {
        LOG.error("receive failed: {}", plane.receiveError().getMessage());
        break;
      }
    }
    stopped.await();
  }

  private ConfigFiles configFiles() {
    return new ConfigFiles(config, control, pipelines);
  }

  /** {@code --liveness-link}: created once the data path forwards, so it is never early. */
  private void openLiveness(ForwardingPlane plane) {
    if (livenessLink == null) {
      return;
    }
    try {
      liveness.set(
          LivenessLink.open(livenessLink, r -> everyPipeline(plane, r), plane::receiveError));
    } catch (IOException | IllegalArgumentException e) {
      plane.close();
      throw new UserError("--liveness-link " + livenessLink + ": " + e.getMessage());
    }
  }

  /** Removes the liveness link if it is held; true if it was. */
  private boolean withdraw() {
    LivenessLink l = liveness.getAndSet(null);
    if (l == null) {
      return false;
    }
    l.close();
    return true;
  }

  /**
   * Runs {@code r} once every pipeline's forwarding thread has answered: the watchdog's ping, so a
   * stuck pipeline stops it whichever pipeline it is.
   */
  private static void everyPipeline(ForwardingPlane plane, Runnable r) {
    java.util.concurrent.atomic.AtomicInteger left =
        new java.util.concurrent.atomic.AtomicInteger(plane.pipelines());
    for (int i = 0; i < plane.pipelines(); i++) {
      plane.snapshot(
          i,
          p -> {
            if (left.decrementAndGet() == 0) {
              r.run();
            }
          });
    }
  }

  /** Applies the redirects of a changed config; interfaces and routes need a restart. */
  private RedirectorConfig reload(ForwardingPlane plane, RedirectorConfig current) {
    RedirectorConfig next;
    try {
      next = ConfigLoader.load(config, KernelInterfaces.KERNEL);
    } catch (ConfigException e) {
      reloads.failed();
      LOG.atError()
          .addKeyValue("event", "config-invalid")
          .log("config changed but is not valid, keeping the running one: {}", e.getMessage());
      return current;
    }
    List<String> restart = needRestart(startedWith, next);
    if (!restart.isEmpty()) {
      reloads.restartNeeded(restart);
      LOG.atWarn()
          .addKeyValue("event", "config-restart-needed")
          .addKeyValue("sections", String.join(",", restart))
          .log(
              "config changed in {}: applies only after a restart; the running ones stay",
              String.join(", ", restart));
    }
    reloads.succeeded();
    reload6(plane, current, next);
    if (controlPlane.agent() != null) {
      controlPlane.agent().setStatic(RedirectorControl.statics(next));
      LOG.atInfo()
          .addKeyValue("event", "config-changed")
          .addKeyValue("redirects", next.redirects().size())
          .log(
              "config changed: {} static redirects handed to the control plane",
              next.redirects().size());
      services.changed(next);
      return next;
    }
    Set<String> keep = new HashSet<>();
    for (RedirectorConfig.Redirect r : next.redirects()) {
      plane.addRedirect(r.address(), r.protocol(), r.port(), r.hostServers(), r.weights());
      keep.add(key(r));
    }
    int removed = 0;
    for (RedirectorConfig.Redirect r : current.redirects()) {
      if (!keep.contains(key(r))) {
        plane.removeRedirect(r.address(), r.protocol(), r.port());
        removed++;
      }
    }
    LOG.atInfo()
        .addKeyValue("event", "config-changed")
        .addKeyValue("redirects", next.redirects().size())
        .addKeyValue("removed", removed)
        .log("config changed: {} redirects applied, {} removed", next.redirects().size(), removed);
    services.changed(next);
    return next;
  }

  /**
   * Applies the IPv6 redirects of a changed config straight to the plane (the control plane's
   * static services are IPv4 until its version 2 carries IPv6 ones) and removes those gone.
   */
  private static void reload6(
      ForwardingPlane plane, RedirectorConfig current, RedirectorConfig next) {
    Set<String> keep = new HashSet<>();
    for (RedirectorConfig.Redirect6 r : next.redirects6()) {
      RedirectorConfig.apply(plane, r);
      keep.add(r.service());
    }
    for (RedirectorConfig.Redirect6 r : current.redirects6()) {
      if (!keep.contains(r.service())) {
        plane.removeRedirect6(r.addressHigh(), r.addressLow(), r.protocol(), r.port());
      }
    }
  }

  /** The sections a running redirector cannot change: they take a restart. */
  static List<String> needRestart(RedirectorConfig running, RedirectorConfig next) {
    List<String> out = new ArrayList<>();
    if (!running.context().interfaces().equals(next.context().interfaces())
        || !running.context().addresses6().equals(next.context().addresses6())) {
      out.add("interfaces");
    }
    if (!running.routes().equals(next.routes()) || !running.routes6().equals(next.routes6())) {
      out.add("routes");
    }
    if (!running.neighbours().equals(next.neighbours())
        || !running.neighbours6().equals(next.neighbours6())) {
      out.add("neighbours");
    }
    if (running.context().dropTransit() != next.context().dropTransit()) {
      out.add("dropTransit");
    }
    if (!java.util.Arrays.equals(
        running.context().gueHostServers(), next.context().gueHostServers())) {
      out.add("encapsulation");
    }
    return out;
  }

  private static String key(RedirectorConfig.Redirect r) {
    return r.address() + "/" + r.protocol() + "/" + r.port();
  }

  private static FileTime modified(Path file) {
    try {
      return Files.getLastModifiedTime(file);
    } catch (IOException e) {
      return null;
    }
  }

  private void writeStatus(ForwardingPlane plane, RedirectorConfig cfg) {
    // The table is the forwarding thread's: read it there, as a queued command.
    plane.snapshot(
        p -> {
          StringBuilder sb = new StringBuilder();
          java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
          try (java.io.PrintStream ps =
              new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8)) {
            Summary.print(ps, p);
          }
          sb.append(bytes.toString(java.nio.charset.StandardCharsets.UTF_8));
          StatusFile.write(status, sb, LOG);
        });
  }
}
