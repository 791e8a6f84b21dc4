package net.hydranet.router.daemon;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;

/**
 * The second-chance tunnel's UDP port, bound and never read: pcap has its copy of each datagram,
 * and without a socket the kernel would answer each with ICMP port-unreachable.
 */
public final class GuePort {
  private GuePort() {}

  /** A socket bound to {@code address} with the smallest receive buffer; closed if it fails. */
  public static DatagramChannel bind(InetSocketAddress address) throws IOException {
    DatagramChannel c = DatagramChannel.open();
    try {
      c.setOption(StandardSocketOptions.SO_RCVBUF, 1);
      // Never read, only held: a redirector and a host server on one box (each binds it) share it.
      c.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      c.bind(address);
    } catch (IOException e) {
      c.close();
      throw e;
    }
    return c;
  }
}
