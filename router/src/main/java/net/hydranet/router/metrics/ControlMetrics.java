package net.hydranet.router.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import net.hydranet.control.agent.ControlCounter;
import net.hydranet.control.agent.ControlCounters;
import net.hydranet.control.agent.RedirectorAgent;

/**
 * The control plane's meters: messages by kind, refusals by reason (forged, replayed, unauthorised,
 * malformed, rate-limited…), table writes and failures detected.
 */
public final class ControlMetrics {
  private static final String PREFIX = "hydranet.control.";

  private ControlMetrics() {}

  /**
   * A redirector's control-plane state as gauges: host servers and peers alive, services in the
   * table. {@code agent} must stay reachable (the daemon holds it): Micrometer keeps a weak one.
   */
  public static void bindRedirector(MeterRegistry registry, RedirectorAgent agent) {
    bind(registry, agent.counters());
    Gauge.builder(PREFIX + "host.servers", agent, RedirectorAgent::hostServersUp)
        .description("host servers heard directly and alive")
        .register(registry);
    Gauge.builder(PREFIX + "peers", agent, RedirectorAgent::peersUp)
        .description("peer redirectors alive")
        .register(registry);
    Gauge.builder(PREFIX + "services", agent, RedirectorAgent::services)
        .description("services in the redirector table")
        .register(registry);
  }

  /** {@code counters} must stay reachable (the agent holds it): Micrometer keeps a weak one. */
  public static void bind(MeterRegistry registry, ControlCounters counters) {
    for (ControlCounter c : ControlCounter.values()) {
      String name = c.metricName();
      if (name.startsWith("refused_")) {
        FunctionCounter.builder(PREFIX + "refused.messages", counters, x -> x.get(c))
            .tag("reason", name.substring("refused_".length()))
            .register(registry);
      } else if (c == ControlCounter.RECEIVED
          || c == ControlCounter.ACCEPTED
          || c == ControlCounter.SENT
          || c == ControlCounter.SEND_ERRORS) {
        FunctionCounter.builder(PREFIX + "messages", counters, x -> x.get(c))
            .tag("kind", name)
            .register(registry);
      } else {
        FunctionCounter.builder(PREFIX + name.replace('_', '.'), counters, x -> x.get(c))
            .register(registry);
      }
    }
  }
}
