package net.hydranet.forwarding.config;

import net.hydranet.forwarding.table.Ipv6RouteTable;
import net.hydranet.forwarding.wire.Ipv6Header;

/**
 * One of the router's IPv6 addresses: on which interface, and the connected prefix it makes.
 * Configured, never autoconfigured; besides these, every interface answers for its link-local
 * address, derived from its MAC ({@link #linkLocalLow}).
 *
 * @param interfaceIndex the interface it is on (its index in the context)
 * @param high the address's high 64 bits
 * @param low the address's low 64 bits
 * @param prefixLength the connected prefix's length, 1..128
 */
public record RouterAddress6(int interfaceIndex, long high, long low, int prefixLength) {

  /** The link-local prefix, fe80::/64 (RFC 4291 §2.5.6). */
  public static final long LINK_LOCAL_HIGH = 0xFE80_0000_0000_0000L;

  /** The connected prefix's high half, host bits cleared. */
  public long networkHigh() {
    return high & Ipv6RouteTable.maskHigh(prefixLength);
  }

  /** The connected prefix's low half, host bits cleared. */
  public long networkLow() {
    return low & Ipv6RouteTable.maskLow(prefixLength);
  }

  /** True when {@code (h, l)} is on this address's connected prefix. */
  public boolean onLink(long h, long l) {
    return (h & Ipv6RouteTable.maskHigh(prefixLength)) == networkHigh()
        && (l & Ipv6RouteTable.maskLow(prefixLength)) == networkLow();
  }

  /**
   * The interface identifier of a MAC in modified EUI-64 form (RFC 4291 appendix A): ff:fe in the
   * middle and the universal/local bit inverted; with {@link #LINK_LOCAL_HIGH}, the link-local
   * address a host would give that interface.
   */
  public static long linkLocalLow(long mac) {
    long upper = (mac >>> 24) & 0xFF_FFFFL;
    long lower = mac & 0xFF_FFFFL;
    return ((upper ^ 0x02_0000L) << 40) | (0xFF_FEL << 24) | lower;
  }

  @Override
  public String toString() {
    return Ipv6Header.formatAddress(high, low) + "/" + prefixLength;
  }
}
