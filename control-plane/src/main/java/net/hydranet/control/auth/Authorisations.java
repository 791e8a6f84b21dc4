package net.hydranet.control.auth;

import java.util.List;
import java.util.Set;
import net.hydranet.control.wire.Service;

/**
 * Which host servers each origin has authorised to serve its addresses: the configuration form of
 * the origin's delegation. An announcement for an address no rule covers, or from a host server the
 * covering rule does not name, is refused — so no one can announce themselves a replica of an
 * address that is not theirs to serve (the paper's open problem, section 6). IPv4 and IPv6 origins
 * have rules of their own; a rule of one family never covers an address of the other.
 */
public final class Authorisations {
  /** One rule: origins in {@code prefix/length} may be served by {@code hostServers}. */
  public record Rule(int prefix, int length, Set<Integer> hostServers) {
    public Rule {
      hostServers = Set.copyOf(hostServers);
      if (length < 0 || length > 32) {
        throw new IllegalArgumentException("prefix length " + length);
      }
    }

    boolean covers(int address) {
      int mask = length == 0 ? 0 : -1 << (32 - length);
      return (address & mask) == (prefix & mask);
    }
  }

  /** One IPv6 rule: origins in {@code high:low/length} may be served by {@code hostServers}. */
  public record Rule6(long high, long low, int length, Set<Integer> hostServers) {
    public Rule6 {
      hostServers = Set.copyOf(hostServers);
      if (length < 0 || length > 128) {
        throw new IllegalArgumentException("prefix length " + length);
      }
    }

    boolean covers(long h, long l) {
      long highMask = length == 0 ? 0 : length >= 64 ? -1L : -1L << (64 - length);
      long lowMask = length <= 64 ? 0 : length == 128 ? -1L : -1L << (128 - length);
      return ((h ^ high) & highMask) == 0 && ((l ^ low) & lowMask) == 0;
    }
  }

  private final List<Rule> rules;
  private final List<Rule6> rules6;

  public Authorisations(List<Rule> rules) {
    this(rules, List.of());
  }

  public Authorisations(List<Rule> rules, List<Rule6> rules6) {
    this.rules = List.copyOf(rules);
    this.rules6 = List.copyOf(rules6);
  }

  /** True if some rule covering the IPv4 {@code origin} names {@code hostServer}. */
  public boolean allowed(int origin, int hostServer) {
    for (Rule r : rules) {
      if (r.covers(origin) && r.hostServers().contains(hostServer)) {
        return true;
      }
    }
    return false;
  }

  /** True if some rule of the service's family covering its origin names {@code hostServer}. */
  public boolean allowed(Service service, int hostServer) {
    if (service.isIpv4()) {
      return allowed(service.ipv4Origin(), hostServer);
    }
    for (Rule6 r : rules6) {
      if (r.covers(service.high(), service.low()) && r.hostServers().contains(hostServer)) {
        return true;
      }
    }
    return false;
  }

  public List<Rule> rules() {
    return rules;
  }

  public List<Rule6> rules6() {
    return rules6;
  }
}
