package net.hydranet.router.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import net.hydranet.hydraweb.LatencyHistogram;
import net.hydranet.hydraweb.channel.AppMessage;
import net.hydranet.hydraweb.manager.ManagerCounter;
import net.hydranet.hydraweb.manager.ReplicaManager;

/**
 * HydraWeb's replica manager's meters ({@code hydranet_manager_*}) and, through it, its replicas'
 * ({@code hydranet_hydraweb_replica_*{replica}}): the confined replicas listen on nothing but their
 * service port, so their hits, misses, requests and latency histograms reach Prometheus as they
 * report them to the manager.
 */
public final class ManagerMetrics {
  private static final String PREFIX = "hydranet.manager.";

  private ManagerMetrics() {}

  /**
   * {@code manager} must stay reachable (the daemon holds it): Micrometer keeps a weak one. The
   * per-replica series are read at scrape time, one per replica the manager runs now.
   */
  public static void bind(MeterRegistry registry, ReplicaManager manager) {
    counters(registry, manager);
    gauges(registry, manager);
    register(registry, new ReplicaCollector(manager::replicaFigures));
    timings(registry, manager);
  }

  /** A function counter for each {@link ManagerCounter}, those of one kind under one name. */
  private static void counters(MeterRegistry registry, ReplicaManager manager) {
    for (ManagerCounter c : ManagerCounter.values()) {
      String name = c.name().toLowerCase(Locale.ROOT);
      FunctionCounter.Builder<ReplicaManager> b;
      if (name.startsWith("acks_")) {
        b =
            FunctionCounter.builder(PREFIX + "acks", manager, m -> m.counter(c))
                .tag("result", name.substring("acks_".length()))
                .description("replicas' acknowledgements of pushes, by result");
      } else if (name.startsWith("answers_")) {
        b =
            FunctionCounter.builder(PREFIX + "miss.answers", manager, m -> m.counter(c))
                .tag("status", name.substring("answers_".length()))
                .description("replicas' misses answered from the origin's web server, by status");
      } else if (c == ManagerCounter.PUTS_SENT || c == ManagerCounter.DELETES_SENT) {
        b =
            FunctionCounter.builder(PREFIX + "pushes.sent", manager, m -> m.counter(c))
                .tag("kind", c == ManagerCounter.PUTS_SENT ? "put" : "delete")
                .description("objects pushed to replicas (changed or removed on the origin)");
      } else if (c == ManagerCounter.MISSES) {
        b =
            FunctionCounter.builder(PREFIX + "misses", manager, m -> m.counter(c))
                .description("misses replicas asked the manager to answer");
      } else {
        b = FunctionCounter.builder(PREFIX + name.replace('_', '.'), manager, m -> m.counter(c));
      }
      b.register(registry);
    }
  }

  /** The origin's load, state and last contact; the replicas and host servers held. */
  private static void gauges(MeterRegistry registry, ReplicaManager manager) {
    Gauge.builder(PREFIX + "origin.load", manager, ReplicaManager::load)
        .baseUnit("requests.per.second")
        .description("requests/s the origin's web server reports (NaN when unknown)")
        .register(registry);
    Gauge.builder(
            PREFIX + "origin.up",
            manager,
            m ->
                switch (m.origin().state()) {
                  case "up" -> 1.0;
                  case "down" -> 0.0;
                  default -> Double.NaN;
                })
        .description(
            "1 while the origin's web server answers, 0 while it is down (misses answered 502/504"
                + " at once), NaN before the first contact")
        .register(registry);
    Gauge.builder(
            PREFIX + "origin.last.contact.timestamp",
            manager,
            m -> {
              long t = m.origin().lastContactMillis();
              return t < 0 ? Double.NaN : t / 1000.0;
            })
        .baseUnit("seconds")
        .description("when the origin's web server last answered (Unix time)")
        .register(registry);
    Gauge.builder(PREFIX + "replicas", manager, m -> m.replicaNames().size())
        .description("replicas this manager runs")
        .register(registry);
    Gauge.builder(PREFIX + "host.servers.connected", manager, m -> m.hostServersConnected())
        .description("host servers the manager holds a replica management connection to")
        .register(registry);
  }

  /** The manager's origin fetches and pushes, timed into histograms. */
  private static void timings(MeterRegistry registry, ReplicaManager manager) {
    Timer fetch =
        timer(
                PREFIX + "origin.fetch.duration",
                "a miss's fetch from the origin's web server, whatever it answered")
            .register(registry);
    Timer put =
        timer(PREFIX + "push.duration", "a push from planned to acknowledged by the replica")
            .tag("kind", "put")
            .register(registry);
    Timer delete =
        timer(PREFIX + "push.duration", "a push from planned to acknowledged by the replica")
            .tag("kind", "delete")
            .register(registry);
    manager.timings(
        new ReplicaManager.Timings() {
          @Override
          public void originFetch(long nanos) {
            fetch.record(nanos, TimeUnit.NANOSECONDS);
          }

          @Override
          public void push(boolean isPut, long nanos) {
            (isPut ? put : delete).record(nanos, TimeUnit.NANOSECONDS);
          }
        });
  }

