package net.hydranet.router.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import net.hydranet.control.ctl.CtlServer;
import net.hydranet.forwarding.config.ForwardingContext;
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
import net.hydranet.hostserver.VirtualHostLinkScan;
import net.hydranet.hostserver.VirtualHostLinks;
import net.hydranet.hostserver.VirtualHostTable;
import net.hydranet.hostserver.replica.Confinement;
import net.hydranet.router.config.ControlConfig;
import net.hydranet.router.config.ControlConfigLoader;
import net.hydranet.router.daemon.ControlFile;
import net.hydranet.router.daemon.DaemonLoggers;
import net.hydranet.router.daemon.Libpcap;
import net.hydranet.router.daemon.StatusFile;
import net.hydranet.router.daemon.hostserver.Capture;
import net.hydranet.router.daemon.hostserver.HostServerControl;
import net.hydranet.router.daemon.hostserver.KernelClaims;
import net.hydranet.router.daemon.hostserver.MetricsWiring;
import net.hydranet.router.daemon.hostserver.OptionChecks;
import net.hydranet.router.daemon.hostserver.Shutdown;
import net.hydranet.router.daemon.hostserver.SocketTables;
import net.hydranet.router.daemon.hostserver.StackSetup;
import net.hydranet.router.daemon.hostserver.VirtualHostFollower;
import net.hydranet.router.metrics.ConfigReloads;
import net.hydranet.router.metrics.MetricsEndpoint;
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
  private static final Logger LOG = LoggerFactory.getLogger(DaemonLoggers.HOST_SERVER);

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

  /** Where a decapsulated packet (IPv4 or IPv6) for a virtual host goes. */
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
        "where decapsulated packets for a virtual host go: 'link' (${DEFAULT-VALUE}) writes them",
        "onto its link, a batch per system call, once this host's kernel has resolved the",
        "virtual host's MAC address there (ARP or NDP, asked as soon as the virtual host",
        "appears); 'tun' into the TUN, routed by the kernel",
        "(its forwarding rules apply). Pass-ons and packets too long for the link always take",
        "the TUN."
      })
  Inject inject;

  @Option(
      names = "--inline-burst",
      paramLabel = "N",
      defaultValue = "" + ForwardingContext.DEFAULT_INLINE_BURST,
      description = {
        "frames in a row the capturing thread runs to completion itself while the other thread",
        "is idle (${DEFAULT-VALUE}; 0: hand every frame over), as the redirector's",
        "limits.inlineBurst"
      })
  int inlineBurst;

  @Option(
      names = "--no-tunnel-drop",
      description = {
        "let this host's kernel run IP input on each captured tunnel packet too (by default an",
        "nftables ingress rule on --interface drops them after capture: nft table netdev",
        "hydranet_tunnel)"
      })
  boolean noTunnelDrop;

  @Option(
      names = "--no-second-chance",
      description = "inject every segment, even of connections no virtual host here holds")
  boolean noSecondChance;

  @Option(
      names = "--check",
      description = "check --address and the --control file and exit: 0 valid, 2 not")
  boolean check;

  private final ConfigReloads reloads = new ConfigReloads();
  private Pipeline pipeline;
  private HostServerControl controlPlane;
  // What call() makes, in this order, for the steps after it (main thread).
  private Counters counters;
  private VirtualHostTable table;
  private VirtualHostDirectory directory;
  private SockDiag sockets;
  private HostServerPath path;
  private VirtualHostLinks links;
  private SocketTables socketTables;
  private VirtualHostLinkScan linkScan;

  @Override
  public Integer call() throws Exception {
    if (check) {
      return checkOnly();
    }
    Libpcap.require();
    controlPlane = new HostServerControl(control, stateDir, HostServerCommand::hydranet);
    OptionChecks.requireInterface(iface);
    int self = OptionChecks.address(address);
    long[] self6 = OptionChecks.address6(address6);
    OptionChecks.inlineBurst(inlineBurst);
    ControlConfig controlConfig = loadControl();
    makeTables();
    KernelClaims claims = KernelClaims.claim(self, address6);
    if (!noTunnelDrop) {
      claims.dropTunnelAtIngress(iface, Ipv4Header.formatAddress(self), address6);
    }
    try (TunDevice device = StackSetup.openTun(tun)) {
      StackSetup.prepare(tun);
      buildPath(self, self6, device);
      LivePcapSource source = Capture.open(iface, address, address6);
      try {
        run(controlConfig, source, device);
      } finally {
        source.close();
      }
    } finally {
      claims.close();
    }
    return 0;
  }

  /** {@code --check}: one line, exit 0; or the first problem through UserError, exit 2. */
  private int checkOnly() {
    OptionChecks.address(address);
    OptionChecks.address6(address6);
    OptionChecks.inlineBurst(inlineBurst);
    loadControl();
    System.out.printf(
        "host server %s: valid%s%n", address, control == null ? "" : " (" + control + ")");
    return 0;
  }

  /** The counters, the virtual-host table and the directory {@code hydranet vhost} writes. */
  private void makeTables() throws IOException {
    counters = new Counters(HostServerCounter.count());
    table = new VirtualHostTable();
    directory = new VirtualHostDirectory(stateDir);
    Files.createDirectories(directory.directory());
  }

  /**
   * The decapsulating path: writes into the TUN, or with {@code --inject link} onto the virtual
   * hosts' links; with the second chance, which needs the virtual hosts' socket tables.
   */
  private void buildPath(int self, long[] self6, TunDevice device) {
    sockets = new SockDiag();
    SecondChance secondChance =
        noSecondChance
            ? null
            : new SecondChance(
                self, counters, sockets, device::write, 1 << 16, 10_000_000_000L, 50_000);
    path =
        new HostServerPath(
            self, self6, counters, table, device::write, 64, 5_000_000_000L, secondChance);
    links = new VirtualHostLinks();
    if (inject == Inject.link) {
      path.links(links);
    }
    socketTables = new SocketTables(noSecondChance, path, sockets, counters);
    linkScan = VirtualHostLinkScan.live(path, links);
  }

  /** Starts the pipeline, control plane, metrics and ctl socket; serves until the pipeline ends. */
  private void run(ControlConfig controlConfig, LivePcapSource source, TunDevice device)
      throws IOException, InterruptedException {
    pipeline = Capture.newPipeline(source, path, inlineBurst);
    controlPlane.start(controlConfig, pipeline);
    Shutdown.install(
        controlPlane, pipeline, controlConfig == null ? 0 : controlConfig.drainMillis());
    LOG.info(
        "host server {} on {}: capturing '{}', injecting through {}",
        address,
        iface,
        Capture.filter(address, address6),
        tun);
    pipeline.start();
    MetricsEndpoint metrics =
        MetricsWiring.start(
            metricsAddress, pipeline, counters, table, source, device, reloads, controlPlane);
    controlPlane.startAgent(metrics);
    CtlServer ctlServer = startCtl(counters, table);
    SdNotify.ready("decapsulating for " + address, path::command, pipeline::receiveError);
    serve(
        directory,
        new VirtualHostFollower(path, table, sockets, socketTables, linkScan, controlPlane::agent),
        counters,
        table,
        linkScan);
    ctlServer.close();
    if (metrics != null) {
      metrics.close();
    }
  }

  private ControlConfig loadControl() {
    return ControlFile.load(control);
  }

  private CtlServer startCtl(Counters counters, VirtualHostTable table) throws IOException {
    HostServerViews views = views(counters, table);
    return CtlServer.start(ctl != null ? ctl : stateDir.resolve("hostserver.ctl"), views::answer);
  }

  private HostServerViews views(Counters counters, VirtualHostTable table) {
    return new HostServerViews(
        address, counters, table, () -> pipeline, controlPlane::agent, controlPlane::replicas);
  }

  /** Until the pipeline ends: new virtual hosts and ports announced within ~0.1 s, the status. */
  private void serve(
      VirtualHostDirectory directory,
      VirtualHostDirectory.Listener listener,
      Counters counters,
      VirtualHostTable table,
      VirtualHostLinkScan linkScan)
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
        linkScan.scan();
      }
      if (status != null) {
        writeStatus(counters, table);
      }
    }
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
