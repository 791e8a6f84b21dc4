package net.hydranet.router.cli;

import com.lmax.disruptor.LiteBlockingWaitStrategy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import net.hydranet.control.agent.HostServerAgent;
import net.hydranet.control.auth.Keys;
import net.hydranet.control.ctl.CtlServer;
import net.hydranet.forwarding.config.ForwardingContext;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.io.FrameSource;
import net.hydranet.forwarding.io.live.KernelChecks;
import net.hydranet.forwarding.io.live.LivePcapSource;
import net.hydranet.forwarding.io.live.PcapWait;
import net.hydranet.forwarding.io.live.TunDevice;
import net.hydranet.forwarding.pipeline.Pipeline;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.hostserver.HostServerCounter;
import net.hydranet.hostserver.HostServerPath;
import net.hydranet.hostserver.ProtocolClaim;
import net.hydranet.hostserver.VirtualHostDirectory;
import net.hydranet.hostserver.VirtualHostTable;
import net.hydranet.hostserver.replica.Confinement;
import net.hydranet.hostserver.replica.Launcher;
import net.hydranet.hostserver.replica.Origin;
import net.hydranet.hostserver.replica.ReplicaService;
import net.hydranet.replica.ReplicaStatus;
import net.hydranet.replica.Resources;
import net.hydranet.router.config.ConfigException;
import net.hydranet.router.config.ControlConfig;
import net.hydranet.router.config.ControlConfigLoader;
import net.hydranet.router.control.ControlPlane;
import net.hydranet.router.metrics.ControlMetrics;
import net.hydranet.router.metrics.HostServerMetrics;
import net.hydranet.router.metrics.MetricsEndpoint;
import net.hydranet.router.metrics.ReplicaMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code hydranet hostserver}: decapsulates redirected packets into local virtual hosts. */
@Command(
    name = "hostserver",
    mixinStandardHelpOptions = true,
    description = {
      "Runs a host server: captures IP-in-IP packets addressed to it, reassembles outer",
      "fragments, strips the outer header and injects the inner packet through a TUN device",
      "into this host's stack, where the virtual host (see 'hydranet vhost') answers under the",
      "origin's address. It sets what that needs: the TUN up, rp_filter off for it,",
      "ip_forward on (packets are routed from the TUN to each virtual host's namespace).",
      "",
      "Example:",
      "  hydranet hostserver --interface eth0 --address 198.18.1.20"
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
      names = "--ctl",
      description = "local operator socket for 'hydranet ctl' (default: STATE-DIR/hostserver.ctl)")
  Path ctl;

  private HostServerAgent agent;
  private Pipeline pipeline;
  private ReplicaService replicas;

  @Override
  public Integer call() throws Exception {
    Optional<String> libpcap = KernelChecks.libpcapProblem();
    if (libpcap.isPresent()) {
      throw new UserError(libpcap.get());
    }
    if (!KernelChecks.interfaceExists(iface)) {
      throw new UserError("--interface: no interface '" + iface + "' on this host");
    }
    int self;
    try {
      self = Ipv4Header.parseAddress(address);
    } catch (IllegalArgumentException e) {
      throw new UserError("--address: '" + address + "' is not an IPv4 address");
    }
    ControlConfig controlConfig = null;
    if (control != null) {
      try {
        controlConfig = ControlConfigLoader.load(control);
      } catch (ConfigException e) {
        throw new UserError(e.getMessage());
      }
    }
    Counters counters = new Counters(HostServerCounter.count());
    VirtualHostTable table = new VirtualHostTable();
    VirtualHostDirectory directory = new VirtualHostDirectory(stateDir);
    Files.createDirectories(directory.directory());

    ProtocolClaim claim = claimIpip();
    try (TunDevice device = openTun()) {
      prepareStack();
      HostServerPath path =
          new HostServerPath(self, counters, table, device::write, 64, 5_000_000_000L);
      String filter = "inbound and ip proto 4 and dst host " + address;
      LivePcapSource source;
      try {
        source = LivePcapSource.open(iface, new LivePcapSource.Options().ingress(0).filter(filter));
      } catch (IOException e) {
        throw new UserError(e.getMessage());
      }
      try {
        pipeline =
            new Pipeline(
                1024,
                new FrameSource[] {source},
                path,
                () -> {},
                new Counters(),
                Pipeline.Clock.LIVE,
                new LiteBlockingWaitStrategy(),
                ForwardingContext.DEFAULT_INLINE_BURST);
        try {
          pipeline.deepIdle(PcapWait.of(List.of(source)), Pipeline.DEEP_IDLE_NANOS);
        } catch (IOException e) {
          LOG.warn("the receive thread will poll even when idle: {}", e.getMessage());
        }
        if (controlConfig != null) {
          try {
            agent = ControlPlane.hostServer(controlConfig, ControlPlane::hostLoad);
          } catch (ConfigException e) {
            pipeline.close();
            throw new UserError(control + ": " + e.getMessage());
          }
        }
        if (controlConfig != null && controlConfig.replicas() != null) {
          try {
            replicas = startReplicas(controlConfig);
          } catch (ConfigException | IOException | IllegalArgumentException e) {
            pipeline.close();
            if (agent != null) {
              agent.close();
            }
            throw new UserError(control + ": replicas: " + e.getMessage());
          }
        }
        long drainMillis = controlConfig == null ? 0 : controlConfig.drainMillis();
        Runtime.getRuntime()
            .addShutdownHook(
                new Thread(
                    () -> {
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
        LOG.info(
            "host server {} on {}: capturing '{}', injecting through {}",
            address,
            iface,
            filter,
            tun);
        pipeline.start();
        MetricsEndpoint metrics = null;
        if (!metricsAddress.equals("off")) {
          try {
            metrics = MetricsEndpoint.start(metricsAddress);
          } catch (IllegalArgumentException e) {
            pipeline.close();
            throw new UserError(e.getMessage());
          }
          HostServerMetrics.bind(metrics.registry(), counters, table, source, device);
          LOG.info("metrics on http://{}/metrics", metricsAddress);
        }
        if (replicas != null && metrics != null) {
          ReplicaMetrics.bind(metrics.registry(), replicas.counters());
          ReplicaMetrics.bindUsage(metrics.registry(), replicas::statuses);
        }
        if (agent != null) {
          if (metrics != null) {
            ControlMetrics.bind(metrics.registry(), agent.counters());
          }
          agent.start();
        }
        CtlServer ctlServer =
            CtlServer.start(
                ctl != null ? ctl : stateDir.resolve("hostserver.ctl"),
                command -> {
                  String data = statusText(counters, table);
                  if (command.equals("status")) {
                    return data;
                  }
                  if (command.equals("replicas")) {
                    return replicasText();
                  }
                  try {
                    return (agent == null
                            ? "the control plane is off (no --control)\n"
                            : agent.show())
                        + "\n"
                        + data;
                  } catch (Exception e) {
                    return "error: " + e.getMessage() + "\n";
                  }
                });
        VirtualHostDirectory.Listener listener = listener(path, table);
        while (!pipeline.awaitEnd(100)) { // a new port is announced within ~0.1 s
          if (pipeline.receiveError() != null) {
            LOG.error("receive failed: {}", pipeline.receiveError().getMessage());
            break;
          }
          directory.scan(listener);
          if (status != null) {
            writeStatus(counters, table);
          }
        }
        ctlServer.close();
        if (metrics != null) {
          metrics.close();
        }
      } finally {
        source.close();
      }
    } finally {
      claim.close();
    }
    return 0;
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
                o.prefix(),
                o.length(),
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
                  public void drain(int origin, List<String> ports) {
                    forEach(
                        ports,
                        (p, n) -> {
                          if (agent != null) {
                            agent.drainService(origin, p, n);
                          }
                        });
                  }

                  @Override
                  public void drained(int origin, List<String> ports) {
                    forEach(
                        ports,
                        (p, n) -> {
                          if (agent != null) {
                            agent.undrainService(origin, p, n);
                          }
                        });
                  }
                });
    return new ReplicaService(ctx).start();
  }

  private static void forEach(
      List<String> ports, java.util.function.BiConsumer<Integer, Integer> f) {
    for (String p : ports) {
      int slash = p.indexOf('/');
      int protocol = p.startsWith("tcp") ? Ipv4Header.PROTOCOL_TCP : Ipv4Header.PROTOCOL_UDP;
      f.accept(protocol, Integer.parseInt(p.substring(slash + 1)));
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

  /** {@code hydranet ctl replicas}: each replica's state and use. */
  private String replicasText() {
    if (replicas == null) {
      return "the replica service is off (no 'replicas:' in the --control file)\n";
    }
    StringBuilder sb = new StringBuilder();
    List<ReplicaStatus> all = replicas.statuses();
    Map<String, String> origins = replicas.origins();
    sb.append(all.size()).append(" replica(s)\n");
    for (ReplicaStatus s : all) {
      sb.append("  ").append(s).append("  serving ").append(origins.get(s.name())).append('\n');
    }
    var n = replicas.counters();
    for (var c : net.hydranet.hostserver.replica.ReplicaCounter.values()) {
      if (n.get(c) != 0) {
        sb.append(String.format("  %-28s %d%n", c.metricName(), n.get(c)));
      }
    }
    for (var r : net.hydranet.replica.Refusal.values()) {
      if (n.refusals(r) != 0) {
        sb.append(
            String.format(
                "  refused %-20s %d%n",
                r.name().toLowerCase(java.util.Locale.ROOT), n.refusals(r)));
      }
    }
    return sb.toString();
  }

  private TunDevice openTun() {
    try {
      return TunDevice.open(tun);
    } catch (IOException e) {
      throw new UserError("--tun " + tun + ": " + e.getMessage());
    }
  }

  private static ProtocolClaim claimIpip() {
    try {
      return ProtocolClaim.claim(Ipv4Header.PROTOCOL_IPIP);
    } catch (IllegalStateException e) {
      throw new UserError(e.getMessage());
    }
  }

  /** The stack settings injection needs; each is logged, none is silent. */
  private void prepareStack() throws IOException, InterruptedException {
    run("ip", "link", "set", tun, "up");
    sysctl("net/ipv4/conf/all/rp_filter", "0");
    sysctl("net/ipv4/conf/" + tun + "/rp_filter", "0");
    sysctl("net/ipv4/ip_forward", "1");
  }

  private static void sysctl(String key, String value) throws IOException {
    Path p = Path.of("/proc/sys").resolve(key);
    String before = Files.readString(p).strip();
    if (!before.equals(value)) {
      Files.writeString(p, value);
      LOG.info("set {} = {} (was {})", key.replace('/', '.'), value, before);
    }
  }

  private static void run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new UserError(String.join(" ", cmd) + ": " + out.strip());
    }
  }

  private VirtualHostDirectory.Listener listener(HostServerPath path, VirtualHostTable table) {
    return new VirtualHostDirectory.Listener() {
      @Override
      public void virtualHostAdded(int origin) {
        LOG.info("virtual host {} installed", Ipv4Header.formatAddress(origin));
        path.command(() -> table.addVirtualHost(origin));
      }

      @Override
      public void virtualHostRemoved(int origin) {
        LOG.info("virtual host {} removed", Ipv4Header.formatAddress(origin));
        path.command(() -> table.removeVirtualHost(origin));
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
    };
  }

  private void writeStatus(Counters counters, VirtualHostTable table) {
    String sb = statusText(counters, table);
    try {
      Path tmp = status.resolveSibling(status.getFileName() + ".tmp");
      Files.writeString(tmp, sb);
      Files.move(tmp, status, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      LOG.warn("cannot write status file {}: {}", status, e.getMessage());
    }
  }

  /** Virtual hosts, ports and the data path's non-zero counters. */
  private String statusText(Counters counters, VirtualHostTable table) {
    StringBuilder sb = new StringBuilder();
    if (pipeline != null && pipeline.receiveError() != null) {
      sb.append("RECEIVE FAILED: ").append(pipeline.receiveError().getMessage()).append('\n');
    }
    sb.append("host server ")
        .append(address)
        .append(": ")
        .append(table.virtualHosts())
        .append(" virtual host(s), ")
        .append(table.boundPorts())
        .append(" port(s)\n");
    for (int i = 0; i < HostServerCounter.count(); i++) {
      long v = counters.get(i);
      if (v != 0) {
        sb.append(String.format("  %-28s %d%n", HostServerCounter.of(i).metricName(), v));
      }
    }
    return sb.toString();
  }
}
