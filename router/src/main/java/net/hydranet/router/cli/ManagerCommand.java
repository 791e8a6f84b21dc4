package net.hydranet.router.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import net.hydranet.control.ctl.CtlServer;
import net.hydranet.hydraweb.manager.ManagerConfig;
import net.hydranet.hydraweb.manager.ReplicaManager;
import net.hydranet.router.config.ConfigException;
import net.hydranet.router.config.ManagerConfigLoader;
import net.hydranet.router.error.UserError;
import net.hydranet.router.metrics.ConfigReloads;
import net.hydranet.router.metrics.ManagerMetrics;
import net.hydranet.router.metrics.MetricsEndpoint;
import net.hydranet.router.systemd.SdNotify;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hydranet manager}: HydraWeb's replica manager, on the origin beside its web server. It
 * installs signed HydraWeb replicas on host servers (by load, or when asked), pre-heats them,
 * pushes changed objects, answers their misses from the origin's web server and reads their hit
 * counts; it removes them (drained) when load falls or when it stops.
 */
@Command(
    name = "manager",
    mixinStandardHelpOptions = true,
    description = {
      "Runs HydraWeb's replica manager for an origin (see config/hydraweb-manager.yaml and",
      "replica-protocol/REPLICAS.md). Ask it with hydranet ctl --ctl-socket PATH status|hits|",
      "acked URL-PATH|install [HOST-SERVER]|remove NAME. --check only validates the config",
      "and exits 0 or 2; on SIGHUP it is checked again and a valid change is logged as",
      "needing a restart.",
      "",
      "Example:",
      "  hydranet manager --check --config config/hydraweb-manager.yaml",
      "  hydranet manager --config config/hydraweb-manager.yaml --metrics 127.0.0.1:9466"
    })
