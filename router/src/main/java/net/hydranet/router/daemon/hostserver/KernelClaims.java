package net.hydranet.router.daemon.hostserver;

import java.io.IOException;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import net.hydranet.forwarding.io.live.IngressDrop;
import net.hydranet.forwarding.io.live.TunnelDrop;
import net.hydranet.forwarding.wire.GueHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.hostserver.ProtocolClaim;
import net.hydranet.router.daemon.DaemonLoggers;
import net.hydranet.router.daemon.GuePort;
import net.hydranet.router.error.UserError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the host server takes from the kernel so that it does not answer tunnelled packets itself:
 * IP protocol 4 (IPIP), 41 (IPv6 inside IPv4, and inside IPv6 with --address6) and the
 * second-chance tunnel's UDP port; held until the stop. And, unless told not to, the kernel's IP
 * input of those tunnel packets: dropped at ingress after capture ({@link TunnelDrop}).
 */
public final class KernelClaims {
  private static final Logger LOG = LoggerFactory.getLogger(DaemonLoggers.HOST_SERVER);

  private final ProtocolClaim claim;
  private final List<ProtocolClaim> claims6;
  private final DatagramChannel gueClaim;

  private KernelClaims(ProtocolClaim claim, List<ProtocolClaim> claims6, DatagramChannel gueClaim) {
    this.claim = claim;
    this.claims6 = claims6;
    this.gueClaim = gueClaim;
  }

  /**
   * Claims all three, in that order, for the host server at {@code self} (and {@code address6}).
   */
  public static KernelClaims claim(int self, String address6) {
    ProtocolClaim claim = claimIpip();
    List<ProtocolClaim> claims6 = claimIpv6(address6);
    DatagramChannel gueClaim = claimGue(self);
    return new KernelClaims(claim, claims6, gueClaim);
  }

  private IngressDrop tunnelDrop;

  /**
   * Has the kernel drop the tunnel packets to {@code address} (and {@code address6}) at ingress on
   * {@code uplink}, after the capture has its copy; without nft, or with an interface name or
   * address the script refuses, logs why and goes on (the claims above still keep the kernel quiet,
   * at the cost of an IP input per packet).
   */
  public void dropTunnelAtIngress(String uplink, String address, String address6) {
    try {
      tunnelDrop = TunnelDrop.install(List.of("nft"), uplink, address, address6);
      LOG.info(
          "the kernel drops tunnel packets to this host server at ingress on {} after capture"
              + " (nft table netdev {})",
          uplink,
          TunnelDrop.TABLE);
    } catch (IOException | IllegalArgumentException e) {
      // No nft, or a name nft's script must not hold (TunnelDrop refuses it): not fatal.
      LOG.warn(
          "tunnel packets not dropped at ingress, the kernel runs IP input on each: {}",
          e.getMessage());
    }
  }

  public void close() throws IOException {
    if (tunnelDrop != null) {
      try {
        tunnelDrop.close();
      } catch (IOException e) {
        LOG.warn("cannot remove nft table netdev {}: {}", TunnelDrop.TABLE, e.getMessage());
      }
    }
    claim.close();
    claims6.forEach(ProtocolClaim::close);
    gueClaim.close();
  }

  private static ProtocolClaim claimIpip() {
    try {
      return ProtocolClaim.claim(Ipv4Header.PROTOCOL_IPIP);
    } catch (IllegalStateException e) {
      throw new UserError(e.getMessage());
    }
  }

  /**
   * Claims protocol 41 from the kernel: in IPv4 (6in4 to --address) always, in IPv6 (6in6 to
   * --address6) when there is one; without these the kernel answers each tunnelled packet with
   * protocol-unreachable or a Parameter Problem (RFC 4443 §3.4, "unrecognized next header").
   */
  private static List<ProtocolClaim> claimIpv6(String address6) {
    List<ProtocolClaim> claims = new ArrayList<>();
    try {
      claims.add(ProtocolClaim.claim(Ipv6Header.NEXT_HEADER_IPV6));
      if (address6 != null) {
        claims.add(ProtocolClaim.claim6(Ipv6Header.NEXT_HEADER_IPV6));
      }
    } catch (IllegalStateException e) {
      claims.forEach(ProtocolClaim::close);
      throw new UserError(e.getMessage());
    }
    return claims;
  }

  /**
   * Binds the second-chance tunnel's UDP port, never read, so the kernel does not answer each
   * tunnelled datagram with ICMP port-unreachable (pcap has its copy); its queue simply drops.
   */
  private static DatagramChannel claimGue(int self) {
    try {
      return GuePort.bind(
          new java.net.InetSocketAddress(
              java.net.InetAddress.getByName(Ipv4Header.formatAddress(self)), GueHeader.PORT));
    } catch (IOException e) {
      throw new UserError(
          "cannot bind UDP port " + GueHeader.PORT + " (the second-chance tunnel): " + e);
    }
  }
}
