package net.hydranet.router.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import net.hydranet.hostserver.replica.ReplicaCounter;
import net.hydranet.hostserver.replica.ReplicaCounters;
import net.hydranet.replica.Refusal;
import net.hydranet.replica.ReplicaStatus;

/**
 * The replica service's meters ({@code hydranet_replica_*}): installs, removes, exits and kills,
 * refusals by reason, application frames relayed each way and dropped, connections and protocol
 * errors; and per replica installed ({@code replica} label, bounded by the origins' grants) its
 * memory, limit, CPU time, tasks and OOM kills, read from its cgroup at scrape time.
 */
public final class ReplicaMetrics {
  private static final String PREFIX = "hydranet.replica.";

  private ReplicaMetrics() {}

  /** {@code counters} must stay reachable (the service holds it): Micrometer keeps a weak one. */
  public static void bind(MeterRegistry registry, ReplicaCounters counters) {
    for (ReplicaCounter c : ReplicaCounter.values()) {
      String name = c.metricName();
      if (name.startsWith("app_to_")) {
        FunctionCounter.builder(PREFIX + "app.frames", counters, x -> x.get(c))
            .tag("direction", name.substring("app_".length()))
            .description("application frames relayed between managers and replicas")
            .register(registry);
      } else {
        FunctionCounter.builder(PREFIX + name.replace('_', '.'), counters, x -> x.get(c))
            .register(registry);
      }
    }
    for (Refusal r : Refusal.values()) {
      FunctionCounter.builder(PREFIX + "refusals", counters, x -> x.refusals(r))
          .tag("reason", r.name().toLowerCase(Locale.ROOT))
          .description("requests refused, by the REFUSED frame's reason")
          .register(registry);
    }
  }

  /**
   * Per-replica usage as the service reads it for STATUS ({@code ReplicaService::statuses}): one
   * series per replica installed now, gone with it.
   */
  public static void bindUsage(MeterRegistry registry, Supplier<List<ReplicaStatus>> statuses) {
    ManagerMetrics.register(registry, new UsageCollector(statuses));
  }

  static final class UsageCollector extends Collector {
    private final Supplier<List<ReplicaStatus>> statuses;

    UsageCollector(Supplier<List<ReplicaStatus>> statuses) {
      this.statuses = statuses;
    }

    @Override
    public List<MetricFamilySamples> collect() {
      List<String> labels = List.of("replica");
      GaugeMetricFamily memory =
          new GaugeMetricFamily(
              "hydranet_replica_memory_bytes", "memory a replica's cgroup uses", labels);
      GaugeMetricFamily limit =
          new GaugeMetricFamily(
              "hydranet_replica_memory_limit_bytes", "a replica's cgroup memory limit", labels);
      CounterMetricFamily cpu =
          new CounterMetricFamily(
              "hydranet_replica_cpu_seconds", "CPU time a replica's cgroup used", labels);
      GaugeMetricFamily tasks =
          new GaugeMetricFamily("hydranet_replica_tasks", "tasks in a replica's cgroup", labels);
      CounterMetricFamily oom =
          new CounterMetricFamily(
              "hydranet_replica_oom_kills",
              "processes the kernel killed at a replica's memory limit",
              labels);
      GaugeMetricFamily running =
          new GaugeMetricFamily(
              "hydranet_replica_running", "1 while a replica's state is running", labels);
      for (ReplicaStatus s : statuses.get()) {
        List<String> v = List.of(s.name());
        memory.addMetric(v, s.memoryBytes());
        limit.addMetric(v, s.memoryLimit());
        cpu.addMetric(v, s.cpuNanos() / 1e9);
        tasks.addMetric(v, s.pids());
        oom.addMetric(v, s.oomKills());
        running.addMetric(v, s.state().equals("running") ? 1 : 0);
      }
      return List.of(memory, limit, cpu, tasks, oom, running);
    }
  }
}
