package net.hydranet.router.daemon.hostserver;

import java.io.IOException;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import net.hydranet.forwarding.wire.GueHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.hostserver.ProtocolClaim;
import net.hydranet.router.daemon.GuePort;
import net.hydranet.router.error.UserError;

/**
 * What the host server takes from the kernel so that it does not answer tunnelled packets itself:
 * IP protocol 4 (IPIP), 41 (IPv6 inside IPv4, and inside IPv6 with --address6) and the
 * second-chance tunnel's UDP port; held until the stop.
 */
public final class KernelClaims {
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

  public void close() throws IOException {
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
