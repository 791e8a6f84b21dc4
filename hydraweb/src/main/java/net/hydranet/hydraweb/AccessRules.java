package net.hydranet.hydraweb;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Access rules pushed by the origin and enforced by the replica before it serves anything: each
 * rule allows or denies clients in an IPv4 prefix asking for paths under a path prefix. The first
 * rule that matches decides; when none matches, the request is allowed. Immutable: the server swaps
 * a whole set at once.
 *
 * <p>Text form, one rule a line ({@code #} starts a comment):
 *
 * <pre>
 * deny  10.0.0.0/8     /private/
 * allow 198.18.0.0/15
 * deny  0.0.0.0/0      /private/
 * </pre>
 *
 * <p>Path prefixes compare bytes of the decoded path: {@code /private/} does not cover {@code
 * /private} itself, and {@code /priv} covers {@code /private.html}.
 */
public final class AccessRules {
  /** No rules: everything allowed. */
  public static final AccessRules ALLOW_ALL = new AccessRules(List.of());

  /** One rule; {@code pathPrefix} "/" covers every path. */
  public record Rule(boolean allow, int network, int prefixLength, String pathPrefix) {
    public Rule {
      if (prefixLength < 0 || prefixLength > 32) {
        throw new IllegalArgumentException("prefix length must be 0..32: " + prefixLength);
      }
      if (pathPrefix == null || !pathPrefix.startsWith("/")) {
        throw new IllegalArgumentException("path prefix must start with '/': " + pathPrefix);
      }
      network &= mask(prefixLength);
    }

    public static Rule allow(String cidr, String pathPrefix) {
      return of(true, cidr, pathPrefix);
    }

    public static Rule deny(String cidr, String pathPrefix) {
      return of(false, cidr, pathPrefix);
    }

    private static Rule of(boolean allow, String cidr, String pathPrefix) {
      int slash = cidr.indexOf('/');
      String address = slash < 0 ? cidr : cidr.substring(0, slash);
      int length;
      try {
        length = slash < 0 ? 32 : Integer.parseInt(cidr.substring(slash + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("not a prefix length in " + cidr, e);
      }
      return new Rule(allow, parseIpv4(address), length, pathPrefix);
    }

    @Override
    public String toString() {
      return (allow ? "allow " : "deny ")
          + formatIpv4(network)
          + "/"
          + prefixLength
          + " "
          + pathPrefix;
    }
  }

  private final List<Rule> rules;
  private final int[] networks;
  private final int[] masks;
  private final byte[][] prefixes;
  private final boolean[] allows;

  public AccessRules(List<Rule> rules) {
    this.rules = List.copyOf(rules);
    int n = this.rules.size();
    networks = new int[n];
    masks = new int[n];
    prefixes = new byte[n][];
    allows = new boolean[n];
    for (int i = 0; i < n; i++) {
      Rule r = this.rules.get(i);
      networks[i] = r.network();
      masks[i] = mask(r.prefixLength());
      prefixes[i] = r.pathPrefix().getBytes(StandardCharsets.UTF_8);
      allows[i] = r.allow();
    }
  }

  /** Parses the text form; the exception names the line that is wrong. */
  public static AccessRules parse(String text) {
    List<Rule> rules = new ArrayList<>();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      int hash = line.indexOf('#');
      if (hash >= 0) {
        line = line.substring(0, hash);
      }
      line = line.strip();
      if (line.isEmpty()) {
        continue;
      }
      String[] f = line.split("\\s+");
      try {
        if (f.length < 2 || f.length > 3) {
          throw new IllegalArgumentException("expected: allow|deny ADDRESS/LENGTH [PATH-PREFIX]");
        }
        String path = f.length == 3 ? f[2] : "/";
        switch (f[0]) {
          case "allow" -> rules.add(Rule.allow(f[1], path));
          case "deny" -> rules.add(Rule.deny(f[1], path));
          default -> throw new IllegalArgumentException("'" + f[0] + "' is not allow or deny");
        }
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "access rules line " + (i + 1) + ": " + e.getMessage(), e);
      }
    }
    return new AccessRules(rules);
  }

  public List<Rule> rules() {
    return rules;
  }

  /**
   * True when {@code client} (an IPv4 address as an int, or -1L when the client has none) may fetch
   * {@code path}. A client without an IPv4 address matches only /0 rules.
   */
  boolean allows(long client, PathKey path) {
    for (int i = 0; i < allows.length; i++) {
      boolean inPrefix =
          masks[i] == 0 || (client >= 0 && (((int) client) & masks[i]) == networks[i]);
      if (inPrefix && path.startsWith(prefixes[i])) {
        return allows[i];
      }
    }
    return true;
  }

  /** {@link #allows(long, PathKey)} for callers outside the serving path. */
  public boolean allows(String clientIpv4, String path) {
    return allows(parseIpv4(clientIpv4) & 0xffffffffL, PathKey.of(path));
  }

  static int mask(int prefixLength) {
    return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
  }

  static int parseIpv4(String s) {
    String[] p = s.split("\\.", -1);
    if (p.length != 4) {
      throw new IllegalArgumentException("not an IPv4 address: " + s);
    }
    int a = 0;
    for (String q : p) {
      int v;
      try {
        v = Integer.parseInt(q);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("not an IPv4 address: " + s, e);
      }
      if (v < 0 || v > 255 || q.isEmpty() || q.length() > 3) {
        throw new IllegalArgumentException("not an IPv4 address: " + s);
      }
      a = a << 8 | v;
    }
    return a;
  }

  static String formatIpv4(int a) {
    return (a >>> 24) + "." + (a >>> 16 & 255) + "." + (a >>> 8 & 255) + "." + (a & 255);
  }

  @Override
  public String toString() {
    return rules.toString();
  }
}
