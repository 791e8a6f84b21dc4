package net.hydranet.control.auth;

import java.util.List;
import java.util.Set;

/**
 * Which host servers each origin has authorised to serve its addresses: the configuration form of
 * the origin's delegation. An announcement for an address no rule covers, or from a host server the
 * covering rule does not name, is refused — so no one can announce themselves a replica of an
 * address that is not theirs to serve (the paper's open problem, section 6).
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

  private final List<Rule> rules;

  public Authorisations(List<Rule> rules) {
    this.rules = List.copyOf(rules);
  }

  /** True if some rule covering {@code origin} names {@code hostServer}. */
  public boolean allowed(int origin, int hostServer) {
    for (Rule r : rules) {
      if (r.covers(origin) && r.hostServers().contains(hostServer)) {
        return true;
      }
    }
    return false;
  }

  public List<Rule> rules() {
    return rules;
  }
}
