package net.hydranet.router.daemon.redirector;

import java.util.List;
import java.util.function.Supplier;
import net.hydranet.control.agent.RedirectorAgent;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.forwarding.io.live.LivePcapSource;
import net.hydranet.router.config.RedirectorConfig;
import net.hydranet.router.daemon.DaemonLoggers;
import net.hydranet.router.daemon.MetricsAddress;
import net.hydranet.router.metrics.ConfigReloads;
import net.hydranet.router.metrics.ControlMetrics;
import net.hydranet.router.metrics.ForwardingMetrics;
import net.hydranet.router.metrics.MetricsEndpoint;
import net.hydranet.router.metrics.Sampler;
import net.hydranet.router.status.StatusPage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The redirector's {@code --metrics} endpoint: Prometheus {@code /metrics} over the plane, its
 * interfaces, rings, services and control plane, fed by the once-a-second sampler, and the status
 * page {@code /status}; nothing with {@code off}.
 */
public final class MetricsWiring {
  private static final Logger LOG = LoggerFactory.getLogger(DaemonLoggers.REDIRECTOR);

  private final String metricsAddress;
  private final Supplier<RedirectorAgent> agent;
  private final ConfigReloads reloads;
  private final KnownServices services;
  private MetricsEndpoint metrics;
  private ForwardingMetrics meters;
  private Sampler sampler;

  public MetricsWiring(
      String metricsAddress,
      Supplier<RedirectorAgent> agent,
      ConfigReloads reloads,
      KnownServices services) {
    this.metricsAddress = metricsAddress;
    this.agent = agent;
    this.reloads = reloads;
    this.services = services;
  }

  public void start(ForwardingPlane plane, RedirectorConfig cfg, List<LivePcapSource> sources) {
    metrics = MetricsAddress.start(metricsAddress, plane::close);
    if (metrics == null) {
      return;
    }
    meters = new ForwardingMetrics(metrics.registry(), plane).interfaces(sources).rings(plane);
    services.meters(meters);
    services.changed(cfg);
    if (agent.get() != null) {
      ControlMetrics.bindRedirector(metrics.registry(), agent.get());
    }
    reloads.bind(metrics.registry());
    sampler = new Sampler(plane, 1_000);
    meters.targets(sampler);
    sampler.start();
    StatusPage page = new StatusPage(sampler, agent, metricsAddress);
    metrics.page("/status", "text/html; charset=utf-8", page::render);
    LOG.info("metrics on http://{}/metrics, status page on /status", metricsAddress);
  }

  /** Stops the sampler (first at the stop: it queues commands to the plane). */
  public void stopSampler() {
    if (sampler != null) {
      sampler.close();
    }
  }

  public void close() {
    if (metrics != null) {
      metrics.close();
    }
  }
}
