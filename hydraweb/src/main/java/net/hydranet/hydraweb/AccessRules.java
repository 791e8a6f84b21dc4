package net.hydranet.hydraweb;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.hydranet.replica.OriginAddress;

/**
 * Access rules pushed by the origin and enforced by the replica before it serves anything: each
 * rule allows or denies clients in an IPv4 or IPv6 prefix asking for paths under a path prefix. The
 * first rule that matches decides; when none matches, the request is allowed. Immutable: the server
 * swaps a whole set at once.
 *
 * <p>Text form, one rule a line ({@code #} starts a comment):
 *
 * <pre>
 * deny  10.0.0.0/8     /private/
 * deny  2001:2:0:1::/64 /private/
 * allow 198.18.0.0/15
 * deny  0.0.0.0/0      /private/
 * </pre>
 *
 * <p>A prefix of length 0, {@code 0.0.0.0/0} or {@code ::/0}, covers every client of both families
 * (and one whose address is unknown): a "deny everyone" written before the replica served IPv6
 * keeps meaning everyone. Any longer prefix covers clients of its own family only.
 *
 * <p>Path prefixes compare bytes of the decoded path: {@code /private/} does not cover {@code
 * /private} itself, and {@code /priv} covers {@code /private.html}.
 */
public final class AccessRules {
  /** No rules: everything allowed. */
  public static final AccessRules ALLOW_ALL = new AccessRules(List.of());

  /** A client's address family as {@link #allows(int, long, long, PathKey)} takes it. */
  static final int UNKNOWN = 0;

  static final int IPV4 = 4;
  static final int IPV6 = 6;

  /**
   * One rule; {@code pathPrefix} "/" covers every path.
   *
   * @param ipv6 the prefix's family
   * @param high the IPv6 network's first 64 bits (0 for IPv4)
   * @param low its last 64 bits, or the IPv4 network as an unsigned int
   */
  public record Rule(
      boolean allow, boolean ipv6, long high, long low, int prefixLength, String pathPrefix) {
    public Rule {
      int bits = ipv6 ? 128 : 32;
      if (prefixLength < 0 || prefixLength > bits) {
        throw new IllegalArgumentException(
            "prefix length must be 0.." + bits + ": " + prefixLength);
      }
      if (pathPrefix == null || !pathPrefix.startsWith("/")) {
        throw new IllegalArgumentException("path prefix must start with '/': " + pathPrefix);
      }
      high &= highMask(ipv6, prefixLength);
      low &= lowMask(ipv6, prefixLength);
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
      boolean ipv6 = address.indexOf(':') >= 0;
      int length;
      try {
        length = slash < 0 ? (ipv6 ? 128 : 32) : Integer.parseInt(cidr.substring(slash + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("not a prefix length in " + cidr, e);
      }
      if (!ipv6) {
        return new Rule(allow, false, 0, parseIpv4(address) & 0xffffffffL, length, pathPrefix);
      }
      ByteBuffer b = ByteBuffer.wrap(OriginAddress.parseIpv6(address).getAddress());
      return new Rule(allow, true, b.getLong(0), b.getLong(8), length, pathPrefix);
    }

    @Override
    public String toString() {
      String network;
      if (ipv6) {
        try {
          byte[] a = ByteBuffer.allocate(16).putLong(high).putLong(low).array();
          network = OriginAddress.text(InetAddress.getByAddress(a));
        } catch (java.net.UnknownHostException e) {
          throw new IllegalStateException(e); // 16 bytes are always an address
        }
      } else {
        network = formatIpv4((int) low);
      }
      return (allow ? "allow " : "deny ") + network + "/" + prefixLength + " " + pathPrefix;
    }
  }

  private final List<Rule> rules;
  private final int[] families;
  private final long[] highs;
  private final long[] lows;
  private final long[] highMasks;
  private final long[] lowMasks;
  private final boolean[] everyone;
  private final byte[][] prefixes;
  private final boolean[] allows;

  public AccessRules(List<Rule> rules) {
    this.rules = List.copyOf(rules);
    int n = this.rules.size();
    families = new int[n];
    highs = new long[n];
    lows = new long[n];
    highMasks = new long[n];
    lowMasks = new long[n];
    everyone = new boolean[n];
    prefixes = new byte[n][];
    allows = new boolean[n];
    for (int i = 0; i < n; i++) {
      Rule r = this.rules.get(i);
      families[i] = r.ipv6() ? IPV6 : IPV4;
      highs[i] = r.high();
      lows[i] = r.low();
      highMasks[i] = highMask(r.ipv6(), r.prefixLength());
      lowMasks[i] = lowMask(r.ipv6(), r.prefixLength());
      everyone[i] = r.prefixLength() == 0;
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
   * True when the client may fetch {@code path}: {@code family} {@link #IPV4} with its address in
   * {@code low} (unsigned), {@link #IPV6} with its 128 bits in {@code high} and {@code low}, or
   * {@link #UNKNOWN} (matched by /0 rules only). Allocates nothing.
   */
  boolean allows(int family, long high, long low, PathKey path) {
    for (int i = 0; i < allows.length; i++) {
      boolean inPrefix =
          everyone[i]
              || (family == families[i]
                  && (high & highMasks[i]) == highs[i]
                  && (low & lowMasks[i]) == lows[i]);
      if (inPrefix && path.startsWith(prefixes[i])) {
        return allows[i];
      }
    }
    return true;
  }

  /** {@link #allows(int, long, long, PathKey)} for callers outside the serving path. */
  public boolean allows(String client, String path) {
    if (client.indexOf(':') < 0) {
      return allows(IPV4, 0, parseIpv4(client) & 0xffffffffL, PathKey.of(path));
    }
    return allows(OriginAddress.parseIpv6(client), PathKey.of(path));
  }

  /** For an address as the JDK gives it (an IPv4-mapped IPv6 address is an IPv4 one there). */
  boolean allows(InetAddress client, PathKey path) {
    if (client == null) {
      return allows(UNKNOWN, 0, 0, path);
    }
    ByteBuffer b = ByteBuffer.wrap(client.getAddress());
    return client instanceof Inet4Address
        ? allows(IPV4, 0, b.getInt(0) & 0xffffffffL, path)
        : allows(IPV6, b.getLong(0), b.getLong(8), path);
  }

  static long highMask(boolean ipv6, int prefixLength) {
    if (!ipv6 || prefixLength == 0) {
      return 0;
    }
    return prefixLength >= 64 ? -1L : -1L << (64 - prefixLength);
  }

  static long lowMask(boolean ipv6, int prefixLength) {
    if (!ipv6) {
      return prefixLength == 0 ? 0 : (-1L << (32 - prefixLength)) & 0xffffffffL;
    }
    if (prefixLength <= 64) {
      return 0;
    }
    return prefixLength == 128 ? -1L : -1L << (128 - prefixLength);
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
