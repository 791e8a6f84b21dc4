package net.hydranet.router.daemon.redirector;

import java.util.ArrayList;
import java.util.List;
import net.hydranet.control.rib.Rib;
import net.hydranet.control.wire.Entry;
import net.hydranet.control.wire.Service;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.router.config.RedirectorConfig;

/**
 * The config file's static redirects as the control plane's RIB takes them, IPv4 and IPv6 alike:
 * with {@code --control} every static service goes through the RIB (it overrides what is learned
 * for the same service, stays when that is withdrawn, and {@code ctl table} shows it as static),
 * never straight to the plane.
 */
public final class StaticRedirects {
  private StaticRedirects() {}

  /**
   * Every static service of {@code cfg}; an IPv6 host server reached in IPv6-in-IPv6 is named by
   * the plane's id for it ({@link ForwardingPlane#ipv6HostServer}) and shown by its address.
   */
  public static List<Rib.StaticService> of(RedirectorConfig cfg, ForwardingPlane plane) {
    List<Rib.StaticService> out = new ArrayList<>();
    for (RedirectorConfig.Redirect r : cfg.redirects()) {
      out.add(
          new Rib.StaticService(
              Entry.service(r.address(), r.protocol(), r.port()), r.hostServers(), r.weights()));
    }
    for (RedirectorConfig.Redirect6 r : cfg.redirects6()) {
      String[] names = new String[r.hostServers().size()];
      for (int i = 0; i < names.length; i++) {
        RedirectorConfig.HostServer h = r.hostServers().get(i);
        names[i] =
            h.isIpv6()
                ? Ipv6Header.formatAddress(h.ipv6High(), h.ipv6Low())
                : Ipv4Header.formatAddress(h.ipv4());
      }
      out.add(
          new Rib.StaticService(
              Service.ipv6(r.addressHigh(), r.addressLow(), r.protocol(), r.port()),
              RedirectorConfig.hostServers(plane, r),
              RedirectorConfig.weights(r),
              names));
    }
    return out;
  }
}
