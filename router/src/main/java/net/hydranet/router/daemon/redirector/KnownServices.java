package net.hydranet.router.daemon.redirector;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import net.hydranet.control.wire.Entry;
import net.hydranet.control.wire.Service;
import net.hydranet.router.config.RedirectorConfig;
import net.hydranet.router.metrics.ForwardingMetrics;

/**
 * The services the per-service meters show: those the control plane learned (its thread adds and
 * removes them) and those of the running config, handed to the meters on every change.
 */
public final class KnownServices {
  final Set<Service> learned = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private volatile ForwardingMetrics meters;

  /** The meters to keep told, once the metrics endpoint runs. */
  void meters(ForwardingMetrics meters) {
    this.meters = meters;
  }

  void changed(RedirectorConfig cfg) {
    if (meters == null) {
      return;
    }
    Set<Service> all = new java.util.TreeSet<>(learned);
    for (int[] s : services(cfg)) {
      all.add(Entry.service(s[0], s[1], s[2]));
    }
    for (RedirectorConfig.Redirect6 r : cfg.redirects6()) {
      all.add(Service.ipv6(r.addressHigh(), r.addressLow(), r.protocol(), r.port()));
    }
    List<int[]> list = new ArrayList<>();
    List<long[]> list6 = new ArrayList<>();
    for (Service s : all) {
      if (s.isIpv4()) {
        list.add(new int[] {s.ipv4Origin(), s.protocol(), s.port()});
      } else {
        list6.add(new long[] {s.high(), s.low(), s.protocol(), s.port()});
      }
    }
    meters.services(list);
    meters.services6(list6);
  }

  static List<int[]> services(RedirectorConfig cfg) {
    List<int[]> out = new ArrayList<>();
    for (RedirectorConfig.Redirect r : cfg.redirects()) {
      out.add(new int[] {r.address(), r.protocol(), r.port()});
    }
    return out;
  }
}
