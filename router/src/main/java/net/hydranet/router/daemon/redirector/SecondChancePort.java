package net.hydranet.router.daemon.redirector;

import java.io.IOException;
import java.nio.channels.DatagramChannel;
import net.hydranet.router.daemon.DaemonLoggers;
import net.hydranet.router.daemon.GuePort;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The second-chance tunnel's UDP port, bound, and IP protocol 4, claimed, never read: host servers
 * pass packets back to us there, or in IP-in-IP, for the origin or the next candidate
 * (TunnelToOrigin takes them from the capture), and without a socket the kernel would answer each
 * with ICMP port- or protocol-unreachable. Not fatal: without them we forward anyway.
 */
public final class SecondChancePort {
  private static final Logger LOG = LoggerFactory.getLogger(DaemonLoggers.REDIRECTOR);

  private DatagramChannel secondChancePort;
  private net.hydranet.hostserver.ProtocolClaim ipipClaim;

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
    // Host servers pass IP-in-IP back in IP-in-IP: no ipip module here, so without a raw socket
    // for protocol 4 the kernel would answer each with protocol-unreachable.
    try {
      ipipClaim =
          net.hydranet.hostserver.ProtocolClaim.claim(
              net.hydranet.forwarding.wire.Ipv4Header.PROTOCOL_IPIP);
    } catch (IllegalStateException e) {
      LOG.warn(
          "protocol 4 not claimed: the kernel answers host servers' IP-in-IP pass-ons with"
              + " protocol-unreachable (they are forwarded anyway): {}",
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
    if (ipipClaim != null) {
      ipipClaim.close();
    }
  }
}
