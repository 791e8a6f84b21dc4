package net.hydranet.router.cli;

import net.hydranet.control.wire.Service;
import net.hydranet.forwarding.ForwardingPlane;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane's IPv6 table writes, bound to the forwarding plane's IPv6 service table.
 *
 * <p>INTERIM: this build's forwarding plane has no IPv6 redirector table yet (issue 21, the
 * redirect path is another branch's); until it is merged each write is refused with a warning
 * naming the service, so an IPv6 service learned over the control plane is visible in {@code
 * hydranet ctl} but its traffic still goes to the origin.
 */
final class Ipv6Redirects {
  private static final Logger LOG = LoggerFactory.getLogger(Ipv6Redirects.class);

  private Ipv6Redirects() {}

  static void put(
      ForwardingPlane plane,
      long high,
      long low,
      int protocol,
      int port,
      int[] hostServers,
      int[] weights) {
    LOG.warn(
        "IPv6 service {} not installed: this forwarding plane has no IPv6 redirector table",
        Service.ipv6(high, low, protocol, port));
  }

  static void remove(ForwardingPlane plane, long high, long low, int protocol, int port) {}
}
