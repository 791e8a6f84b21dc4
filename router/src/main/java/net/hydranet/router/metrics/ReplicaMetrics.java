package net.hydranet.router.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Locale;
import net.hydranet.control.replica.Refusal;
import net.hydranet.hostserver.replica.ReplicaCounter;
import net.hydranet.hostserver.replica.ReplicaCounters;

/**
 * The replica service's meters ({@code hydranet_replica_*}): installs, removes, exits and kills,
 * refusals by reason, application frames relayed each way and dropped, connections and protocol
 * errors.
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
}
