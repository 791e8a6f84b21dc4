package net.hydranet.router.daemon.redirector;

import java.io.IOException;
import java.nio.channels.DatagramChannel;
import net.hydranet.router.cli.RedirectorCommand;
import net.hydranet.router.daemon.GuePort;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The second-chance tunnel's UDP port, bound, never read: host servers pass packets back to us
 * there for the origin (TunnelToOrigin takes them from the capture), and without a socket the
 * kernel would answer each with ICMP port-unreachable. Not fatal: without it we forward anyway.
 */
public final class SecondChancePort {
  private static final Logger LOG = LoggerFactory.getLogger(RedirectorCommand.class);

  private DatagramChannel secondChancePort;

  public void claim() {
    try {
      secondChancePort =
          GuePort.bind(new java.net.InetSocketAddress(net.hydranet.forwarding.wire.GueHeader.PORT));
    } catch (IOException e) {
      LOG.warn(
          "UDP port {} not bound: the kernel answers host servers' pass-ons with"
              + " port-unreachable (they are forwarded anyway): {}",
          net.hydranet.forwarding.wire.GueHeader.PORT,
          e.getMessage());
    }
  }

  public void close() {
    if (secondChancePort != null) {
      try {
        secondChancePort.close();
      } catch (IOException e) {
        LOG.debug("closing the second-chance port: {}", e.getMessage());
      }
    }
  }
}
