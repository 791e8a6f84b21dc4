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
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.io.FrameSource;
import net.hydranet.forwarding.io.TxPort;
import net.hydranet.forwarding.io.live.KernelChecks;
import net.hydranet.forwarding.io.live.LivePcapSource;
import net.hydranet.forwarding.pipeline.Pipeline;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.router.config.ConfigException;
import net.hydranet.router.config.ConfigLoader;
import net.hydranet.router.config.RedirectorConfig;
import net.hydranet.router.metrics.ForwardingMetrics;
import net.hydranet.router.metrics.MetricsEndpoint;
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
      "on every interface named (checked at start). The config is re-read when it changes;",
      "redirects are then updated in place. SIGTERM drains the ring and exits.",
      "",
      "Example:",
      "  hydranet redirector --config /etc/hydranet/redirector.yaml --status /run/hydranet/status"
    })
public final class RedirectorCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger("hydranet.redirector");

  @Option(names = "--config", required = true, description = "redirector YAML configuration")
  Path config;

  @Option(
      names = "--status",
      description = "write the table and counters to this file every second")
  Path status;

  @Option(
      names = "--metrics",
      defaultValue = "127.0.0.1:9464",
      description = "serve Prometheus /metrics on HOST:PORT, or 'off' (${DEFAULT-VALUE})")
  String metricsAddress;

  @Option(
      names = "--skip-kernel-checks",
      description = "start even if ip_forward or offloads are wrong (for experiments only)")
  boolean skipKernelChecks;

  @Override
  public Integer call() throws Exception {
    Optional<String> libpcap = KernelChecks.libpcapProblem();
    if (libpcap.isPresent()) {
      throw new UserError(libpcap.get());
    }
    RedirectorConfig cfg = load();
    List<String> names = new ArrayList<>();
    for (RouterInterface i : cfg.context().interfaces()) {
      names.add(i.name());
    }
    List<String> problems = KernelChecks.check(names);
    if (!problems.isEmpty()) {
      if (!skipKernelChecks) {
        throw new UserError(String.join("; ", problems));
      }
      problems.forEach(p -> LOG.warn("kernel check ignored: {}", p));
    }

    List<LivePcapSource> sources = new ArrayList<>();
    TxPort[] ports = new TxPort[names.size()];
    try {
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
      ForwardingPlane plane = new ForwardingPlane(cfg.context(), ports);
      cfg.applyTo(plane);
      logStartup(cfg);
      plane.start(
          sources.toArray(new FrameSource[0]), Pipeline.Clock.LIVE, new LiteBlockingWaitStrategy());
      if (!metricsAddress.equals("off")) {
        try {
          metrics = MetricsEndpoint.start(metricsAddress);
        } catch (IllegalArgumentException e) {
          plane.close();
          throw new UserError(e.getMessage());
        }
        meters =
            new ForwardingMetrics(metrics.registry(), plane)
                .interfaces(sources)
                .ring(plane.pipeline());
        meters.services(services(cfg));
        LOG.info("metrics on http://{}/metrics", metricsAddress);
      }
      run(plane, cfg);
      return 0;
    } finally {
      if (metrics != null) {
        metrics.close();
      }
      for (LivePcapSource s : sources) {
        s.close();
      }
    }
  }

  private MetricsEndpoint metrics;
  private ForwardingMetrics meters;

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
              plane.close();
              stopped.countDown();
            },
            "hydranet-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    LOG.info("forwarding");
    RedirectorConfig current = initial;
    FileTime seen = modified(config);
    while (!plane.pipeline().awaitEnd(1_000)) {
      FileTime now = modified(config);
      if (now != null && !now.equals(seen)) {
        seen = now;
        current = reload(plane, current);
      }
      if (status != null) {
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
      LOG.error("config changed but is not valid, keeping the running one: {}", e.getMessage());
      return current;
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
    LOG.info("config changed: {} redirects applied, {} removed", next.redirects().size(), removed);
    if (meters != null) {
      meters.services(services(next));
    }
    return next;
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
            Summary.print(ps, p, cfg);
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
      LOG.info(
          "redirect {}:{}/{} to {} host server(s)",
          Ipv4Header.formatAddress(r.address()),
          r.port(),
          r.protocol() == Ipv4Header.PROTOCOL_TCP ? "tcp" : "udp",
          r.hostServers().length);
    }
  }
}
