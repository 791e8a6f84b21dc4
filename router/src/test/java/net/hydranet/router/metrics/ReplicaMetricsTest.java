package net.hydranet.router.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import net.hydranet.hostserver.replica.ReplicaCounters;
import net.hydranet.replica.ReplicaStatus;
import org.junit.jupiter.api.Test;

/** The host server's per-replica usage gauges, as a scrape shows them. */
class ReplicaMetricsTest {
  @Test
  void shouldExportEachReplicasMemoryAndCpuUntilItIsRemoved() {
    AtomicReference<List<ReplicaStatus>> now =
        new AtomicReference<>(
            List.of(
                new ReplicaStatus(
                    "web-1",
                    "running",
                    4242,
                    50L << 20,
                    256L << 20,
                    1_500_000_000L,
                    17,
                    0,
                    0,
                    "tcp/80"),
                new ReplicaStatus(
                    "hog", "killed", 0, 64L << 20, 64L << 20, 250_000_000L, 0, 12, 1, "tcp/8081")));
    try (MetricsEndpoint endpoint = MetricsEndpoint.start("127.0.0.1:0")) {
      ReplicaMetrics.bind(endpoint.registry(), new ReplicaCounters());
      ReplicaMetrics.bindUsage(endpoint.registry(), now::get);
      String text = endpoint.scrape();
      String web = "replica=\"web-1\"";
      assertEquals(50 << 20, ManagerMetricsTest.value(text, "hydranet_replica_memory_bytes", web));
      assertEquals(
          256 << 20, ManagerMetricsTest.value(text, "hydranet_replica_memory_limit_bytes", web));
      assertEquals(1.5, ManagerMetricsTest.value(text, "hydranet_replica_cpu_seconds_total", web));
      assertEquals(17, ManagerMetricsTest.value(text, "hydranet_replica_tasks", web));
      assertEquals(1, ManagerMetricsTest.value(text, "hydranet_replica_running", web));
      String hog = "replica=\"hog\"";
      assertEquals(1, ManagerMetricsTest.value(text, "hydranet_replica_oom_kills_total", hog));
      assertEquals(0, ManagerMetricsTest.value(text, "hydranet_replica_running", hog));

      now.set(List.of());
      text = endpoint.scrape();
      assertEquals(-1, ManagerMetricsTest.value(text, "hydranet_replica_memory_bytes", web));
      assertEquals(-1, ManagerMetricsTest.value(text, "hydranet_replica_oom_kills_total", hog));
    }
  }
}
