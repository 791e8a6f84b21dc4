package net.hydranet.harness.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.hydranet.control.agent.ControlCounters;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.harness.fixture.SampleTopology;
import net.hydranet.hostserver.HostServerCounter;
import net.hydranet.hostserver.VirtualHostTable;
import net.hydranet.hostserver.replica.ReplicaCounters;
import net.hydranet.replica.ReplicaStatus;
import net.hydranet.router.metrics.ControlMetrics;
import net.hydranet.router.metrics.ForwardingMetrics;
import net.hydranet.router.metrics.HostServerMetrics;
import net.hydranet.router.metrics.MetricsEndpoint;
import net.hydranet.router.metrics.ReplicaMetrics;
import org.junit.jupiter.api.Test;

/**
 * Keeps dashboards/ honest: every hydranet_* metric the Grafana dashboard and the alert rules use
 * exists in a real scrape of both daemons' registries, and promtool accepts the scrape config, the
 * rules and the "host server lost" alert test.
 */
class DashboardsTest {
  private static final Path DASHBOARDS = RedirectorUnderTest.repositoryRoot().resolve("dashboards");
  private static final Pattern METRIC = Pattern.compile("hydranet_[a-z_]+");

  @Test
  void shouldOnlyUseMetricsTheDaemonsExport() throws Exception {
    Set<String> exported = new TreeSet<>();
    try (MetricsEndpoint endpoint = MetricsEndpoint.start("127.0.0.1:0")) {
      RedirectorUnderTest router = new RedirectorUnderTest();
      // No pipeline runs here: the ring gauges are registered and read NaN, which is all a
      // name check needs.
      new ForwardingMetrics(endpoint.registry(), router.plane())
          .ring(null)
          .services(List.of(new int[] {SampleTopology.ORIGIN, 6, SampleTopology.HTTP}));
      HostServerMetrics.bind(
          endpoint.registry(),
          new Counters(HostServerCounter.count()),
          new VirtualHostTable(),
          null,
          null);
      ControlMetrics.bind(endpoint.registry(), new ControlCounters());
      ReplicaMetrics.bind(endpoint.registry(), new ReplicaCounters());
      ReplicaMetrics.bindUsage(
          endpoint.registry(),
          () ->
              List.of(
                  new ReplicaStatus(
                      "web-1", "running", 1, 1L << 20, 256L << 20, 1_000_000L, 1, 0, 0, "tcp/80")));
      Matcher m = Pattern.compile("(?m)^(hydranet_[a-z_]+)").matcher(endpoint.scrape());
      while (m.find()) {
        exported.add(m.group(1));
      }
    }
    List<String> used = new ArrayList<>();
    JsonNode dashboard =
        new ObjectMapper().readTree(DASHBOARDS.resolve("grafana/hydranet.json").toFile());
    for (JsonNode panel : dashboard.get("panels")) {
      for (JsonNode target : panel.path("targets")) { // a row has none
        used.add(target.get("expr").asText());
      }
    }
    JsonNode rules =
        new ObjectMapper(new YAMLFactory())
            .readTree(DASHBOARDS.resolve("prometheus/alerts.yml").toFile());
    for (JsonNode group : rules.get("groups")) {
      for (JsonNode rule : group.get("rules")) {
        used.add(rule.get("expr").asText());
      }
    }
    assertTrue(used.size() >= 15, "expressions found: " + used.size());
    for (String expr : used) {
      Matcher m = METRIC.matcher(expr);
      while (m.find()) {
        String name = m.group();
        // Interface and pcap series exist only with live handles; the scrape test of the live
        // system test covers them, and their names are fixed in ForwardingMetrics.
        boolean live = name.contains("_interface_") || name.contains("_pcap_");
        // The redirector's control-plane gauges need a running agent, the manager's and its
        // replicas' series a running manager: ManagerMetricsTest and HydraWebPrometheusIT
        // cover them.
        live |=
            name.startsWith("hydranet_manager_")
                || name.startsWith("hydranet_hydraweb_")
                || name.equals("hydranet_control_peers")
                || name.equals("hydranet_control_host_servers")
                || name.equals("hydranet_control_services");
        assertTrue(
            live || exported.contains(name),
            "'" + name + "' in '" + expr + "' is not exported; exported: " + exported);
      }
    }
  }

  @Test
  void shouldPassPromtool() throws Exception {
    Path prom = DASHBOARDS.resolve("prometheus");
    run(prom, "promtool", "check", "config", "prometheus.yml");
    run(prom, "promtool", "check", "rules", "alerts.yml");
    String out = run(prom, "promtool", "test", "rules", "alerts_test.yml");
    assertTrue(out.contains("SUCCESS"), out);
  }

  private static String run(Path dir, String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", cmd) + " timed out");
    assertEquals(0, p.exitValue(), String.join(" ", cmd) + ":\n" + out);
    return out;
  }
}
