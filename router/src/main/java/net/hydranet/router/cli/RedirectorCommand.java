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
import java.util.concurrent.atomic.AtomicReference;
import net.hydranet.control.agent.ControlAgent;
import net.hydranet.control.agent.RedirectorAgent;
import net.hydranet.control.ctl.CtlServer;
import net.hydranet.control.rib.TableWriter;
import net.hydranet.control.wire.Entry;
import net.hydranet.control.wire.Service;
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
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.router.config.ConfigException;
import net.hydranet.router.config.ConfigLoader;
import net.hydranet.router.config.ControlConfig;
import net.hydranet.router.config.ControlConfigLoader;
import net.hydranet.router.config.RedirectorConfig;
import net.hydranet.router.control.ControlPlane;
import net.hydranet.router.liveness.LivenessLink;
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
      ForwardingPlane plane = buildPlane(cfg);
      if (controlConfig != null) {
        agent = startControl(controlConfig, plane, cfg);
        awaitTable(agent, controlConfig);
      }
      startPipeline(plane);
      startMetrics(plane, cfg);
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
        "%s: valid (%d interfaces, %d routes, %d redirects%s%s)%n",
        config,
        cfg.context().interfaces().size(),
        cfg.routes().size(),
        cfg.redirects().size(),
        cfg.context().addresses6().isEmpty()
            ? ""
            : "; IPv6: "
                + cfg.context().addresses6().size()
                + " addresses, "
                + cfg.routes6().size()
                + " routes, "
                + cfg.redirects6().size()
                + " redirects",
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

  /**
   * ip_forward off, offloads off and no configured MTU above its link's on every interface, or a
   * refusal naming what is wrong.
   */
  private void checkKernel(RedirectorConfig cfg) {
    List<String> problems = new ArrayList<>(KernelChecks.check(interfaceNames(cfg)));
    for (RouterInterface i : cfg.context().interfaces()) {
      if (KernelChecks.interfaceExists(i.name())) {
        KernelChecks.mtuProblem(i.name(), i.mtu()).ifPresent(problems::add);
      }
    }
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
   * Binds the second-chance tunnel's UDP port and claims IP protocol 4, never read: host servers
   * pass packets back to us there, or in IP-in-IP, for the origin or the next candidate
   * (TunnelToOrigin takes them from the capture), and without a socket the kernel would answer each
   * with ICMP port- or protocol-unreachable. Not fatal: without them we forward anyway.
   */
  private void claimSecondChancePort() {
    try {
      java.nio.channels.DatagramChannel c = java.nio.channels.DatagramChannel.open();
      c.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 1);
      // Never read, only held: a redirector and a host server on one box (each binds it) share it.
      c.setOption(java.net.StandardSocketOptions.SO_REUSEADDR, true);
      c.bind(new java.net.InetSocketAddress(net.hydranet.forwarding.wire.GueHeader.PORT));
      secondChancePort = c;
    } catch (IOException e) {
      LOG.warn(
          "UDP port {} not bound: the kernel answers host servers' pass-ons with"
              + " port-unreachable (they are forwarded anyway): {}",
          net.hydranet.forwarding.wire.GueHeader.PORT,
          e.getMessage());
    }
    // Host servers pass IP-in-IP back in IP-in-IP: no ipip module here, so without a raw socket
    // for protocol 4 the kernel would answer each with protocol-unreachable.
    try {
      ipipClaim =
          net.hydranet.hostserver.ProtocolClaim.claim(
              net.hydranet.forwarding.wire.Ipv4Header.PROTOCOL_IPIP);
    } catch (IllegalStateException e) {
      LOG.warn(
          "protocol 4 not claimed: the kernel answers host servers' IP-in-IP pass-ons with"
              + " protocol-unreachable (they are forwarded anyway): {}",
          e.getMessage());
    }
  }

  /**
   * One capture per interface and pipeline: with more than one pipeline, an interface's captures
   * form one PACKET_FANOUT group, capture {@code p} feeding pipeline {@code p}; each capture's
   * transmit ring (its own socket) is that pipeline's port on the interface, so no two threads ever
   * share a transmit ring.
   */
  private void openInterfaces(RedirectorConfig cfg) {
    int n = cfg.context().pipelines();
    ports = new TxPort[n][cfg.context().interfaces().size()];
    for (int p = 0; p < n; p++) {
      perPipeline.add(new ArrayList<>());
    }
    for (RouterInterface i : cfg.context().interfaces()) {
      LivePcapSource.Options options = new LivePcapSource.Options().ingress(i.index());
      LivePcapSource[] captures;
      try {
        captures =
            n == 1
                ? new LivePcapSource[] {LivePcapSource.open(i.name(), options)}
                : LivePcapSource.openFanout(i.name(), options, n);
      } catch (IOException e) {
        throw new UserError(e.getMessage());
      }
      for (int p = 0; p < n; p++) {
        sources.add(captures[p]);
        perPipeline.get(p).add(captures[p]);
        ports[p][i.index()] = captures[p].txPort();
      }
    }
  }

  /** The forwarding plane over the open interfaces, filled from the config, not yet started. */
  private ForwardingPlane buildPlane(RedirectorConfig cfg) {
    ForwardingPlane plane = new ForwardingPlane(cfg.context(), ports);
    cfg.applyTo(plane);
    logStartup(cfg);
    return plane;
  }

  /**
   * A redirector that has just started knows no learned service: were it to forward at once, the
   * packets of connections open to replicas — it was restarted, or took over a flow from another —
   * would go to the origin, whose stack answers them with a RST. So it first waits until the
   * control plane has heard every host server and redirector it is configured with (each answers
   * its HELLO at once: a round trip) and committed what they said, or {@code --table-wait} at the
   * most (a node that is down). Meanwhile the transit drop keeps the kernel from forwarding and
   * nothing is sent: TCP retransmits what is lost in the gap, so the connections survive.
   */
  private void awaitTable(RedirectorAgent a, ControlConfig c) throws InterruptedException {
    if (tableWaitMillis <= 0) {
      return;
    }
    long start = System.nanoTime();
    long deadline = start + tableWaitMillis * 1_000_000L;
    int hostServers = c.hostServers().size();
    int redirectors = c.redirectors().size();
    while (System.nanoTime() < deadline
        && (a.hostServersUp() < hostServers || a.peersUp() < redirectors)) {
      Thread.sleep(ControlAgent.TICK_MILLIS);
    }
    boolean heard = a.hostServersUp() >= hostServers && a.peersUp() >= redirectors;
    if (heard) {
      // The ANNOUNCE rides just behind the KEEPALIVE that made the node count: one more
      // recomputation so that the table holds what it said.
      Thread.sleep(5L * ControlAgent.TICK_MILLIS);
    }
    long waited = (System.nanoTime() - start) / 1_000_000L;
    if (heard) {
      LOG.info(
          "forwarding starts: table learned in {} ms ({} services, {} host servers, {} peers)",
          waited,
          a.services(),
          a.hostServersUp(),
          a.peersUp());
    } else {
      LOG.warn(
          "forwarding starts after --table-wait {} ms without hearing every node: {} of {} host"
              + " servers, {} of {} redirectors; {} services",
          tableWaitMillis,
          a.hostServersUp(),
          hostServers,
          a.peersUp(),
          redirectors,
          a.services());
    }
  }

  /** Starts the pipelines: from here frames are captured and forwarded. */
  private void startPipeline(ForwardingPlane plane) {
    int n = perPipeline.size();
    FrameSource[][] receive = new FrameSource[n][];
    FrameWait[] frameWaits = new FrameWait[n];
    for (int p = 0; p < n; p++) {
      receive[p] = perPipeline.get(p).toArray(new FrameSource[0]);
      try {
        frameWaits[p] = PcapWait.of(perPipeline.get(p));
      } catch (IOException e) {
        LOG.warn("the receive thread will poll even when idle: {}", e.getMessage());
      }
    }
    plane.start(receive, Pipeline.Clock.LIVE, LiteBlockingWaitStrategy::new, frameWaits);
    if (n > 1) {
      LOG.info("{} forwarding pipelines, fed by PACKET_FANOUT (flow hash) on each interface", n);
    }
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
    meters = new ForwardingMetrics(metrics.registry(), plane).interfaces(sources).rings(plane);
    servicesChanged(cfg);
    if (agent != null) {
      ControlMetrics.bindRedirector(metrics.registry(), agent);
    }
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
    withdraw();
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
    if (ipipClaim != null) {
      ipipClaim.close();
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
  // Each pipeline's captures, one per interface.
  private final List<List<LivePcapSource>> perPipeline = new ArrayList<>();
  private TxPort[][] ports;
  private TransitDrop transitDrop;
  private java.nio.channels.DatagramChannel secondChancePort;
  private net.hydranet.hostserver.ProtocolClaim ipipClaim;
  private MetricsEndpoint metrics;
  private ForwardingMetrics meters;
  private Sampler sampler;
  private final ConfigReloads reloads = new ConfigReloads();
  // The config the redirector started with: interfaces, routes and neighbours stay as in it.
  private RedirectorConfig startedWith;
  private RedirectorAgent agent;
  private final AtomicReference<LivenessLink> liveness = new AtomicReference<>();
  private final Set<Service> learned = java.util.concurrent.ConcurrentHashMap.newKeySet();

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

          @Override
          public void hostServerDead(int hostServer) {
            plane.hostServerDead(hostServer);
          }

          @Override
          public void putIpv6(
              long high, long low, int protocol, int port, int[] hostServers, int[] weights) {
            Ipv6Redirects.put(plane, high, low, protocol, port, hostServers, weights);
            learned.add(Service.ipv6(high, low, protocol, port));
            servicesChanged(cfg);
          }

          @Override
          public void removeIpv6(long high, long low, int protocol, int port) {
            Ipv6Redirects.remove(plane, high, low, protocol, port);
            learned.remove(Service.ipv6(high, low, protocol, port));
            servicesChanged(cfg);
          }
        };
    RedirectorAgent a;
    try {
      a = ControlPlane.redirector(c, writer, plane.context().maxHostServers());
    } catch (ConfigException e) {
      throw new UserError(control + ": " + e.getMessage());
    }
    a.setStatic(StaticRedirects.of(cfg, plane));
    a.start();
    return a;
  }

  private void servicesChanged(RedirectorConfig cfg) {
    if (meters == null) {
      return;
    }
    Set<Service> all = new java.util.TreeSet<>(learned);
    for (int[] s : services(cfg)) {
      all.add(Entry.service(s[0], s[1], s[2]));
    }
    for (RedirectorConfig.Redirect6 r : cfg.redirects6()) {
      all.add(Service.ipv6(r.addressHigh(), r.addressLow(), r.protocol(), r.port()));
    }
    List<int[]> list = new ArrayList<>();
    List<long[]> list6 = new ArrayList<>();
    for (Service s : all) {
      if (s.isIpv4()) {
        list.add(new int[] {s.ipv4Origin(), s.protocol(), s.port()});
      } else {
        list6.add(new long[] {s.high(), s.low(), s.protocol(), s.port()});
      }
    }
    meters.services(list);
    meters.services6(list6);
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
    RedirectorConfig cfg;
    try {
      cfg = ConfigLoader.load(config, KERNEL);
    } catch (ConfigException e) {
      throw new UserError(e.getMessage());
    }
    if (pipelines != null) {
      try {
        cfg.context().pipelines(pipelines).conclude();
      } catch (IllegalArgumentException e) {
        throw new UserError("--pipelines: " + e.getMessage());
      }
    }
    return cfg;
  }

  /** What a config leaves out of an interface, read from the kernel: its MAC and its MTU. */
  static final ConfigLoader.MacResolver KERNEL =
      new ConfigLoader.MacResolver() {
        @Override
        public long mac(String name) {
          return osMac(name);
        }

        @Override
        public int mtu(String name) {
          return osMtu(name);
        }
      };

  /**
   * Reads an interface's MTU from sysfs, for configs that leave it out; 1500 for an interface this
   * host lacks (a config checked elsewhere; the kernel checks refuse to start on it).
   */
  static int osMtu(String name) {
    if (!KernelChecks.interfaceExists(name)) {
      return ConfigLoader.DEFAULT_MTU;
    }
    try {
      return KernelChecks.mtu(name);
    } catch (IOException | NumberFormatException e) {
      throw new IllegalArgumentException(
          "cannot read the MTU of '" + name + "': " + e.getMessage());
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
      next = ConfigLoader.load(config, KERNEL);
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
      agent.setStatic(StaticRedirects.of(next, plane));
      int statics = next.redirects().size() + next.redirects6().size();
      LOG.atInfo()
          .addKeyValue("event", "config-changed")
          .addKeyValue("redirects", statics)
          .log("config changed: {} static redirects handed to the control plane", statics);
      servicesChanged(next);
      return next;
    }
    reload6(plane, current, next);
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
    servicesChanged(next);
    return next;
  }

  /**
   * Without a control plane: applies the IPv6 redirects of a changed config to the plane and
   * removes those gone (with one, they are static services of its RIB, as the IPv4 ones).
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
    for (var a : cfg.context().addresses6()) {
      LOG.info(
          "interface {} address6 {}", cfg.context().interfaces().get(a.interfaceIndex()).name(), a);
    }
    for (RedirectorConfig.Route6 r : cfg.routes6()) {
      LOG.info(
          "route {}/{} via {} dev {}",
          Ipv6Header.formatAddress(r.prefixHigh(), r.prefixLow()),
          r.length(),
          r.nextHopHigh() == 0 && r.nextHopLow() == 0
              ? "on-link"
              : Ipv6Header.formatAddress(r.nextHopHigh(), r.nextHopLow()),
          cfg.context().interfaces().get(r.interfaceIndex()).name());
    }
    for (RedirectorConfig.Neighbour6 n : cfg.neighbours6()) {
      LOG.info(
          "neighbour {} at {}",
          Ipv6Header.formatAddress(n.high(), n.low()),
          EthernetHeader.formatMac(n.mac()));
    }
    for (RedirectorConfig.Redirect6 r : cfg.redirects6()) {
      LOG.atInfo()
          .addKeyValue("table", "put")
          .addKeyValue("service", r.service())
          .addKeyValue("host_servers", r.hostServers().size())
          .log("redirect {} to {}", r.service(), r.hostServers());
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
