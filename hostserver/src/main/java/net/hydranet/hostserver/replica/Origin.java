package net.hydranet.hostserver.replica;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.security.PublicKey;
import java.util.List;
import java.util.stream.Collectors;
import net.hydranet.replica.OriginAddress;
import net.hydranet.replica.ReplicaSession;
import net.hydranet.replica.Resources;

/**
 * An origin this host server serves replicas for: its manager's address and key, the addresses its
 * bundles may serve as, and what each replica and all of them together may use.
 *
 * @param manager the manager's address, IPv4 or IPv6: it must connect from it and say it in HELLO
 *     (version 1 for IPv4, version 2 for IPv6; the service listens on its address of that family)
 * @param addresses the prefixes, IPv4 or IPv6, that {@code HydraNet-Origin} may name
 * @param grant the most one replica may ask for
 * @param maxReplicas how many replicas the origin may run here at once
 */
public record Origin(
    InetAddress manager,
    PublicKey key,
    List<OriginAddress.Prefix> addresses,
    Resources grant,
    int maxReplicas) {
  public Origin {
    if (!(manager instanceof Inet4Address) && !(manager instanceof Inet6Address)) {
      throw new IllegalArgumentException("an origin's manager needs an address: " + manager);
    }
    addresses = List.copyOf(addresses);
    if (addresses.isEmpty()) {
      throw new IllegalArgumentException("an origin needs at least one address prefix");
    }
    if (maxReplicas < 1) {
      throw new IllegalArgumentException("maxReplicas must be at least 1");
    }
  }

  /** An origin whose manager is at the IPv4 address {@code manager}. */
  public Origin(
      int manager,
      PublicKey key,
      List<OriginAddress.Prefix> addresses,
      Resources grant,
      int maxReplicas) {
    this(ReplicaSession.ipv4(manager), key, addresses, grant, maxReplicas);
  }

  /** An origin whose bundles may serve as addresses in the IPv4 prefix {@code prefix/length}. */
  public Origin(
      int manager, PublicKey key, int prefix, int length, Resources grant, int maxReplicas) {
    this(manager, key, List.of(ipv4Prefix(prefix, length)), grant, maxReplicas);
  }

  private static OriginAddress.Prefix ipv4Prefix(int prefix, int length) {
    if (length < 0 || length > 32) {
      throw new IllegalArgumentException("prefix length " + length + " outside 0..32");
    }
    int mask = length == 0 ? 0 : -1 << (32 - length);
    return OriginAddress.Prefix.parse(ReplicaService.format(prefix & mask) + "/" + length);
  }

  /** Whether {@code address} (either family) is inside one of this origin's prefixes. */
  public boolean authorises(InetAddress address) {
    for (OriginAddress.Prefix p : addresses) {
      if (p.contains(address)) {
        return true;
      }
    }
    return false;
  }

  /** The prefixes as text, for a refusal: "198.18.2.0/28, 2001:2:0:2::/64". */
  public String addressesText() {
    return addresses.stream().map(Object::toString).collect(Collectors.joining(", "));
  }
}
