package net.hydranet.router.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import net.hydranet.control.agent.HostServerAgent;
import net.hydranet.control.auth.Keys;
import net.hydranet.control.ctl.CtlServer;
import net.hydranet.control.wire.Service;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.io.live.KernelChecks;
import net.hydranet.forwarding.io.live.LinkTxRing;
import net.hydranet.forwarding.io.live.LivePcapSource;
import net.hydranet.forwarding.io.live.TunDevice;
import net.hydranet.forwarding.pipeline.Pipeline;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.hostserver.HostServerCounter;
import net.hydranet.hostserver.HostServerPath;
import net.hydranet.hostserver.SecondChance;
import net.hydranet.hostserver.SockDiag;
import net.hydranet.hostserver.VirtualHostDirectory;
import net.hydranet.hostserver.VirtualHostLinks;
import net.hydranet.hostserver.VirtualHostTable;
import net.hydranet.hostserver.replica.Confinement;
import net.hydranet.hostserver.replica.Launcher;
import net.hydranet.hostserver.replica.Origin;
import net.hydranet.hostserver.replica.ReplicaService;
import net.hydranet.replica.Resources;
import net.hydranet.router.config.ConfigException;
import net.hydranet.router.config.ControlConfig;
import net.hydranet.router.config.ControlConfigLoader;
import net.hydranet.router.control.ControlPlane;
import net.hydranet.router.daemon.ControlFile;
import net.hydranet.router.daemon.Libpcap;
import net.hydranet.router.daemon.MetricsAddress;
import net.hydranet.router.daemon.StatusFile;
import net.hydranet.router.daemon.hostserver.Capture;
import net.hydranet.router.daemon.hostserver.KernelClaims;
import net.hydranet.router.daemon.hostserver.OptionChecks;
import net.hydranet.router.daemon.hostserver.StackSetup;
import net.hydranet.router.metrics.ConfigReloads;
import net.hydranet.router.metrics.ControlMetrics;
import net.hydranet.router.metrics.HostServerMetrics;
import net.hydranet.router.metrics.MetricsEndpoint;
import net.hydranet.router.metrics.ReplicaMetrics;
import net.hydranet.router.systemd.SdNotify;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code hydranet hostserver}: decapsulates redirected packets into local virtual hosts. */
@Command(
    name = "hostserver",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a host server: captures IP-in-IP packets addressed to it (IPv4 or IPv6 inside",
      "IPv4, protocol 4 or 41; IPv6 inside IPv6 to --address6; and the second-chance tunnel,",
      "UDP port 19523 with GUE), reassembles outer fragments, strips the outer header and",
      "writes the inner packet onto the link of the virtual host (see 'hydranet vhost') that",
      "answers under the origin's address (or through a TUN device into this host's stack,",
      "which routes it there: see --inject). A TCP segment",
      "that is not a SYN, of a connection no virtual host here holds, is passed on to the next",
      "host server the redirector named, and at last back to the redirector for the origin",
      "(the second chance, SECOND-CHANCE.md; --no-second-chance injects it, as before). It",
      "sets what that needs: the TUN up, rp_filter off and accept_local on for it, ip_forward",
      "on (packets are routed from the TUN to each virtual host's namespace, or passed on).",
      "--check only validates the address and the --control file and exits 0 or 2. On",
      "SIGHUP the --control file is checked again: a valid change is logged as needing a",
      "restart (nothing is applied live), an invalid one is refused.",
      "",
      "Example:",
      "  hydranet hostserver --interface eth0 --address 198.18.1.20",
      "  hydranet hostserver --check --interface eth0 --address 198.18.1.20 \\",
      "      --control /etc/hydranet/control-hostserver.yaml"
    })
