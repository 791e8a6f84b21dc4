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
import net.hydranet.forwarding.io.live.LivePcapSource;
import net.hydranet.forwarding.io.live.TunDevice;
import net.hydranet.forwarding.pipeline.Pipeline;
import net.hydranet.forwarding.wire.Ipv4Header;
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
import net.hydranet.router.daemon.hostserver.LinkInjection;
import net.hydranet.router.daemon.hostserver.OptionChecks;
import net.hydranet.router.daemon.hostserver.SocketTables;
import net.hydranet.router.daemon.hostserver.StackSetup;
import net.hydranet.router.daemon.hostserver.VirtualHostFollower;
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
      SocketTables socketTables = new SocketTables(noSecondChance, path, sockets);
      LinkInjection linkInjection = new LinkInjection(path, links);
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
        serve(
            directory,
            new VirtualHostFollower(
                path, table, sockets, links, socketTables, linkInjection, () -> agent),
            counters,
            table,
            linkInjection);
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
      LinkInjection linkInjection)
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
        linkInjection.check();
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

  private void writeStatus(Counters counters, VirtualHostTable table) {
    StatusFile.write(status, views(counters, table).statusText(), LOG);
  }
}