  /**
   * A timer whose histogram has the replica's buckets (1-2-5 from 10 µs to 10 s): bounded, and the
   * same {@code le} values on every HydraWeb latency series.
   */
  private static Timer.Builder timer(String name, String description) {
    Duration[] slos = new Duration[LatencyHistogram.BOUNDS];
    for (int i = 0; i < slos.length; i++) {
      slos[i] = Duration.ofNanos(LatencyHistogram.boundNanos(i));
    }
    return Timer.builder(name).description(description).serviceLevelObjectives(slos);
  }

  /**
   * A collector on the registry's simpleclient registry; a plain Micrometer registry (no
   * Prometheus) gets none.
   */
  @SuppressWarnings("deprecation") // the simpleclient registry MetricsEndpoint uses
  static void register(MeterRegistry registry, Collector collector) {
    if (registry instanceof PrometheusMeterRegistry p) {
      collector.register(p.getPrometheusRegistry());
    }
  }

  /**
   * The replicas' own figures, labelled by replica and host server: counters, and their service
   * time as a histogram per result ({@code hit}, {@code miss}) in the bounds the replica reports.
   */
  static final class ReplicaCollector extends Collector {
    static final String DURATION = "hydranet_hydraweb_replica_request_duration_seconds";
    private static final List<String> LABELS = List.of("replica", "host_server", "result");
    private static final List<String> BUCKET_LABELS =
        List.of("replica", "host_server", "result", "le");

    private final Supplier<List<ReplicaManager.ReplicaFigures>> figures;

    ReplicaCollector(Supplier<List<ReplicaManager.ReplicaFigures>> figures) {
      this.figures = figures;
    }

    @Override
    public List<MetricFamilySamples> collect() {
      List<String> labels = List.of("replica", "host_server");
      CounterMetricFamily hits =
          new CounterMetricFamily(
              "hydranet_hydraweb_replica_hits", "requests a replica served from its cache", labels);
      CounterMetricFamily misses =
          new CounterMetricFamily(
              "hydranet_hydraweb_replica_misses",
              "requests a replica could not serve from its cache",
              labels);
      CounterMetricFamily requests =
          new CounterMetricFamily(
              "hydranet_hydraweb_replica_requests", "requests a replica received", labels);
      List<MetricFamilySamples.Sample> durations = new ArrayList<>();
      for (ReplicaManager.ReplicaFigures f : figures.get()) {
        List<String> values = List.of(f.name(), f.hostServer());
        hits.addMetric(values, f.hits());
        misses.addMetric(values, f.misses());
        requests.addMetric(values, f.requests());
        histogram(durations, f.name(), f.hostServer(), "hit", f.hitLatency());
        histogram(durations, f.name(), f.hostServer(), "miss", f.missLatency());
      }
      return List.of(
          hits,
          misses,
          requests,
          new MetricFamilySamples(
              DURATION,
              Type.HISTOGRAM,
              "a replica's service time per request, from the request parsed to its response"
                  + " queued; a miss's includes its wait for the manager's answer",
              durations));
    }

    /** A histogram's samples: a bucket per bound, +Inf, count and sum, in seconds. */
    private static void histogram(
        List<MetricFamilySamples.Sample> out,
        String replica,
        String hostServer,
        String result,
        AppMessage.Latency l) {
      if (l == null) {
        return; // not reported yet
      }
      List<String> values = List.of(replica, hostServer, result);
      for (int i = 0; i < l.bounds(); i++) {
        out.add(
            new MetricFamilySamples.Sample(
                DURATION + "_bucket",
                BUCKET_LABELS,
                List.of(
                    replica,
                    hostServer,
                    result,
                    Collector.doubleToGoString(l.boundNanos(i) / Collector.NANOSECONDS_PER_SECOND)),
                l.cumulative(i)));
      }
      out.add(
          new MetricFamilySamples.Sample(
              DURATION + "_bucket",
              BUCKET_LABELS,
              List.of(replica, hostServer, result, "+Inf"),
              l.count()));
      out.add(new MetricFamilySamples.Sample(DURATION + "_count", LABELS, values, l.count()));
      out.add(
          new MetricFamilySamples.Sample(
              DURATION + "_sum", LABELS, values, l.sumNanos() / Collector.NANOSECONDS_PER_SECOND));
    }
  }
}