public final class HostServerCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(HostServerCommand.class);

  @Option(names = "--interface", required = true, description = "the uplink to capture on")
  String iface;

  @Option(
      names = "--address",
      required = true,
      description = "this host server's address: outer destination of tunnelled packets")
  String address;

  @Option(
      names = "--address6",
      description = {
        "this host server's IPv6 address, if IPv6-in-IPv6 (RFC 2473) is sent to it; IPv6 inside",
        "IPv4 (protocol 41) to --address needs none"
      })
  String address6;

  @Option(
      names = "--tun",
      defaultValue = "hntun0",
      description = "TUN device name (${DEFAULT-VALUE})")
  String tun;

  @Option(
      names = "--state-dir",
      defaultValue = "/run/hydranet",
      description = "where 'hydranet vhost' publishes virtual hosts (${DEFAULT-VALUE})")
  Path stateDir;

  @Option(
      names = "--metrics",
      defaultValue = "127.0.0.1:9465",
      description = "serve Prometheus /metrics on HOST:PORT, or 'off' (${DEFAULT-VALUE})")
  String metricsAddress;

  @Option(names = "--status", description = "write counters and virtual hosts here every second")
  Path status;

  @Option(
      names = "--control",
      description = {
        "control-plane YAML (see config/control-hostserver.yaml): announce virtual hosts'",
        "ports to the redirectors over the HYDRANET routing protocol"
      })
  Path control;

  @Option(
      names = "--ctl-socket",
      description = "local operator socket for 'hydranet ctl' (default: STATE-DIR/hostserver.ctl)")
  Path ctl;

  @Option(names = "--ctl", hidden = true, description = "deprecated: --ctl-socket")
  void deprecatedCtl(Path path) {
    LOG.warn("--ctl is deprecated, use --ctl-socket");
    ctl = path;
  }

  /** Where a decapsulated IPv4 packet for a virtual host goes. */
  enum Inject {
    /** Onto the virtual host's own link, through a transmit ring, once the link is known. */
    link,
    /** Into the TUN device; the kernel routes it to the virtual host's link. */
    tun
  }

  @Option(
      names = "--inject",
      defaultValue = "link",
      description = {
        "where decapsulated IPv4 packets for a virtual host go: 'link' (${DEFAULT-VALUE}) writes",
        "them onto its link, a batch per system call, once this host's kernel has resolved the",
        "virtual host's MAC address there; 'tun' into the TUN, routed by the kernel (its",
        "forwarding rules apply). IPv6, pass-ons and packets too long for the link always take",
        "the TUN."
      })
  Inject inject;

  @Option(
      names = "--no-second-chance",
      description = "inject every segment, even of connections no virtual host here holds")
  boolean noSecondChance;

  @Option(
      names = "--check",
      description = "check --address and the --control file and exit: 0 valid, 2 not")
  boolean check;

  private final ConfigReloads reloads = new ConfigReloads();
  private HostServerAgent agent;
  private Pipeline pipeline;
  private ReplicaService replicas;

  @Override
  public Integer call() throws Exception {
    if (check) {
      OptionChecks.address(address);
      OptionChecks.address6(address6);
      loadControl();
      System.out.printf(
          "host server %s: valid%s%n", address, control == null ? "" : " (" + control + ")");
      return 0;
    }
    Libpcap.require();
    OptionChecks.requireInterface(iface);
    int self = OptionChecks.address(address);
    long[] self6 = OptionChecks.address6(address6);
    ControlConfig controlConfig = loadControl();
    Counters counters = new Counters(HostServerCounter.count());
    VirtualHostTable table = new VirtualHostTable();
    VirtualHostDirectory directory = new VirtualHostDirectory(stateDir);
    Files.createDirectories(directory.directory());

    KernelClaims claims = KernelClaims.claim(self, address6);
    try (TunDevice device = StackSetup.openTun(tun)) {
      StackSetup.prepare(tun);
      SockDiag sockets = new SockDiag();
      SecondChance secondChance =
          noSecondChance
              ? null
              : new SecondChance(
                  self, counters, sockets, device::write, 1 << 16, 10_000_000_000L, 50_000);
      HostServerPath path =
          new HostServerPath(
              self, self6, counters, table, device::write, 64, 5_000_000_000L, secondChance);
      VirtualHostLinks links = new VirtualHostLinks();
      if (inject == Inject.link) {
        path.links(links);
      }
      LivePcapSource source = Capture.open(iface, address, address6);
      try {
        pipeline = Capture.newPipeline(source, path);
        startControlPlane(controlConfig);
        addShutdownHook(controlConfig == null ? 0 : controlConfig.drainMillis());
        LOG.info(
            "host server {} on {}: capturing '{}', injecting through {}",
            address,
            iface,
            Capture.filter(address, address6),
            tun);
        pipeline.start();
        MetricsEndpoint metrics = startMetrics(counters, table, source, device);
        startAgent(metrics);
        CtlServer ctlServer = startCtl(counters, table);
        SdNotify.ready("decapsulating for " + address, path::command, pipeline::receiveError);
        serve(directory, listener(path, table, sockets, links), counters, table, path, links);
        ctlServer.close();
        if (metrics != null) {
          metrics.close();
        }
      } finally {
        source.close();
      }
    } finally {
      claims.close();
    }
    return 0;
  }

  private ControlConfig loadControl() {
    return ControlFile.load(control);
  }

  /** The routing agent and the replica service of the control config, not started yet. */
  private void startControlPlane(ControlConfig controlConfig) throws IOException {
    if (controlConfig == null) {
      return;
    }
    try {
      agent = ControlPlane.hostServer(controlConfig, ControlPlane::hostLoad);
    } catch (ConfigException e) {
      pipeline.close();
      throw new UserError(control + ": " + e.getMessage());
    }
    if (controlConfig.replicas() != null) {
      try {
        replicas = startReplicas(controlConfig);
      } catch (ConfigException | IOException | IllegalArgumentException e) {
        pipeline.close();
        agent.close();
        throw new UserError(control + ": replicas: " + e.getMessage());
      }
    }
  }

  /** On SIGTERM: no new replica requests, drain, withdraw and say goodbye, then stop. */
  private void addShutdownHook(long drainMillis) {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  SdNotify.stopping("draining");
                  if (replicas != null) {
                    replicas.close(); // no new requests while leaving
                  }
                  if (agent != null) {
                    // Graceful: weight 0 first, so established connections finish here
                    // while new ones go elsewhere; then withdraw and say goodbye.
                    try {
                      agent.drainAndLeave(drainMillis);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  }
                  if (replicas != null) {
                    replicas.removeAll(); // the drain above covered their services
                  }
                  if (agent != null) {
                    agent.close();
                  }
                  pipeline.close();
                },
                "hydranet-shutdown"));
  }

  private MetricsEndpoint startMetrics(
      Counters counters, VirtualHostTable table, LivePcapSource source, TunDevice device) {
    MetricsEndpoint metrics = MetricsAddress.start(metricsAddress, pipeline::close);
    if (metrics == null) {
      return null;
    }
    HostServerMetrics.bind(metrics.registry(), counters, table, source, device);
    reloads.bind(metrics.registry());
    LOG.info("metrics on http://{}/metrics", metricsAddress);
    if (replicas != null) {
      ReplicaMetrics.bind(metrics.registry(), replicas.counters());
      ReplicaMetrics.bindUsage(metrics.registry(), replicas::statuses);
    }
    return metrics;
  }

  private void startAgent(MetricsEndpoint metrics) {
    if (agent == null) {
      return;
    }
    if (metrics != null) {
      ControlMetrics.bind(metrics.registry(), agent.counters());
    }
    agent.start();
  }

  private CtlServer startCtl(Counters counters, VirtualHostTable table) throws IOException {
    HostServerViews views = views(counters, table);
    return CtlServer.start(ctl != null ? ctl : stateDir.resolve("hostserver.ctl"), views::answer);
  }

  private HostServerViews views(Counters counters, VirtualHostTable table) {
    return new HostServerViews(
        address, counters, table, () -> pipeline, () -> agent, () -> replicas);
  }

  /** Until the pipeline ends: new virtual hosts and ports announced within ~0.1 s, the status. */
  private void serve(
      VirtualHostDirectory directory,
      VirtualHostDirectory.Listener listener,
      Counters counters,
      VirtualHostTable table,
      HostServerPath path,
      VirtualHostLinks links)
      throws IOException, InterruptedException {
    Hangup hangup = Hangup.install();
    UnappliedReload reload = new UnappliedReload(control, ControlConfigLoader::load, reloads);
    while (!pipeline.awaitEnd(100)) {
      if (hangup.take()) {
        reload.reload();
      }
      if (pipeline.receiveError() != null) {
        LOG.error("receive failed: {}", pipeline.receiveError().getMessage());
        break;
      }
      directory.scan(listener);
      if (inject == Inject.link) {
        checkLinks(path, links);
      }
      if (status != null) {
        writeStatus(counters, table);
      }
    }
  }

  /**
   * The replica service of the control config's {@code replicas:} section: on the control address
   * alone, launching each replica in its origin's virtual host with this same {@code hydranet}.
   */
  private ReplicaService startReplicas(ControlConfig c) throws ConfigException, IOException {
    ControlConfig.Replicas r = c.replicas();
    List<Origin> origins = new ArrayList<>();
    for (ControlConfig.ReplicaOrigin o : r.origins()) {
      try {
        origins.add(
            new Origin(
                o.manager(),
                Keys.readPublic(o.key()),
                o.addresses(),
                new Resources(o.memoryBytes(), o.milliCpus(), o.pids(), o.files()),
                o.maxReplicas()));
      } catch (IOException e) {
        throw new ConfigException(
            "key of manager " + Ipv4Header.formatAddress(o.manager()) + ": " + e.getMessage());
      }
    }
    ReplicaService.Context ctx =
        new ReplicaService.Context()
            .address(c.address())
            .port(r.port())
            .firstUid(r.firstUid())
            .cgroupParent(r.cgroupParent())
            .logBytes(r.logBytes())
            .key(Keys.readPrivate(c.key()))
            .stateDir(stateDir)
            .origins(origins)
            .launcher(Launcher.vhost(hydranet(), stateDir))
            .drainer(
                new ReplicaService.Drainer() {
                  @Override
                  public void drain(InetAddress origin, List<String> ports) {
                    for (Service service : services(origin, ports)) {
                      if (agent != null) {
                        agent.drainService(service);
                      }
                    }
                  }

                  @Override
                  public void drained(InetAddress origin, List<String> ports) {
                    for (Service service : services(origin, ports)) {
                      if (agent != null) {
                        agent.undrainService(service);
                      }
                    }
                  }
                });
    return new ReplicaService(ctx).start();
  }

  /** A bundle's ports ("tcp/80") of its origin (IPv4 or IPv6) as the control plane's services. */
  static List<Service> services(InetAddress origin, List<String> ports) {
    List<Service> out = new ArrayList<>();
    byte[] a = origin.getAddress();
    ByteBuffer b = ByteBuffer.wrap(a);
    for (String p : ports) {
      int slash = p.indexOf('/');
      int protocol = p.startsWith("tcp") ? Ipv4Header.PROTOCOL_TCP : Ipv4Header.PROTOCOL_UDP;
      int port = Integer.parseInt(p.substring(slash + 1));
      out.add(
          a.length == 4
              ? Service.ipv4(b.getInt(0), protocol, port)
              : Service.ipv6(b.getLong(0), b.getLong(8), protocol, port));
    }
    return out;
  }

  /**
   * How to run this same {@code hydranet}: this JVM, its log settings, its class path, the main
   * class.
   */
  public static List<String> hydranet() {
    List<String> argv = new java.util.ArrayList<>();
    argv.add(Confinement.java());
    argv.addAll(Logs.jvmArguments());
    argv.addAll(
        List.of("-cp", System.getProperty("java.class.path"), HydraNetCommand.class.getName()));
    return List.copyOf(argv);
  }

  /**
   * Opens the sock_diag socket of {@code origin}'s virtual host and hands it to the forwarding
   * thread. Its namespace is named after the origin and the {@code hydranet vhost} process (the
   * newest wins); the socket is made in the namespace of that process's child, the replica's {@code
   * ip netns exec}, through {@code /proc/CHILD/ns/net}: the name's bind mount under /run/netns is
   * made inside the vhost's own mount namespace when the vhost itself runs under {@code ip netns
   * exec}, and is not seen here. Main thread only.
   *
   * @return true once the virtual host has a socket table; until then its segments are injected
   *     (counted second_chance_unknown)
   */
  private boolean openSocketTable(HostServerPath path, SockDiag sockets, int origin, boolean say) {
    if (noSecondChance || socketTables.contains(origin)) {
      return true;
    }
    String prefix = VirtualHostDirectory.namespace(origin, 0);
    prefix = prefix.substring(0, prefix.length() - 1);
    Path netns = Path.of("/run/netns");
    Path newest = null;
    try (java.util.stream.Stream<Path> names = Files.list(netns)) {
      for (Path p : (Iterable<Path>) names::iterator) {
        if (p.getFileName().toString().startsWith(prefix)
            && (newest == null
                || Files.getLastModifiedTime(p).compareTo(Files.getLastModifiedTime(newest)) > 0)) {
          newest = p;
        }
      }
    } catch (IOException e) {
      return fail(say, origin, "cannot list " + netns + ": " + e.getMessage());
    }
    if (newest == null) {
      return fail(say, origin, "no namespace " + prefix + "* under " + netns);
    }
    Path namespace = newest;
    try {
      long vhost = Long.parseLong(newest.getFileName().toString().substring(prefix.length()));
      Path own = Files.readSymbolicLink(Path.of("/proc/" + vhost + "/ns/net"));
      for (ProcessHandle child :
          (Iterable<ProcessHandle>)
              ProcessHandle.of(vhost)
                      .map(ProcessHandle::children)
                      .orElse(java.util.stream.Stream.empty())
                  ::iterator) {
        Path ns = Path.of("/proc/" + child.pid() + "/ns/net");
        if (!Files.readSymbolicLink(ns).equals(own)) {
          namespace = ns;
          break;
        }
      }
    } catch (IOException | RuntimeException e) {
      // The vhost process is gone or not ours to read: try the name itself.
    }
    try {
      int fd = SockDiag.openIn(namespace);
      path.command(() -> sockets.install(origin, fd));
      socketTables.add(origin);
      LOG.info(
          "second chance for {}: socket table of namespace {} ({})",
          Ipv4Header.formatAddress(origin),
          newest.getFileName(),
          namespace);
      return true;
    } catch (IOException e) {
      return fail(say, origin, e.getMessage());
    }
  }

  private static boolean fail(boolean say, int origin, String why) {
    if (say) {
      LOG.warn(
          "second chance for {}: {}: its segments are injected without one",
          Ipv4Header.formatAddress(origin),
          why);
    }
    return false;
  }

  /** Origins whose socket table the forwarding thread has (main thread only). */
  private final java.util.Set<Integer> socketTables = new java.util.HashSet<>();

  /**
   * The IPv4 virtual hosts, each with the link ring the forwarding thread writes through, or null
   * until it has one (main thread only; the forwarding thread only uses the rings).
   */
  private final java.util.Map<Integer, LinkTxRing> linkRings = new java.util.HashMap<>();

  /** Virtual hosts whose ring could not be opened, so that it is said once. */
  private final java.util.Set<Integer> linkFailures = new java.util.HashSet<>();

  /**
   * Gives each IPv4 virtual host without one a ring on its link, as soon as this host's kernel has
   * resolved the virtual host's MAC address there ({@code /proc/net/arp}: the first packet routed
   * through the TUN makes it ask); and takes a ring back when its link is gone or another link took
   * its name (a virtual host replaced between two scans): the kernel's index tells. Until it has a
   * ring, and after, a virtual host's packets go through the TUN. Main thread, each scan.
   */
  private void checkLinks(HostServerPath path, VirtualHostLinks links) {
    java.util.Map<String, byte[]> arp = null;
    for (java.util.Map.Entry<Integer, LinkTxRing> e : linkRings.entrySet()) {
      int origin = e.getKey();
      LinkTxRing ring = e.getValue();
      String name = VirtualHostDirectory.hostLink(origin);
      if (ring != null) {
        if (KernelChecks.ifIndex(name) == ring.ifIndex()) {
          continue;
        }
        LOG.info(
            "virtual host {}: link {} gone or replaced", Ipv4Header.formatAddress(origin), name);
        path.command(() -> links.remove(origin));
        e.setValue(null);
      }
      if (arp == null) {
        arp = neighbours();
      }
      byte[] mac = arp.get(Ipv4Header.formatAddress(origin) + " " + name);
      if (mac == null) {
        continue;
      }
      try {
        LinkTxRing opened = LinkTxRing.open(name, mac);
        path.command(() -> links.install(origin, link(opened)));
        e.setValue(opened);
        LOG.info(
            "virtual host {}: packets written onto {} (ifindex {}, MTU {}, to {}), not the TUN",
            Ipv4Header.formatAddress(origin),
            name,
            opened.ifIndex(),
            opened.mtu(),
            formatMac(mac));
      } catch (IOException | RuntimeException ex) {
        if (linkFailures.add(origin)) {
          LOG.warn(
              "virtual host {}: no ring on {} ({}): its packets go through the TUN (tried again"
                  + " each scan, said once)",
              Ipv4Header.formatAddress(origin),
              name,
              ex.getMessage());
        }
      }
    }
  }

  /**
   * Resolved IPv4 neighbours of this namespace by "ADDRESS DEVICE", from {@code /proc/net/arp}
   * (lines "IP address, HW type, Flags, HW address, Mask, Device"; flag 0x2: complete).
   */
  private static java.util.Map<String, byte[]> neighbours() {
    java.util.Map<String, byte[]> out = new java.util.HashMap<>();
    try {
      for (String line : Files.readAllLines(Path.of("/proc/net/arp"))) {
        String[] w = line.trim().split("\\s+");
        if (w.length >= 6 && w[2].startsWith("0x")) {
          try {
            if ((Integer.parseInt(w[2].substring(2), 16) & 0x2) != 0) {
              out.put(w[0] + " " + w[5], KernelChecks.parseMac(w[3]));
            }
          } catch (IllegalArgumentException ex) {
            // Not a line of ours to read (the header, an incomplete entry).
          }
        }
      }
    } catch (IOException ex) {
      LOG.debug("cannot read /proc/net/arp: {}", ex.getMessage());
    }
    return out;
  }

  private static String formatMac(byte[] mac) {
    StringBuilder b = new StringBuilder();
    for (byte x : mac) {
      b.append(b.length() == 0 ? "" : ":").append(String.format("%02x", x & 0xFF));
    }
    return b.toString();
  }

  /** The forwarding thread's view of a ring: it alone offers to, flushes and closes it. */
  private static VirtualHostLinks.Link link(LinkTxRing ring) {
    return new VirtualHostLinks.Link() {
      @Override
      public boolean offer(int etherType, org.agrona.DirectBuffer buffer, int offset, int length) {
        return ring.offer(etherType, buffer, offset, length);
      }

      @Override
      public void flush() {
        ring.flush();
      }

      @Override
      public void close() {
        ring.close();
      }
    };
  }

  private VirtualHostDirectory.Listener listener(
      HostServerPath path, VirtualHostTable table, SockDiag sockets, VirtualHostLinks links) {
    return new VirtualHostDirectory.Listener() {
      @Override
      public void virtualHostAdded(int origin) {
        LOG.info("virtual host {} installed", Ipv4Header.formatAddress(origin));
        path.command(() -> table.addVirtualHost(origin));
        // Its replica may not run yet: tried again when it binds a port.
        openSocketTable(path, sockets, origin, false);
        linkRings.put(origin, null); // its link, once the kernel knows the MAC (checkLinks)
      }

      @Override
      public void virtualHostRemoved(int origin) {
        LOG.info("virtual host {} removed", Ipv4Header.formatAddress(origin));
        path.command(() -> table.removeVirtualHost(origin));
        path.command(() -> sockets.remove(origin));
        socketTables.remove(origin);
        path.command(() -> links.remove(origin));
        linkRings.remove(origin);
        linkFailures.remove(origin);
      }

      @Override
      public void portBound(int origin, String protocol, int port) {
        LOG.info(
            "announce {}:{}/{} (virtual host listening)",
            Ipv4Header.formatAddress(origin),
            port,
            protocol);
        int p = protocol.equals("tcp") ? Ipv4Header.PROTOCOL_TCP : Ipv4Header.PROTOCOL_UDP;
        path.command(() -> table.bind(origin, p, port));
        openSocketTable(path, sockets, origin, true);
        if (agent != null) {
          agent.portBound(origin, p, port);
        }
      }

      @Override
      public void portClosed(int origin, String protocol, int port) {
        LOG.info(
            "withdraw {}:{}/{} (port closed)", Ipv4Header.formatAddress(origin), port, protocol);
        int p = protocol.equals("tcp") ? Ipv4Header.PROTOCOL_TCP : Ipv4Header.PROTOCOL_UDP;
        if (agent != null) {
          agent.portClosed(origin, p, port);
        }
        path.command(() -> table.unbind(origin, p, port));
      }

      @Override
      public void virtualHost6Added(long high, long low) {
        LOG.info("virtual host {} installed", Ipv6Header.formatAddress(high, low));
        path.command(
            () -> {
              if (!table.addVirtualHost6(high, low)) {
                LOG.warn(
                    "virtual host {} refused: this host server holds {} IPv6 virtual hosts",
                    Ipv6Header.formatAddress(high, low),
                    VirtualHostTable.MAX_IPV6_VIRTUAL_HOSTS);
              }
            });
      }

      @Override
      public void virtualHost6Removed(long high, long low) {
        LOG.info("virtual host {} removed", Ipv6Header.formatAddress(high, low));
        path.command(() -> table.removeVirtualHost6(high, low));
      }

      @Override
      public void port6Bound(long high, long low, String protocol, int port) {
        Service s = Service.ipv6(high, low, protocolNumber(protocol), port);
        LOG.info("announce {} (virtual host listening)", s);
        path.command(() -> table.bind6(high, low, s.protocol(), port));
        if (agent != null) {
          agent.portBound(s);
        }
      }

      @Override
      public void port6Closed(long high, long low, String protocol, int port) {
        Service s = Service.ipv6(high, low, protocolNumber(protocol), port);
        LOG.info("withdraw {} (port closed)", s);
        if (agent != null) {
          agent.portClosed(s);
        }
        path.command(() -> table.unbind6(high, low, s.protocol(), port));
      }
    };
  }

  private static int protocolNumber(String protocol) {
    return protocol.equals("tcp") ? Ipv4Header.PROTOCOL_TCP : Ipv4Header.PROTOCOL_UDP;
  }

  private void writeStatus(Counters counters, VirtualHostTable table) {
    StatusFile.write(status, views(counters, table).statusText(), LOG);
  }
}
