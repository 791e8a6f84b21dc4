package net.hydranet.router.daemon.redirector;

import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.router.config.RedirectorConfig;
import net.hydranet.router.daemon.DaemonLoggers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The start-up lines of a redirector: its interfaces, routes, neighbours and redirects. */
final class StartupLog {
  private static final Logger LOG = LoggerFactory.getLogger(DaemonLoggers.REDIRECTOR);

  private StartupLog() {}

  static void log(RedirectorConfig cfg) {
    for (RouterInterface i : cfg.context().interfaces()) {
      LOG.info("interface {}", i);
    }
    for (RedirectorConfig.Route r : cfg.routes()) {
      LOG.info(
          "route {}/{} via {} dev {}",
          Ipv4Header.formatAddress(r.prefix()),
          r.length(),
          r.nextHop() == 0 ? "on-link" : Ipv4Header.formatAddress(r.nextHop()),
          cfg.context().interfaces().get(r.interfaceIndex()).name());
    }
    for (RedirectorConfig.Neighbour n : cfg.neighbours()) {
      LOG.info(
          "neighbour {} at {}",
          Ipv4Header.formatAddress(n.address()),
          EthernetHeader.formatMac(n.mac()));
    }
    for (var a : cfg.context().addresses6()) {
      LOG.info(
          "interface {} address6 {}", cfg.context().interfaces().get(a.interfaceIndex()).name(), a);
    }
    for (RedirectorConfig.Route6 r : cfg.routes6()) {
      LOG.info(
          "route {}/{} via {} dev {}",
          Ipv6Header.formatAddress(r.prefixHigh(), r.prefixLow()),
          r.length(),
          r.nextHopHigh() == 0 && r.nextHopLow() == 0
              ? "on-link"
              : Ipv6Header.formatAddress(r.nextHopHigh(), r.nextHopLow()),
          cfg.context().interfaces().get(r.interfaceIndex()).name());
    }
    for (RedirectorConfig.Neighbour6 n : cfg.neighbours6()) {
      LOG.info(
          "neighbour {} at {}",
          Ipv6Header.formatAddress(n.high(), n.low()),
          EthernetHeader.formatMac(n.mac()));
    }
    for (RedirectorConfig.Redirect6 r : cfg.redirects6()) {
      LOG.atInfo()
          .addKeyValue("table", "put")
          .addKeyValue("service", r.service())
          .addKeyValue("host_servers", r.hostServers().size())
          .log("redirect {} to {}", r.service(), r.hostServers());
    }
    for (RedirectorConfig.Redirect r : cfg.redirects()) {
      String service =
          Ipv4Header.formatAddress(r.address())
              + ":"
              + r.port()
              + "/"
              + (r.protocol() == Ipv4Header.PROTOCOL_TCP ? "tcp" : "udp");
      LOG.atInfo()
          .addKeyValue("table", "put")
          .addKeyValue("service", service)
          .addKeyValue("host_servers", r.hostServers().length)
          .log("redirect {} to {} host server(s)", service, r.hostServers().length);
    }
  }
}
