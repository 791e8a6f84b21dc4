package net.hydranet.control.wire;

/**
 * A service access point's key: the origin's address, the transport protocol and the port. One type
 * for both families (issue 21): the 128-bit address holds an IPv4 origin as the IPv4-mapped address
 * {@code ::ffff:a.b.c.d} (RFC 4291 §2.5.5.2), which no IPv6 origin may be (the codec refuses {@code
 * ::/8} as an IPv6 origin), so every key has exactly one family and one encoding.
 *
 * <p>Ordered IPv4 first, then by address, protocol and port, so the operator's views list both
 * families in a stable order.
 *
 * @param high the address's first 64 bits (0 for IPv4)
 * @param low the address's last 64 bits ({@code 0xffff_xxxxxxxx} for IPv4)
 */
public record Service(long high, long low, int protocol, int port) implements Comparable<Service> {
  private static final long V4_MAPPED = 0xffffL << 32;

  /** The key of an IPv4 service. */
  public static Service ipv4(int origin, int protocol, int port) {
    return new Service(0, V4_MAPPED | Integer.toUnsignedLong(origin), protocol, port);
  }

  /**
   * The key of an IPv6 service.
   *
   * @throws IllegalArgumentException for an IPv4-mapped address, which is an IPv4 service's key
   */
  public static Service ipv6(long high, long low, int protocol, int port) {
    Service s = new Service(high, low, protocol, port);
    if (s.isIpv4()) {
      throw new IllegalArgumentException(
          "::ffff:" + Addresses.format((int) low) + " is the IPv4 service's key, not IPv6");
    }
    return s;
  }

  /** 4 or 6. */
  public int family() {
    return isIpv4() ? 4 : 6;
  }

  public boolean isIpv4() {
    return high == 0 && (low & 0xffff_ffff_0000_0000L) == V4_MAPPED;
  }

  /** The IPv4 origin; only for {@link #isIpv4()} keys. */
  public int ipv4Origin() {
    if (!isIpv4()) {
      throw new IllegalStateException(this + " is not an IPv4 service");
    }
    return (int) low;
  }

  /** The origin as text: dotted quad, or RFC 5952's form of an IPv6 address. */
  public String originText() {
    return isIpv4() ? Addresses.format((int) low) : Addresses.formatIpv6(high, low);
  }

  /** {@code 198.51.100.80:80/tcp} or {@code [2001:2::10]:80/tcp}, as logs and metric labels say. */
  @Override
  public String toString() {
    String origin = isIpv4() ? originText() : "[" + originText() + "]";
    return origin + ":" + port + "/" + Addresses.protocol(protocol);
  }

  @Override
  public int compareTo(Service o) {
    int c = Boolean.compare(o.isIpv4(), isIpv4());
    if (c == 0) {
      c = Long.compareUnsigned(high, o.high);
    }
    if (c == 0) {
      c = Long.compareUnsigned(low, o.low);
    }
    if (c == 0) {
      c = Integer.compare(protocol, o.protocol);
    }
    return c != 0 ? c : Integer.compare(port, o.port);
  }
}
