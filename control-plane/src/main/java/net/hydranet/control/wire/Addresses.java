package net.hydranet.control.wire;

/** IPv4 addresses as ints, for logs and config. */
public final class Addresses {
  private Addresses() {}

  public static String format(int a) {
    return (a >>> 24) + "." + ((a >>> 16) & 0xff) + "." + ((a >>> 8) & 0xff) + "." + (a & 0xff);
  }

  /** Parses dotted quad; throws IllegalArgumentException with the text otherwise. */
  public static int parse(String s) {
    String[] p = s.strip().split("\\.", -1);
    if (p.length != 4) {
      throw new IllegalArgumentException("'" + s + "' is not an IPv4 address");
    }
    int a = 0;
    for (String part : p) {
      if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(Character::isDigit)) {
        throw new IllegalArgumentException("'" + s + "' is not an IPv4 address");
      }
      int v = Integer.parseInt(part);
      if (v > 255) {
        throw new IllegalArgumentException("'" + s + "' is not an IPv4 address");
      }
      a = (a << 8) | v;
    }
    return a;
  }

  public static String protocol(int p) {
    return p == 6 ? "tcp" : p == 17 ? "udp" : Integer.toString(p);
  }
}
