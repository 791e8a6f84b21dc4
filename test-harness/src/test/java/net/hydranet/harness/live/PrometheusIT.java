package net.hydranet.harness.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.lab.netns.ExecResult;
import net.hydranet.lab.netns.PaperNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A real Prometheus (Debian's package, on loopback in the redirector's namespace) scrapes our
 * redirector and host server while traffic flows; every expression of the Grafana dashboard and of
 * the alert rules (without its threshold) must return data, and every rule must load healthy.
 */
class PrometheusIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  @Timeout(180)
  void shouldAnswerEveryDashboardAndAlertExpressionFromARealPrometheus() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
    Path root = RedirectorUnderTest.repositoryRoot();
    Path jar = root.resolve("router/target/hydranet.jar");
    assumeTrue(Files.exists(jar), "router/target/hydranet.jar is built by mvn package");
    String java = ProcessHandle.current().info().command().orElse("java");
    try (PaperNetwork net =
        new PaperNetwork("hnpm", List.of(java, "-jar", jar.toString()))
            .hostServerMetrics(PaperNetwork.HOST_SERVER + ":9465")) {
      net.start();
      net.installWebReplica("served by the REPLICA\n");
      net.redirect(80, "tcp");
      Path work = net.workDir();
      Path config = work.resolve("prometheus.yml");
      Files.writeString(
          config,
          String.join(
              "\n",
              "global: { scrape_interval: 1s, evaluation_interval: 1s }",
              "rule_files: [ '" + root.resolve("dashboards/prometheus/alerts.yml") + "' ]",
              "scrape_configs:",
              "  - job_name: hydranet-redirector",
              "    static_configs: [ { targets: ['127.0.0.1:9464'] } ]",
              "  - job_name: hydranet-hostserver",
              "    static_configs: [ { targets: ['" + PaperNetwork.HOST_SERVER + ":9465'] } ]",
              ""));
      var topo = net.topology();
      topo.spawn(
          "redir",
          "prometheus",
          "--config.file=" + config,
          "--storage.tsdb.path=" + work.resolve("tsdb"),
          "--web.listen-address=127.0.0.1:9090");
      net.await("prometheus to be ready", () -> api(net, "/-/ready").ok());
      for (int i = 0; i < 10; i++) {
        assertTrue(net.curl(80).stdout().contains("REPLICA"));
        assertTrue(net.curl(8080).stdout().contains("ORIGIN"));
      }
      net.await(
          "both daemons scraped",
          () ->
              query(net, "sum(up{job=~\"hydranet-.*\"})")
                  .path(0)
                  .path("value")
                  .path(1)
                  .asText()
                  .equals("2"));
      Thread.sleep(4_000);

      List<String> missing = new ArrayList<>();
      List<String> expressions = expressions(root);
      assertTrue(expressions.size() >= 20, "expressions: " + expressions.size());
      for (String expr : expressions) {
        if (query(net, expr).isEmpty()) {
          missing.add(expr);
        }
      }
      assertEquals(List.of(), missing, "expressions with no data");

      JsonNode rules =
          JSON.readTree(api(net, "/api/v1/rules").stdout()).path("data").path("groups");
      int healthy = 0;
      for (JsonNode group : rules) {
        for (JsonNode rule : group.path("rules")) {
          assertEquals("ok", rule.path("health").asText(), rule.toString());
          healthy++;
        }
      }
      assertEquals(ruleCount(root), healthy, "every alert rule loaded");
    }
  }

  /**
   * The paper's network has no control plane and no HydraWeb: their rows are
   * HydraWebPrometheusIT's.
   */
  private static boolean hereToo(String expr) {
    return !expr.matches("(?s).*hydranet_(control|manager|hydraweb|replica)_.*");
  }

  private static int ruleCount(Path root) throws Exception {
    int n = 0;
    JsonNode alerts =
        new ObjectMapper(new YAMLFactory())
            .readTree(root.resolve("dashboards/prometheus/alerts.yml").toFile());
    for (JsonNode group : alerts.path("groups")) {
      n += group.path("rules").size();
    }
    return n;
  }

  /**
   * Every dashboard query, and every alert expression without its final threshold, that the
   * redirector and host server of the paper's network answer.
   */
  private static List<String> expressions(Path root) throws Exception {
    List<String> out = new ArrayList<>();
    JsonNode dashboard = JSON.readTree(root.resolve("dashboards/grafana/hydranet.json").toFile());
    for (JsonNode panel : dashboard.path("panels")) {
      for (JsonNode target : panel.path("targets")) { // a row has none
        // Grafana's variables, as "All" and the default rate interval would expand them.
        out.add(
            target
                .path("expr")
                .asText()
                .replace("$__rate_interval", "1m")
                .replace("$job", ".+")
                .replace("$instance", ".+"));
      }
    }
    JsonNode alerts =
        new ObjectMapper(new YAMLFactory())
            .readTree(root.resolve("dashboards/prometheus/alerts.yml").toFile());
    for (JsonNode group : alerts.path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        out.add(
            rule.path("expr").asText().strip().replaceAll("\\s*(==|!=|>=|<=|>|<)\\s*[0-9.]+$", ""));
      }
    }
    out.removeIf(e -> !hereToo(e));
    return out;
  }

  private static JsonNode query(PaperNetwork net, String expr) {
    ExecResult r =
        net.topology()
            .exec(
                "redir",
                Duration.ofSeconds(10),
                "curl",
                "-s",
                "-m",
                "5",
                "-G",
                "http://127.0.0.1:9090/api/v1/query",
                "--data-urlencode",
                "query=" + expr);
    try {
      JsonNode body = JSON.readTree(r.stdout());
      assertEquals("success", body.path("status").asText(), expr + ": " + r.stdout());
      return body.path("data").path("result");
    } catch (java.io.IOException e) {
      throw new AssertionError(expr + ": " + r.describe(), e);
    }
  }

  private static ExecResult api(PaperNetwork net, String path) {
    return net.topology()
        .exec(
            "redir",
            Duration.ofSeconds(10),
            "curl",
            "-sf",
            "-m",
            "5",
            "http://127.0.0.1:9090" + path);
  }
}
