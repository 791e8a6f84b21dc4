package net.hydranet.router.cli;

import com.lmax.disruptor.LiteBlockingWaitStrategy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import net.hydranet.control.agent.RedirectorAgent;
import net.hydranet.control.ctl.CtlServer;
import net.hydranet.control.rib.Rib;
import net.hydranet.control.rib.TableWriter;
import net.hydranet.control.wire.Entry;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.io.FrameSource;
import net.hydranet.forwarding.io.FrameWait;
import net.hydranet.forwarding.io.TxPort;
import net.hydranet.forwarding.io.live.KernelChecks;
import net.hydranet.forwarding.io.live.LivePcapSource;
import net.hydranet.forwarding.io.live.PcapWait;
import net.hydranet.forwarding.io.live.TransitDrop;
import net.hydranet.forwarding.pipeline.Pipeline;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.router.config.ConfigException;
import net.hydranet.router.config.ConfigLoader;
import net.hydranet.router.config.ControlConfig;
import net.hydranet.router.config.ControlConfigLoader;
import net.hydranet.router.config.RedirectorConfig;
import net.hydranet.router.control.ControlPlane;
import net.hydranet.router.metrics.ConfigReloads;
import net.hydranet.router.metrics.ControlMetrics;
import net.hydranet.router.metrics.ForwardingMetrics;
import net.hydranet.router.metrics.MetricsEndpoint;
import net.hydranet.router.metrics.Sampler;
import net.hydranet.router.status.StatusPage;
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
      names = "--check",
      description = "check the config (and --control file) and exit: 0 valid, 2 not")
  boolean check;

  @Option(
      names = "--skip-kernel-checks",
      description = "start even if ip_forward or offloads are wrong (for experiments only)")
  boolean skipKernelChecks;

  @Override
  public Integer call() throws Exception {
    if (check) {
      return checkOnly();
    }
    checkLibpcap();
    RedirectorConfig cfg = load();
    ControlConfig controlConfig = loadControl();
    checkKernel(cfg);
    try {
      installTransitDrop(cfg);
      claimSecondChancePort();
      openInterfaces(cfg);
      ForwardingPlane plane = startPlane(cfg);
      startMetrics(plane, cfg);
      if (controlConfig != null) {
        agent = startControl(controlConfig, plane, cfg);
      }
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

  /** {@code --check}: one line, exit 0; or the first problem through UserError, exit 2. */
  private int checkOnly() {
    RedirectorConfig cfg = load();
    loadControl();
    System.out.printf(
        "%s: valid (%d interfaces, %d routes, %d redirects%s)%n",
        config,
        cfg.context().interfaces().size(),
        cfg.routes().size(),
        cfg.redirects().size(),
        control == null ? "" : "; control " + control + " valid");
    return 0;
  }

  private static void checkLibpcap() {
    Optional<String> libpcap = KernelChecks.libpcapProblem();
    if (libpcap.isPresent()) {
      throw new UserError(libpcap.get());
    }
  }

  private ControlConfig loadControl() {
    if (control == null) {
      return null;
    }
    try {
      return ControlConfigLoader.load(control);
    } catch (ConfigException e) {
      throw new UserError(e.getMessage());
    }
  }

  private static List<String> interfaceNames(RedirectorConfig cfg) {
    List<String> names = new ArrayList<>();
    for (RouterInterface i : cfg.context().interfaces()) {
      names.add(i.name());
    }
    return names;
  }

  /** ip_forward off and offloads off on every interface, or a refusal naming what is wrong. */
  private void checkKernel(RedirectorConfig cfg) {
    List<String> problems = KernelChecks.check(interfaceNames(cfg));
    if (!problems.isEmpty()) {
      if (!skipKernelChecks) {
        throw new UserError(String.join("; ", problems));
      }
      problems.forEach(p -> LOG.warn("kernel check ignored: {}", p));
    }
  }

  private void installTransitDrop(RedirectorConfig cfg) {
    if (!cfg.context().dropTransit()) {
      return;
    }
    List<String> names = interfaceNames(cfg);
    try {
      transitDrop = TransitDrop.install(List.of("nft"), names);
      LOG.info(
          "the kernel drops transit frames at ingress on {} after capture (nft table netdev {})",
          names,
          TransitDrop.TABLE);
    } catch (IOException e) {
      LOG.warn(
          "transit frames not dropped at ingress, the kernel runs IP input on each: {}",
          e.getMessage());
    }
  }

  /**
   * Binds the second-chance tunnel's UDP port, never read: host servers pass packets back to us
   * there for the origin (TunnelToOrigin takes them from the capture), and without a socket the
   * kernel would answer each with ICMP port-unreachable. Not fatal: without it we forward anyway.
   */
  private void claimSecondChancePort() {
    try {
      java.nio.channels.DatagramChannel c = java.nio.channels.DatagramChannel.open();
      c.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 1);
      c.bind(new java.net.InetSocketAddress(net.hydranet.forwarding.wire.GueHeader.PORT));
      secondChancePort = c;
    } catch (IOException e) {
      LOG.warn(
          "UDP port {} not bound: the kernel answers host servers' pass-ons with"
              + " port-unreachable (they are forwarded anyway): {}",
          net.hydranet.forwarding.wire.GueHeader.PORT,
          e.getMessage());
    }
  }

  private void openInterfaces(RedirectorConfig cfg) {
    ports = new TxPort[cfg.context().interfaces().size()];
    for (RouterInterface i : cfg.context().interfaces()) {
      try {
        LivePcapSource source =
            LivePcapSource.open(i.name(), new LivePcapSource.Options().ingress(i.index()));
        sources.add(source);
        ports[i.index()] = source.txPort();
      } catch (IOException e) {
        throw new UserError(e.getMessage());
      }
    }
  }

  /** The forwarding plane over the open interfaces, filled from the config and started. */
  private ForwardingPlane startPlane(RedirectorConfig cfg) {
    ForwardingPlane plane = new ForwardingPlane(cfg.context(), ports);
    cfg.applyTo(plane);
    logStartup(cfg);
    FrameWait frameWait;
    try {
      frameWait = PcapWait.of(sources);
    } catch (IOException e) {
      frameWait = null;
      LOG.warn("the receive thread will poll even when idle: {}", e.getMessage());
    }
    plane.start(
        sources.toArray(new FrameSource[0]),
        Pipeline.Clock.LIVE,
        new LiteBlockingWaitStrategy(),
        frameWait);
    return plane;
  }

  private void startMetrics(ForwardingPlane plane, RedirectorConfig cfg) {
    if (metricsAddress.equals("off")) {
      return;
    }
    try {
      metrics = MetricsEndpoint.start(metricsAddress);
    } catch (IllegalArgumentException e) {
      plane.close();
      throw new UserError(e.getMessage());
    }
    meters =
        new ForwardingMetrics(metrics.registry(), plane).interfaces(sources).ring(plane.pipeline());
    meters.services(services(cfg));
    reloads.bind(metrics.registry());
    sampler = new Sampler(plane, 1_000);
    meters.targets(sampler);
    sampler.start();
    StatusPage page = new StatusPage(sampler, () -> agent, metricsAddress);
    metrics.page("/status", "text/html; charset=utf-8", page::render);
    LOG.info("metrics on http://{}/metrics, status page on /status", metricsAddress);
  }

  /** Stops what {@link #call} started, in reverse order; the shutdown hook waits for this. */
  private void release() {
    if (sampler != null) {
      sampler.close();
    }
    if (agent != null) {
      agent.close();
    }
    if (metrics != null) {
      metrics.close();
    }
    for (LivePcapSource s : sources) {
      s.close();
    }
    if (secondChancePort != null) {
      try {
        secondChancePort.close();
      } catch (IOException e) {
        LOG.debug("closing the second-chance port: {}", e.getMessage());
      }
    }
    try {
      if (transitDrop != null) {
        transitDrop.close();
      }
    } catch (IOException e) {
      LOG.warn("cannot remove nft table netdev {}: {}", TransitDrop.TABLE, e.getMessage());
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

  private final List<LivePcapSource> sources = new ArrayList<>();
  private TxPort[] ports;
  private TransitDrop transitDrop;
  private java.nio.channels.DatagramChannel secondChancePort;
  private MetricsEndpoint metrics;
  private ForwardingMetrics meters;
  private Sampler sampler;
  private final ConfigReloads reloads = new ConfigReloads();
  // The config the redirector started with: interfaces, routes and neighbours stay as in it.
  private RedirectorConfig startedWith;
  private RedirectorAgent agent;
  private final Set<Long> learned = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * Starts the control plane. Its table writes go through the forwarding plane's command queue;
   * static redirects from the config file join its RIB (they override learned ones).
   */
  private RedirectorAgent startControl(ControlConfig c, ForwardingPlane plane, RedirectorConfig cfg)
      throws IOException {
    TableWriter writer =
        new TableWriter() {
          @Override
          public void put(int origin, int protocol, int port, int[] hostServers, int[] weights) {
            plane.addRedirect(origin, protocol, port, hostServers, weights);
            learned.add(Entry.service(origin, protocol, port));
            servicesChanged(cfg);
          }

          @Override
          public void remove(int origin, int protocol, int port) {
            plane.removeRedirect(origin, protocol, port);
            learned.remove(Entry.service(origin, protocol, port));
            servicesChanged(cfg);
          }
        };
    RedirectorAgent a;
    try {
      a = ControlPlane.redirector(c, writer, plane.context().maxHostServers());
    } catch (ConfigException e) {
      throw new UserError(control + ": " + e.getMessage());
    }
    a.setStatic(statics(cfg));
    if (metrics != null) {
      ControlMetrics.bindRedirector(metrics.registry(), a);
    }
    a.start();
    return a;
  }

  private static List<Rib.StaticService> statics(RedirectorConfig cfg) {
    List<Rib.StaticService> out = new ArrayList<>();
    for (RedirectorConfig.Redirect r : cfg.redirects()) {
      out.add(
          new Rib.StaticService(
              Entry.service(r.address(), r.protocol(), r.port()), r.hostServers(), r.weights()));
    }
    return out;
  }

  private void servicesChanged(RedirectorConfig cfg) {
    if (meters == null) {
      return;
    }
    Set<Long> all = new java.util.TreeSet<>(learned);
    for (int[] s : services(cfg)) {
      all.add(Entry.service(s[0], s[1], s[2]));
    }
    List<int[]> list = new ArrayList<>();
    for (long s : all) {
      list.add(new int[] {Entry.serviceOrigin(s), Entry.serviceProtocol(s), Entry.servicePort(s)});
    }
    meters.services(list);
  }

  private CtlServer startCtl(ForwardingPlane plane) throws IOException {
    RedirectorViews views = new RedirectorViews(plane, () -> agent);
    return CtlServer.start(ctl, views::answer);
  }

  private static List<int[]> services(RedirectorConfig cfg) {
    List<int[]> out = new ArrayList<>();
    for (RedirectorConfig.Redirect r : cfg.redirects()) {
      out.add(new int[] {r.address(), r.protocol(), r.port()});
    }
    return out;
  }

  private RedirectorConfig load() {
    try {
      return ConfigLoader.load(config, RedirectorCommand::osMac);
    } catch (ConfigException e) {
      throw new UserError(e.getMessage());
    }
  }

  /** Reads an interface's MAC from sysfs, for configs that leave MACs out. */
  static long osMac(String name) {
    if (!KernelChecks.interfaceExists(name)) {
      throw new IllegalArgumentException("no interface '" + name + "' on this host");
    }
    try {
      byte[] mac = KernelChecks.mac(name);
      long value = 0;
      for (byte b : mac) {
        value = (value << 8) | (b & 0xFF);
      }
      return value;
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read the MAC of '" + name + "': " + e.getMessage());
    }
  }

  private void run(ForwardingPlane plane, RedirectorConfig initial) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
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
    SdNotify.ready("forwarding", r -> plane.snapshot(p -> r.run()), plane.pipeline()::receiveError);
    startedWith = initial;
    RedirectorConfig current = initial;
    long nextStatus = System.nanoTime();
    FileTime seen = modified(config);
    while (!plane.pipeline().awaitEnd(200)) {
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
      if (plane.pipeline().receiveError() != null) {
        LOG.error("receive failed: {}", plane.pipeline().receiveError().getMessage());
        break;
      }
    }
    stopped.await();
  }

  /** Applies the redirects of a changed config; interfaces and routes need a restart. */
  private RedirectorConfig reload(ForwardingPlane plane, RedirectorConfig current) {
    RedirectorConfig next;
    try {
      next = ConfigLoader.load(config, RedirectorCommand::osMac);
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
    if (agent != null) {
      agent.setStatic(statics(next));
      LOG.atInfo()
          .addKeyValue("event", "config-changed")
          .addKeyValue("redirects", next.redirects().size())
          .log(
              "config changed: {} static redirects handed to the control plane",
              next.redirects().size());
      servicesChanged(next);
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
    if (meters != null) {
      meters.services(services(next));
    }
    return next;
  }

  /** The sections a running redirector cannot change: they take a restart. */
  static List<String> needRestart(RedirectorConfig running, RedirectorConfig next) {
    List<String> out = new ArrayList<>();
    if (!running.context().interfaces().equals(next.context().interfaces())) {
      out.add("interfaces");
    }
    if (!running.routes().equals(next.routes())) {
      out.add("routes");
    }
    if (!running.neighbours().equals(next.neighbours())) {
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
          try {
            Path tmp = status.resolveSibling(status.getFileName() + ".tmp");
            Files.writeString(tmp, sb);
            Files.move(
                tmp,
                status,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
          } catch (IOException e) {
            LOG.warn("cannot write status file {}: {}", status, e.getMessage());
          }
        });
  }

  private static void logStartup(RedirectorConfig cfg) {
    for (RouterInterface i : cfg.context().interfaces()) {
      LOG.info("interface {}", i);
    }
    for (RedirectorConfig.Route r : cfg.routes()) {
      LOG.info(
          "route {}/{} via {} dev {}",
          Ipv4Header.formatAddress(r.prefix()),
          r.length(),
          r.nextHop() == 0 ? "on-link" : Ipv4Header.formatAddress(r.nextHop()),
          cfg.context().interfaces().get(r.interfaceIndex()).name());
    }
    for (RedirectorConfig.Neighbour n : cfg.neighbours()) {
      LOG.info(
          "neighbour {} at {}",
          Ipv4Header.formatAddress(n.address()),
          EthernetHeader.formatMac(n.mac()));
    }
    for (RedirectorConfig.Redirect r : cfg.redirects()) {
      String service =
          Ipv4Header.formatAddress(r.address())
              + ":"
              + r.port()
              + "/"
              + (r.protocol() == Ipv4Header.PROTOCOL_TCP ? "tcp" : "udp");
      LOG.atInfo()
          .addKeyValue("table", "put")
          .addKeyValue("service", service)
          .addKeyValue("host_servers", r.hostServers().length)
          .log("redirect {} to {} host server(s)", service, r.hostServers().length);
    }
  }
}
