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
import net.hydranet.lab.netns.WebNetwork;
import net.hydranet.lab.netns.WebReplicas;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A real Prometheus (Debian's package, on loopback in r1's namespace) scrapes HydraWeb's network
 * ({@link WebNetwork}) — the redirector with its control plane, the host server running a confined
 * HydraWeb replica, and the origin's replica manager — while clients get hits and misses; every
 * expression of the Grafana dashboard and of the alert rules (thresholds removed) must return data,
 * and every rule must load healthy.
 */
class HydraWebPrometheusIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PROMETHEUS = "http://127.0.0.1:9090";

  @Test
  @Timeout(300)
  void shouldAnswerEveryDashboardAndAlertExpressionFromARealPrometheus() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
    Path root = RedirectorUnderTest.repositoryRoot();
    Path jar = root.resolve("lab/target/hydranet-lab.jar");
    Path hydraweb = root.resolve("hydraweb/target/hydraweb.jar");
    assumeTrue(
        Files.exists(jar), "lab/target/hydranet-lab.jar (hydranet wan) is built by mvn package");
    assumeTrue(Files.exists(hydraweb), "hydraweb/target/hydraweb.jar is built by mvn package");
    String java = ProcessHandle.current().info().command().orElse("java");
    try (WebNetwork net = new WebNetwork("hnwpm", List.of(java, "-jar", jar.toString()), 10)) {
      // r1 on loopback beside Prometheus; hs1 and the manager on their own addresses, which r1's
      // namespace reaches over the LAN and the WAN.
      net.metrics("127.0.0.1:9464", WebNetwork.HS1 + ":9465", WebNetwork.MANAGER + ":9466");
      WebReplicas replicas = new WebReplicas(net, hydraweb);
      net.start(replicas.hostServerConfig());
      replicas.startManager(false);
      replicas.install();

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
              "    static_configs: [ { targets: ['" + WebNetwork.HS1 + ":9465'] } ]",
              "  - job_name: hydranet-manager",
              "    static_configs: [ { targets: ['" + WebNetwork.MANAGER + ":9466'] } ]",
              ""));
      net.topology()
          .spawn(
              "r1",
              "prometheus",
              "--config.file=" + config,
              "--storage.tsdb.path=" + work.resolve("tsdb"),
              "--web.listen-address=127.0.0.1:9090");
      net.await("prometheus to be ready", () -> api(net, "/-/ready").ok());
      net.await(
          "all three daemons scraped",
          () -> scalar(net, "sum(up{job=~\"hydranet-.*\"})").equals("3"));

      // Hits on a pre-heated page, a miss answered through the manager (which then pushes the
      // page: the next requests for it may hit), and the local nginx.
      // On a loaded machine r1 may briefly lose hs1 (1.5 s hold time), and then nginx answers:
      // the figures Prometheus reads are asserted, not every request.
      replicas.awaitServedByReplica();
      for (int i = 0; i < 10; i++) {
        assertTrue(net.curl("/page-042.html", 5).stdout().contains("page 042"));
      }
      for (int i = 0; i < 3; i++) {
        ExecResult miss = net.curl("/nostore/page.html", 5);
        assertTrue(miss.stdout().contains("page 999"), miss.describe());
      }
      assertTrue(net.curlLocal("/index.html", 5).ok());
      // A change on the origin: the manager pushes it (a PUT timed until its ACK) while
      // Prometheus watches; the pre-heat's pushes were all before Prometheus started.
      Files.writeString(
          net.site().resolve("page-007.html"),
          WebNetwork.page(7, 1200).replace("page 007", "page 007 v2"));
      net.await(
          "the replica's hits to reach Prometheus through the manager",
          () -> number(scalar(net, "sum(hydranet_hydraweb_replica_hits_total)")) >= 5);
      net.await(
          "the changed page's push to reach Prometheus",
          () ->
              number(
                      scalar(
                          net,
                          "sum(increase(hydranet_manager_push_duration_seconds_count"
                              + "{kind=\"put\"}[1m]))"))
                  > 0);
      net.await(
          "the replica's timed hits and misses to reach Prometheus",
          () ->
              number(
                          scalar(
                              net,
                              "sum(increase(hydranet_hydraweb_replica_request_duration_seconds_count"
                                  + "{result=\"hit\"}[1m]))"))
                      > 0
                  && number(
                          scalar(
                              net,
                              "sum(increase(hydranet_hydraweb_replica_request_duration_seconds_count"
                                  + "{result=\"miss\"}[1m]))"))
                      > 0);
      try {
        net.await(
            "the miss answered through the manager to reach Prometheus",
            () ->
                number(scalar(net, "sum(hydranet_manager_miss_answers_total{status=\"200\"})"))
                    >= 1);
      } catch (IllegalStateException e) {
        throw new IllegalStateException(
            e.getMessage()
                + "\n"
                + net.ctl("manager", "status")
                + query(net, "hydranet_manager_miss_answers_total"),
            e);
      }
      Thread.sleep(4_000);

      List<String> missing = new ArrayList<>();
      List<String> expressions = expressions(root);
      assertTrue(expressions.size() >= 40, "expressions: " + expressions.size());
      for (String expr : expressions) {
        JsonNode result = query(net, expr);
        // A quantile of a histogram that saw nothing in its window is NaN: that is no data.
        if (result.isEmpty() || expr.contains("histogram_quantile") && !anyNumber(result)) {
          missing.add(expr);
        }
      }
      assertEquals(List.of(), missing, "expressions with no data");

      // The latency quantiles an operator would read: a hit is served well within a second, a
      // miss waits for the manager's fetch from nginx across the WAN (10 ms each way here).
      double hitP99 =
          number(
              scalar(
                  net,
                  "histogram_quantile(0.99, sum by (le) (rate("
                      + "hydranet_hydraweb_replica_request_duration_seconds_bucket"
                      + "{replica=\"web-1\",result=\"hit\"}[1m])))"));
      double missP50 =
          number(
              scalar(
                  net,
                  "histogram_quantile(0.5, sum by (le) (rate("
                      + "hydranet_hydraweb_replica_request_duration_seconds_bucket"
                      + "{replica=\"web-1\",result=\"miss\"}[1m])))"));
      assertTrue(hitP99 > 0 && hitP99 < 1, "hit p99 " + hitP99 + " s");
      assertTrue(missP50 > 0.01 && missP50 < 10, "miss p50 " + missP50 + " s");
      System.out.printf("replica web-1: hit p99 %.6f s, miss p50 %.6f s%n", hitP99, missP50);

      // A few figures an operator would read off the HydraWeb row.
      assertTrue(
          number(scalar(net, "max(hydranet_replica_memory_bytes{replica=\"web-1\"})")) > 0,
          "replica memory");
      assertEquals(
          "1", scalar(net, "sum(hydranet_control_host_servers{job=\"hydranet-redirector\"})"));
      assertTrue(number(scalar(net, "sum(hydranet_manager_acks_total{result=\"stored\"})")) > 0);

      JsonNode rules =
          JSON.readTree(api(net, "/api/v1/rules").stdout()).path("data").path("groups");
      int healthy = 0;
      for (JsonNode group : rules) {
        for (JsonNode rule : group.path("rules")) {
          assertEquals("ok", rule.path("health").asText(), rule.toString());
          healthy++;
        }
      }
      assertEquals(alerts(root).size(), healthy, "every alert rule loaded");
      System.out.printf(
          "%d dashboard and alert expressions answered; %d rules healthy%n",
          expressions.size(), healthy);
    }
  }

  /** Every dashboard query, and every alert expression with its thresholds removed. */
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
    for (String expr : alerts(root)) {
      // "ratio < 0.5 and on (replica) requests > 1" asks for data as "ratio and on (replica)
      // requests": each side must exist, whatever its value now.
      out.add(expr.replaceAll("\\s*(==|!=|>=|<=|>|<)\\s*[0-9]+(\\.[0-9]+)?", "").strip());
    }
    return out;
  }

  private static List<String> alerts(Path root) throws Exception {
    List<String> out = new ArrayList<>();
    JsonNode alerts =
        new ObjectMapper(new YAMLFactory())
            .readTree(root.resolve("dashboards/prometheus/alerts.yml").toFile());
    for (JsonNode group : alerts.path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        out.add(rule.path("expr").asText());
      }
    }
    return out;
  }

  /** True if some sample of a query's result is a number (not NaN). */
  private static boolean anyNumber(JsonNode result) {
    for (JsonNode sample : result) {
      if (!Double.isNaN(number(sample.path("value").path(1).asText()))) {
        return true;
      }
    }
    return false;
  }

  private static double number(String s) {
    try {
      return Double.parseDouble(s);
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
  }

  /** The first sample's value of {@code expr}, or "" when there is none. */
  private static String scalar(WebNetwork net, String expr) {
    return query(net, expr).path(0).path("value").path(1).asText();
  }

  private static JsonNode query(WebNetwork net, String expr) {
    ExecResult r =
        net.topology()
            .exec(
                "r1",
                Duration.ofSeconds(10),
                "curl",
                "-s",
                "-m",
                "5",
                "-G",
                PROMETHEUS + "/api/v1/query",
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

  private static ExecResult api(WebNetwork net, String path) {
    return net.topology()
        .exec("r1", Duration.ofSeconds(10), "curl", "-sf", "-m", "5", PROMETHEUS + path);
  }
}
