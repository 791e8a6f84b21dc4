package net.hydranet.router.daemon.hostserver;

import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.io.live.LivePcapSource;
import net.hydranet.forwarding.io.live.TunDevice;
import net.hydranet.forwarding.pipeline.Pipeline;
import net.hydranet.hostserver.VirtualHostTable;
import net.hydranet.hostserver.replica.ReplicaService;
import net.hydranet.router.daemon.DaemonLoggers;
import net.hydranet.router.daemon.MetricsAddress;
import net.hydranet.router.metrics.ConfigReloads;
import net.hydranet.router.metrics.HostServerMetrics;
import net.hydranet.router.metrics.MetricsEndpoint;
import net.hydranet.router.metrics.ReplicaMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host server's {@code --metrics} endpoint: its counters, virtual hosts, capture and TUN, the
 * config reloads and, with replicas, theirs; nothing with {@code off}.
 */
public final class MetricsWiring {
  private static final Logger LOG = LoggerFactory.getLogger(DaemonLoggers.HOST_SERVER);

  private MetricsWiring() {}

  public static MetricsEndpoint start(
      String metricsAddress,
      Pipeline pipeline,
      Counters counters,
      VirtualHostTable table,
      LivePcapSource source,
      TunDevice device,
      ConfigReloads reloads,
      HostServerControl control) {
    ReplicaService replicas = control.replicas();
    MetricsEndpoint metrics = MetricsAddress.start(metricsAddress, pipeline::close);
    if (metrics == null) {
      return null;
    }
    HostServerMetrics.bind(metrics.registry(), counters, table, source, device);
    reloads.bind(metrics.registry());
    LOG.info("metrics on http://{}/metrics", metricsAddress);
    if (replicas != null) {
      ReplicaMetrics.bind(metrics.registry(), replicas.counters());
      ReplicaMetrics.bindUsage(metrics.registry(), replicas::statuses);
    }
    return metrics;
  }
}
