package net.hydranet.replica;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * The addresses a replica serves as, of either family: strict parsing of literals (never a name,
 * never a DNS query, no zone), their text (RFC 5952 for IPv6, so one address has one spelling in
 * logs, file names and views) and {@code host:port} with IPv6 in brackets (RFC 3986 §3.2.2), which
 * string concatenation of {@link InetAddress#getHostAddress()} and a port gets wrong.
 */
public final class OriginAddress {
  private OriginAddress() {}

  /**
   * An IPv4 dotted quad or an IPv6 literal (without brackets or zone): the address a replica may
   * serve as. IPv6 must be global unicast (not unspecified, loopback, link-local, multicast or
   * IPv4-mapped), as the control plane requires of an IPv6 origin.
   */
  public static InetAddress parse(String text) {
    String s = text == null ? "" : text.strip();
    if (s.indexOf(':') < 0) {
      int v = Bundle.parseAddress(s);
      return ipv4(v);
    }
    InetAddress a = parseIpv6(s);
    if (a.isAnyLocalAddress()
        || a.isLoopbackAddress()
        || a.isLinkLocalAddress()
        || a.isSiteLocalAddress()
        || a.isMulticastAddress()) {
      throw new IllegalArgumentException("not a global unicast IPv6 address: " + text);
    }
    return a;
  }

  /** An IPv6 literal, any scope but without a zone; an IPv4-mapped form is refused. */
  public static InetAddress parseIpv6(String s) {
    if (s.isEmpty()
        || !(Character.digit(s.charAt(0), 16) >= 0 || s.charAt(0) == ':')
        || s.indexOf('%') >= 0
        || s.indexOf('[') >= 0
        || !s.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == ':' || c == '.')) {
      throw new IllegalArgumentException("not an IPv6 address: " + s);
    }
    InetAddress a;
    try {
      // Hex digits, ':' and '.' only, starting with a hex digit or ':': the JDK parses it as a
      // literal and asks no name service.
      a = InetAddress.getByName(s);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("not an IPv6 address: " + s, e);
    }
    if (!(a instanceof Inet6Address)) {
      // The JDK turns ::ffff:a.b.c.d into an IPv4 address: name the IPv4 address instead.
      throw new IllegalArgumentException("an IPv4-mapped address is not an IPv6 origin: " + s);
    }
    return a;
  }

  static InetAddress ipv4(int v) {
    try {
      return InetAddress.getByAddress(
          new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v});
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e); // four bytes are always an address
    }
  }

  /** The address's text: a dotted quad, or IPv6 as RFC 5952 writes it (2001:2:0:2::10). */
  public static String text(InetAddress a) {
    if (a instanceof Inet4Address) {
      return a.getHostAddress();
    }
    byte[] b = a.getAddress();
    int[] words = new int[8];
    for (int i = 0; i < 8; i++) {
      words[i] = (b[2 * i] & 0xff) << 8 | (b[2 * i + 1] & 0xff);
    }
    // The longest run of two or more zero words is "::" (the first such run on a tie; §4.2).
    int bestStart = -1;
    int bestLength = 1;
    for (int i = 0; i < 8; ) {
      if (words[i] != 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < 8 && words[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j;
    }
    StringBuilder sb = new StringBuilder(39);
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        sb.append("::");
        i += bestLength - 1;
        continue;
      }
      if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
        sb.append(':');
      }
      sb.append(Integer.toHexString(words[i]));
    }
    return sb.toString();
  }

  /** {@code a.b.c.d:port} or {@code [v6]:port}: what a URL authority and a Host header carry. */
  public static String hostPort(InetAddress a, int port) {
    return host(a) + ":" + port;
  }

  /** The address as a URL's host: IPv6 in brackets. */
  public static String host(InetAddress a) {
    return a instanceof Inet6Address ? "[" + text(a) + "]" : text(a);
  }

  /**
   * A prefix of either family, {@code 198.18.2.0/28} or {@code 2001:2:0:2::/64}: the addresses an
   * origin's bundles may serve as. The network has no bits set beyond the length.
   */
  public record Prefix(InetAddress network, int length) {
    public Prefix {
      int bits = network.getAddress().length * 8;
      if (length < 0 || length > bits) {
        throw new IllegalArgumentException("prefix length " + length + " outside 0.." + bits);
      }
      byte[] n = network.getAddress();
      for (int i = 0; i < n.length; i++) {
        if ((n[i] & 0xff & ~mask(i, length)) != 0) {
          throw new IllegalArgumentException(
              text(network) + "/" + length + " has bits set beyond its prefix length");
        }
      }
    }

    /** {@code ADDRESS/LENGTH}, or one address (a /32 or /128); either family. */
    public static Prefix parse(String text) {
      String s = text == null ? "" : text.strip();
      int slash = s.indexOf('/');
      String address = slash < 0 ? s : s.substring(0, slash);
      InetAddress a =
          address.indexOf(':') < 0 ? ipv4(Bundle.parseAddress(address)) : parseIpv6(address);
      int bits = a.getAddress().length * 8;
      int length;
      try {
        length = slash < 0 ? bits : Integer.parseInt(s.substring(slash + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("not a prefix length in " + text, e);
      }
      return new Prefix(a, length);
    }

    /** Whether {@code a} (of the same family) is inside. */
    public boolean contains(InetAddress a) {
      byte[] x = a.getAddress();
      byte[] n = network.getAddress();
      if (x.length != n.length) {
        return false;
      }
      for (int i = 0; i < n.length; i++) {
        if ((x[i] & mask(i, length)) != (n[i] & 0xff)) {
          return false;
        }
      }
      return true;
    }

    private static int mask(int byteIndex, int length) {
      int bits = Math.max(0, Math.min(8, length - 8 * byteIndex));
      return (0xff00 >>> bits) & 0xff;
    }

    @Override
    public String toString() {
      return text(network) + "/" + length;
    }
  }
}
