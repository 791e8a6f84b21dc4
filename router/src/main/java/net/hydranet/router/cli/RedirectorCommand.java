package net.hydranet.router.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import net.hydranet.control.ctl.CtlServer;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.router.config.ControlConfig;
import net.hydranet.router.config.RedirectorConfig;
import net.hydranet.router.daemon.DaemonLoggers;
import net.hydranet.router.daemon.Libpcap;
import net.hydranet.router.daemon.redirector.Captures;
import net.hydranet.router.daemon.redirector.ConfigFiles;
import net.hydranet.router.daemon.redirector.ConfigReload;
import net.hydranet.router.daemon.redirector.KernelGuard;
import net.hydranet.router.daemon.redirector.KnownServices;
import net.hydranet.router.daemon.redirector.Liveness;
import net.hydranet.router.daemon.redirector.MetricsWiring;
import net.hydranet.router.daemon.redirector.RedirectorControl;
import net.hydranet.router.daemon.redirector.SecondChancePort;
import net.hydranet.router.daemon.redirector.Shutdown;
import net.hydranet.router.daemon.redirector.StatusWriter;
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
  private static final Logger LOG = LoggerFactory.getLogger(DaemonLoggers.REDIRECTOR);

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
        "forwarding pipelines, each with its own ring, threads, connection table and counters,",
        "fed as limits.pipelineFeed says (flow: PACKET_FANOUT on every interface; interface:",
        "one interface each); overrides limits.pipelines (1)"
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
  private Liveness liveness;
  private Shutdown shutdown;

  @Override
  public Integer call() throws Exception {
    if (check) {
      return configFiles().check();
    }
    Libpcap.require();
    makeParts();
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
        runUntilStopped(plane, cfg);
      } finally {
        ctlServer.close();
      }
      return 0;
    } finally {
      release();
    }
  }

  /** The parts that take option values, once picocli has set them. */
  private void makeParts() {
    kernel = new KernelGuard(skipKernelChecks);
    controlPlane = new RedirectorControl(control, services);
    metrics = new MetricsWiring(metricsAddress, controlPlane::agent, reloads, services);
    liveness = new Liveness(livenessLink);
    shutdown = new Shutdown(liveness);
  }

  /** Stops what {@link #call} started, in reverse order; the shutdown hook waits for this. */
  private void release() {
    liveness.withdraw();
    metrics.stopSampler();
    controlPlane.close();
    metrics.close();
    captures.close();
    secondChancePort.close();
    try {
      kernel.removeTransitDrop();
    } finally {
      shutdown.released();
    }
  }

  private CtlServer startCtl(ForwardingPlane plane) throws IOException {
    RedirectorViews views = new RedirectorViews(plane, controlPlane::agent);
    return CtlServer.start(ctl, views::answer);
  }

  /**
   * Forwards until SIGTERM (the shutdown hook drains the ring) or a receive failure; meanwhile
   * reloads the config on SIGHUP or when the file changes and writes the status file.
   */
  private void runUntilStopped(ForwardingPlane plane, RedirectorConfig initial)
      throws InterruptedException {
    shutdown.install(plane);
    Hangup hangup = Hangup.install();
    LOG.info("forwarding");
    SdNotify.ready("forwarding", r -> Liveness.everyPipeline(plane, r), plane::receiveError);
    liveness.open(plane);
    ConfigReload reload =
        new ConfigReload(config, initial, hangup::take, reloads, controlPlane, services);
    StatusWriter statusFile = new StatusWriter(status);
    while (!plane.awaitEnd(200)) {
      reload.poll(plane);
      statusFile.poll(plane);
      if (plane.receiveError() != null) {
        LOG.error("receive failed: {}", plane.receiveError().getMessage());
        break;
      }
    }
    shutdown.awaitStopped();
  }

  private ConfigFiles configFiles() {
    return new ConfigFiles(config, control, pipelines);
  }
}