public final class ManagerCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(ManagerCommand.class);

  @Option(names = "--config", required = true, description = "the manager's YAML config")
  Path config;

  @Option(
      names = "--ctl-socket",
      description = "local operator socket for 'hydranet ctl' (/run/hydranet/manager/ctl)")
  Path ctl = Path.of("/run/hydranet/manager/ctl");

  @Option(names = "--ctl", hidden = true, description = "deprecated: --ctl-socket")
  void deprecatedCtl(Path path) {
    LOG.warn("--ctl is deprecated, use --ctl-socket");
    ctl = path;
  }

  @Option(
      names = "--metrics",
      defaultValue = "127.0.0.1:9466",
      description = {
        "serve Prometheus /metrics on HOST:PORT, or 'off' (${DEFAULT-VALUE}): the manager's",
        "counters, the origin's load and each replica's hits, misses and requests"
      })
  String metricsAddress;

  @Option(names = "--check", description = "check the config and exit: 0 valid, 2 not")
  boolean check;

  @Override
  public Integer call() throws Exception {
    ManagerConfig c;
    try {
      c = ManagerConfigLoader.load(config);
    } catch (ConfigException e) {
      throw new UserError(e.getMessage());
    }
    if (check) {
      System.out.printf("%s: valid (%d host servers)%n", config, c.hostServers().size());
      return 0;
    }
    ConfigReloads reloads = new ConfigReloads();
    MetricsEndpoint metrics = null;
    if (!metricsAddress.equals("off")) {
      try {
        metrics = MetricsEndpoint.start(metricsAddress);
      } catch (IllegalArgumentException e) {
        throw new UserError(e.getMessage());
      }
    }
    ReplicaManager manager = ReplicaManager.create(c).start();
    if (metrics != null) {
      ManagerMetrics.bind(metrics.registry(), manager);
      reloads.bind(metrics.registry());
      LOG.info("metrics on http://{}/metrics", metricsAddress);
    }
    CountDownLatch stopped = new CountDownLatch(1);
    CtlServer server = CtlServer.start(ctl, command -> answer(manager, c, command));
    MetricsEndpoint endpoint = metrics;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  SdNotify.stopping("removing replicas");
                  server.close();
                  manager.close();
                  if (endpoint != null) {
                    endpoint.close();
                  }
                  stopped.countDown();
                },
                "hydranet-manager-stop"));
    LOG.info("replica manager for {} running; ctl at {}", c.managerAddressesText(), ctl);
    SdNotify.ready("managing replicas", Runnable::run, () -> null);
    Hangup hangup = Hangup.install();
    UnappliedReload reload = new UnappliedReload(config, ManagerConfigLoader::load, reloads);
    while (!stopped.await(200, java.util.concurrent.TimeUnit.MILLISECONDS)) {
      if (hangup.take()) {
        reload.reload();
      }
    }
    return 0;
  }

  static String answer(ReplicaManager m, ManagerConfig c, String command) {
    CtlRequest r = CtlRequest.parse(command);
    String[] w = r.words().isEmpty() ? new String[] {"all"} : r.words().toArray(new String[0]);
    try {
      if (r.json()) {
        return json(m, c, r);
      }
      switch (w[0]) {
        case "status", "all" -> {
          return m.snapshot() + links(m, c) + counters(m);
        }
        case "hits" -> {
          StringBuilder sb = new StringBuilder();
          for (String name : m.replicaNames()) {
            sb.append("replica ").append(name).append('\n');
            for (Map.Entry<String, Long> e : m.hits(name).entrySet()) {
              sb.append(String.format(Locale.ROOT, "%s %d%n", e.getKey(), e.getValue()));
            }
          }
          return sb.toString();
        }
        case "acked" -> {
          if (w.length < 2) {
            return "usage: acked URL-PATH\n";
          }
          return acked(m, w[1]);
        }
        case "install" -> {
          int index = 0;
          if (w.length > 1) {
            index = -1;
            List<ManagerConfig.HostServer> hs = c.hostServers();
            for (int i = 0; i < hs.size(); i++) {
              if (hs.get(i).toString().equals(w[1])) {
                index = i;
              }
            }
            if (index < 0) {
              return "REFUSED: " + w[1] + " is not a configured host server\n";
            }
          }
          String name = m.install(index);
          return name != null ? "OK " + name + "\n" : "FAILED: see the manager's log\n";
        }
        case "remove" -> {
          if (w.length < 2) {
            return "usage: remove NAME\n";
          }
          return m.remove(w[1]) ? "OK " + w[1] + " removed\n" : "FAILED: see the manager's log\n";
        }
        default -> {
          return r.unknown(REQUESTS);
        }
      }
    } catch (Exception e) {
      return r.error(String.valueOf(e.getMessage()));
    }
  }

  private static final String[] REQUESTS = {
    "status", "hits", "acked URL-PATH", "install [HOST-SERVER]", "remove NAME", "all"
  };

  /**
   * The views as JSON: status (replicas, host-server links, counters) and hits; the actions (acked,
   * install, remove) answer in text only and say so.
   */
  private static String json(ReplicaManager m, ManagerConfig c, CtlRequest r) {
    ObjectNode o = CtlRequest.JSON.createObjectNode();
    switch (r.verb()) {
      case "status", "all" -> {
        o.put("snapshot", m.snapshot());
        ReplicaManager.OriginStatus origin = m.origin();
        ObjectNode on =
            o.putObject("origin")
                .put("web_server", c.webServer().toString())
                .put("state", origin.state());
        if (origin.lastContactMillis() >= 0) {
          on.put("last_contact", Instant.ofEpochMilli(origin.lastContactMillis()).toString());
        }
        if (origin.down()) {
          on.put("down_since", Instant.ofEpochMilli(origin.downSinceMillis()).toString())
              .put("failure", origin.failure())
              .put("misses_answered", origin.status());
        }
        ArrayNode links = o.putArray("host_servers");
        for (int i = 0; i < c.hostServers().size(); i++) {
          links
              .addObject()
              .put("host_server", c.hostServers().get(i).toString())
              .put("connected", m.isConnected(i));
        }
        ObjectNode counters = o.putObject("counters");
        m.counters().forEach((k, v) -> counters.put(k.name().toLowerCase(Locale.ROOT), v));
      }
      case "hits" -> {
        ObjectNode hits = o.putObject("hits");
        for (String name : m.replicaNames()) {
          ObjectNode per = hits.putObject(name);
          m.hits(name).forEach(per::put);
        }
      }
      case "acked", "install", "remove" -> {
        return r.error("usage: '" + r.verb() + "' answers in text only (leave out --json)");
      }
      default -> {
        return r.unknown(REQUESTS);
      }
    }
    return CtlRequest.answer(o);
  }

  /**
   * The consistency point of one path (REPLICAS.md): the docroot's version, and per replica the
   * version it ACKed and when; from then on it serves that version or a newer one.
   */
  private static String acked(ReplicaManager m, String path) {
    long v = m.docrootVersion(path);
    StringBuilder sb = new StringBuilder("docroot ").append(v < 0 ? "none" : "v" + v).append('\n');
    for (String name : m.replicaNames()) {
      long a = m.ackedVersion(name, path);
      sb.append(name).append(' ');
      if (a < 0) {
        sb.append("none\n");
      } else {
        sb.append('v')
            .append(a)
            .append(" acked at ")
            .append(Instant.ofEpochMilli(m.ackedAtMillis(name, path)))
            .append('\n');
      }
    }
    return sb.toString();
  }

  private static String links(ReplicaManager m, ManagerConfig c) {
    StringBuilder sb = new StringBuilder("\nhost servers:\n");
    for (int i = 0; i < c.hostServers().size(); i++) {
      sb.append("  ")
          .append(c.hostServers().get(i))
          .append(m.isConnected(i) ? " connected" : " not connected")
          .append('\n');
    }
    return sb.toString();
  }

  private static String counters(ReplicaManager m) {
    StringBuilder sb = new StringBuilder("\ncounters:\n");
    m.counters()
        .forEach(
            (k, v) -> {
              if (v != 0) {
                sb.append(
                    String.format(
                        Locale.ROOT, "  %-28s %d%n", k.name().toLowerCase(Locale.ROOT), v));
              }
            });
    return sb.toString();
  }
}
