package net.hydranet.control.agent;

import java.security.KeyPair;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.hydranet.control.auth.Authorisations;
import net.hydranet.control.auth.Gatekeeper;
import net.hydranet.control.auth.Keys;
import net.hydranet.control.auth.Peer;
import net.hydranet.control.wire.Addresses;

/** Test nodes on loopback addresses (127.0.0.0/8 never leaves the host): keys and trust. */
final class Nodes {
  final Map<Integer, KeyPair> keys = new HashMap<>();
  final Map<Integer, Integer> roles = new HashMap<>();

  int add(String address, int role) {
    int a = Addresses.parse(address);
    keys.put(a, Keys.generate());
    roles.put(a, role);
    return a;
  }

  /** The gatekeeper of {@code self}: trusts the given nodes with the given link costs. */
  Gatekeeper gatekeeper(int self, Map<Integer, Integer> costs, Authorisations auth) {
    Map<Integer, Peer> trusted = new HashMap<>();
    costs.forEach(
        (a, cost) -> trusted.put(a, new Peer(a, roles.get(a), keys.get(a).getPublic(), cost)));
    return new Gatekeeper(trusted, auth, 30_000_000L);
  }

  static Authorisations allow(int origin, Integer... hostServers) {
    return new Authorisations(List.of(new Authorisations.Rule(origin, 32, Set.of(hostServers))));
  }
}
