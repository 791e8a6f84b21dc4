package net.hydranet.forwarding.wire;

import java.nio.ByteOrder;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Neighbor Discovery messages (RFC 4861 §4) as far as a router needs them: router solicitation and
 * advertisement, neighbour solicitation and advertisement, their validity checks (§6.1, §7.1) and
 * the source/target link-layer address and MTU options (§4.6). Offsets are from the start of the
 * ICMPv6 message.
 *
 * <pre>
 * Router Solicitation (133)          Router Advertisement (134)
 * +-------+-------+---------------+  +-------+-------+---------------+
 * | Type  | Code  |   Checksum    |  | Type  | Code  |   Checksum    |
 * +-------+-------+---------------+  +-------+-------+---------------+
 * |           Reserved            |  |Cur Hop|M|O|   | Router Lifetime|
 * +-------------------------------+  +-------+-------+---------------+
 * |  Options ...                     |         Reachable Time        |
 *                                    +-------------------------------+
 *                                    |         Retrans Timer         |
 *                                    +-------------------------------+
 *                                    |  Options ...
 * Neighbor Solicitation (135)        Neighbor Advertisement (136)
 * +-------+-------+---------------+  +-------+-------+---------------+
 * | Type  | Code  |   Checksum    |  | Type  | Code  |   Checksum    |
 * +-------+-------+---------------+  +-------+-------+---------------+
 * |           Reserved            |  |R|S|O|        Reserved         |
 * +-------------------------------+  +-------------------------------+
 * |     Target Address (16)       |  |     Target Address (16)       |
 * +-------------------------------+  +-------------------------------+
 * |  Options ...                     |  Options ...
 *
 * Option (§4.6): | Type | Length (units of 8 octets, never 0) | value ... |
 * </pre>
 */
public final class NeighbourDiscovery {
  public static final int RS_OPTIONS_OFFSET = 8;
  public static final int RA_CUR_HOP_LIMIT_OFFSET = 4;
  public static final int RA_FLAGS_OFFSET = 5;
  public static final int RA_ROUTER_LIFETIME_OFFSET = 6;
  public static final int RA_REACHABLE_TIME_OFFSET = 8;
  public static final int RA_RETRANS_TIMER_OFFSET = 12;
  public static final int RA_OPTIONS_OFFSET = 16;
  public static final int NA_FLAGS_OFFSET = 4;
  public static final int TARGET_OFFSET = 8;
  public static final int NS_NA_OPTIONS_OFFSET = 24;

  public static final int NA_FLAG_ROUTER = 0x80;
  public static final int NA_FLAG_SOLICITED = 0x40;
  public static final int NA_FLAG_OVERRIDE = 0x20;
  public static final int RA_FLAG_MANAGED = 0x80;
  public static final int RA_FLAG_OTHER = 0x40;

  public static final int OPTION_SOURCE_LINK_LAYER = 1;
  public static final int OPTION_TARGET_LINK_LAYER = 2;
  public static final int OPTION_PREFIX_INFORMATION = 3;
  public static final int OPTION_MTU = 5;

  /** Every ND message is sent with this hop limit and accepted only with it (§6.1.1, §7.1.1). */
  public static final int HOP_LIMIT = 255;

  /** Length of a link-layer address option for Ethernet: type, length 1, six octets. */
  public static final int LINK_LAYER_OPTION_LENGTH = 8;

  public static final int MTU_OPTION_LENGTH = 8;

  /** Returned by the option lookups when the option is absent. */
  public static final long NO_OPTION = -1;

  // Verdicts of validate().
  public static final int VALID = 0;
  public static final int NOT_ND = 1;
  public static final int BAD_HOP_LIMIT = 2;
  public static final int BAD_CHECKSUM = 3;
  public static final int BAD_CODE = 4;
  public static final int TOO_SHORT = 5;
  public static final int BAD_OPTION = 6;
  public static final int BAD_TARGET = 7;
  public static final int BAD_ADDRESSES = 8;

  private NeighbourDiscovery() {}

  /** True for the four types this class handles. */
  public static boolean isNeighbourDiscovery(int type) {
    return type >= Icmpv6Header.TYPE_ROUTER_SOLICITATION
        && type <= Icmpv6Header.TYPE_NEIGHBOUR_ADVERTISEMENT;
  }

  /**
   * The receiver's checks of RFC 4861 §6.1.1 (RS), §6.1.2 (RA), §7.1.1 (NS) and §7.1.2 (NA): hop
   * limit 255 (so the message cannot come from off-link), a valid checksum, code 0, the minimum
   * length, options of non-zero length that fit, a unicast target, and the address rules of each
   * type. Only what passes may change the neighbour table.
   *
   * @param icmpLength the ICMPv6 message's bytes (from the walked chain, not the frame)
   * @return {@link #VALID} or the failed check
   */
  public static int validate(DirectBuffer buffer, int ipOffset, int icmpOffset, int icmpLength) {
    if (icmpLength < Icmpv6Header.LENGTH) {
      return TOO_SHORT;
    }
    final int type = Icmpv6Header.type(buffer, icmpOffset);
    if (!isNeighbourDiscovery(type)) {
      return NOT_ND;
    }
    if (Ipv6Header.hopLimit(buffer, ipOffset) != HOP_LIMIT) {
      return BAD_HOP_LIMIT;
    }
    if (!Icmpv6Header.verifyChecksum(buffer, ipOffset, icmpOffset, icmpLength)) {
      return BAD_CHECKSUM;
    }
    if (Icmpv6Header.code(buffer, icmpOffset) != 0) {
      return BAD_CODE;
    }
    final int optionsOffset = optionsOffset(type);
    if (icmpLength < optionsOffset) {
      return TOO_SHORT;
    }
    if (!optionsWellFormed(buffer, icmpOffset + optionsOffset, icmpOffset + icmpLength)) {
      return BAD_OPTION;
    }
    final long sourceHigh = Ipv6Header.sourceHigh(buffer, ipOffset);
    final boolean unspecifiedSource =
        Ipv6Header.isUnspecified(sourceHigh, Ipv6Header.sourceLow(buffer, ipOffset));
    final long destinationHigh = Ipv6Header.destinationHigh(buffer, ipOffset);
    switch (type) {
      case Icmpv6Header.TYPE_ROUTER_SOLICITATION:
        if (unspecifiedSource
            && linkLayerAddress(buffer, icmpOffset, icmpLength, OPTION_SOURCE_LINK_LAYER)
                != NO_OPTION) {
          return BAD_ADDRESSES;
        }
        return VALID;
      case Icmpv6Header.TYPE_ROUTER_ADVERTISEMENT:
        return Ipv6Header.isLinkLocal(sourceHigh) ? VALID : BAD_ADDRESSES;
      case Icmpv6Header.TYPE_NEIGHBOUR_SOLICITATION:
        if (Ipv6Header.isMulticast(targetHigh(buffer, icmpOffset))) {
          return BAD_TARGET;
        }
        if (unspecifiedSource
            && (!isSolicitedNode(buffer, ipOffset)
                || linkLayerAddress(buffer, icmpOffset, icmpLength, OPTION_SOURCE_LINK_LAYER)
                    != NO_OPTION)) {
          return BAD_ADDRESSES;
        }
        return VALID;
      default: // neighbour advertisement
        if (Ipv6Header.isMulticast(targetHigh(buffer, icmpOffset))) {
          return BAD_TARGET;
        }
        if (Ipv6Header.isMulticast(destinationHigh)
            && (naFlags(buffer, icmpOffset) & NA_FLAG_SOLICITED) != 0) {
          return BAD_ADDRESSES;
        }
        return VALID;
    }
  }

  /** Where the options of an ND message of this type start, from the ICMPv6 header. */
  public static int optionsOffset(int type) {
    switch (type) {
      case Icmpv6Header.TYPE_ROUTER_SOLICITATION:
        return RS_OPTIONS_OFFSET;
      case Icmpv6Header.TYPE_ROUTER_ADVERTISEMENT:
        return RA_OPTIONS_OFFSET;
      default:
        return NS_NA_OPTIONS_OFFSET;
    }
  }

  private static boolean optionsWellFormed(DirectBuffer buffer, int at, int end) {
    // Each option is at least 8 bytes, so the walk takes at most (end - at) / 8 steps.
    while (at < end) {
      if (at + 2 > end) {
        return false;
      }
      final int length = (buffer.getByte(at + 1) & 0xFF) << 3;
      if (length == 0 || at + length > end) {
        return false;
      }
      at += length;
    }
    return true;
  }

  private static boolean isSolicitedNode(DirectBuffer buffer, int ipOffset) {
    return Ipv6Header.destinationHigh(buffer, ipOffset) == Ipv6Header.solicitedNodeHigh()
        && (Ipv6Header.destinationLow(buffer, ipOffset) & 0xFFFF_FFFF_FF00_0000L)
            == 0x0000_0001_FF00_0000L;
  }

  /**
   * The offset of the first option of {@code optionType}, or -1. Bounded and safe on any bytes: it
   * stops at an option of length zero or one that runs past the message.
   */
  public static int optionOffset(
      DirectBuffer buffer, int icmpOffset, int icmpLength, int optionType) {
    if (icmpLength < Icmpv6Header.LENGTH) {
      return -1;
    }
    int at = icmpOffset + optionsOffset(Icmpv6Header.type(buffer, icmpOffset));
    final int end = icmpOffset + icmpLength;
    while (at + 2 <= end) {
      final int length = (buffer.getByte(at + 1) & 0xFF) << 3;
      if (length == 0 || at + length > end) {
        return -1;
      }
      if ((buffer.getByte(at) & 0xFF) == optionType) {
        return at;
      }
      at += length;
    }
    return -1;
  }

  /**
   * The Ethernet address carried in the first source (1) or target (2) link-layer address option,
   * or {@link #NO_OPTION}; an option too short for a MAC counts as absent.
   */
  public static long linkLayerAddress(
      DirectBuffer buffer, int icmpOffset, int icmpLength, int optionType) {
    final int at = optionOffset(buffer, icmpOffset, icmpLength, optionType);
    if (at < 0) {
      return NO_OPTION;
    }
    return EthernetHeader.mac(buffer, at + 2);
  }

  /** The MTU option's value (§4.6.4), or -1. */
  public static long mtuOption(DirectBuffer buffer, int icmpOffset, int icmpLength) {
    final int at = optionOffset(buffer, icmpOffset, icmpLength, OPTION_MTU);
    return at < 0 ? -1 : buffer.getInt(at + 4, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL;
  }

  public static long targetHigh(DirectBuffer buffer, int icmpOffset) {
    return buffer.getLong(icmpOffset + TARGET_OFFSET, ByteOrder.BIG_ENDIAN);
  }

  public static long targetLow(DirectBuffer buffer, int icmpOffset) {
    return buffer.getLong(icmpOffset + TARGET_OFFSET + 8, ByteOrder.BIG_ENDIAN);
  }

  /** The R, S and O flags of an advertisement, in the high bits of one byte. */
  public static int naFlags(DirectBuffer buffer, int icmpOffset) {
    return buffer.getByte(icmpOffset + NA_FLAGS_OFFSET) & 0xFF;
  }

  public static int raCurrentHopLimit(DirectBuffer buffer, int icmpOffset) {
    return buffer.getByte(icmpOffset + RA_CUR_HOP_LIMIT_OFFSET) & 0xFF;
  }

  public static int raFlags(DirectBuffer buffer, int icmpOffset) {
    return buffer.getByte(icmpOffset + RA_FLAGS_OFFSET) & 0xFF;
  }

  /** Seconds; 0 means "not a default router" (§4.2). */
  public static int raRouterLifetime(DirectBuffer buffer, int icmpOffset) {
    return buffer.getShort(icmpOffset + RA_ROUTER_LIFETIME_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
  }

  public static long raReachableTime(DirectBuffer buffer, int icmpOffset) {
    return buffer.getInt(icmpOffset + RA_REACHABLE_TIME_OFFSET, ByteOrder.BIG_ENDIAN)
        & 0xFFFF_FFFFL;
  }

  public static long raRetransTimer(DirectBuffer buffer, int icmpOffset) {
    return buffer.getInt(icmpOffset + RA_RETRANS_TIMER_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF_FFFFL;
  }

  // ---- builders: whole IPv6 packets at ipOffset, returning their length ----

  /**
   * A neighbour solicitation for {@code target} with our link-layer address (§7.2.2): to the
   * target's solicited-node group when resolving, to the target itself when probing a known entry.
   */
  public static int writeNeighbourSolicitation(
      MutableDirectBuffer buffer,
      int ipOffset,
      long sourceHigh,
      long sourceLow,
      long destinationHigh,
      long destinationLow,
      long targetHigh,
      long targetLow,
      long sourceMac) {
    final int icmpOffset = ipOffset + Ipv6Header.LENGTH;
    final int icmpLength = NS_NA_OPTIONS_OFFSET + LINK_LAYER_OPTION_LENGTH;
    Icmpv6Header.write(buffer, icmpOffset, Icmpv6Header.TYPE_NEIGHBOUR_SOLICITATION, 0, 0);
    Ipv6Header.address(buffer, icmpOffset + TARGET_OFFSET, targetHigh, targetLow);
    writeLinkLayerOption(
        buffer, icmpOffset + NS_NA_OPTIONS_OFFSET, OPTION_SOURCE_LINK_LAYER, sourceMac);
    return finish(
        buffer, ipOffset, icmpLength, sourceHigh, sourceLow, destinationHigh, destinationLow);
  }

  /**
   * A neighbour advertisement for {@code target} with its link-layer address (§7.2.4): a router
   * sets R; an answer to a solicitation sets S and goes to the solicitation's source.
   *
   * @param flags {@link #NA_FLAG_ROUTER}, {@link #NA_FLAG_SOLICITED}, {@link #NA_FLAG_OVERRIDE}
   */
  public static int writeNeighbourAdvertisement(
      MutableDirectBuffer buffer,
      int ipOffset,
      long sourceHigh,
      long sourceLow,
      long destinationHigh,
      long destinationLow,
      long targetHigh,
      long targetLow,
      int flags,
      long targetMac) {
    final int icmpOffset = ipOffset + Ipv6Header.LENGTH;
    final int icmpLength = NS_NA_OPTIONS_OFFSET + LINK_LAYER_OPTION_LENGTH;
    Icmpv6Header.write(
        buffer, icmpOffset, Icmpv6Header.TYPE_NEIGHBOUR_ADVERTISEMENT, 0, (flags & 0xE0) << 24);
    Ipv6Header.address(buffer, icmpOffset + TARGET_OFFSET, targetHigh, targetLow);
    writeLinkLayerOption(
        buffer, icmpOffset + NS_NA_OPTIONS_OFFSET, OPTION_TARGET_LINK_LAYER, targetMac);
    return finish(
        buffer, ipOffset, icmpLength, sourceHigh, sourceLow, destinationHigh, destinationLow);
  }

  /**
   * A router advertisement (§6.2.3) from a link-local source with our link-layer address and, when
   * {@code mtu} is positive, the link MTU. No prefix information: addresses here are configured,
   * not autoconfigured, so a router answers a solicitation only to be found as a default router.
   *
   * @param routerLifetimeSeconds 0 to say "do not use me as a default router"
   */
  public static int writeRouterAdvertisement(
      MutableDirectBuffer buffer,
      int ipOffset,
      long sourceHigh,
      long sourceLow,
      long destinationHigh,
      long destinationLow,
      int currentHopLimit,
      int flags,
      int routerLifetimeSeconds,
      int reachableTimeMillis,
      int retransTimerMillis,
      long sourceMac,
      int mtu) {
    final int icmpOffset = ipOffset + Ipv6Header.LENGTH;
    Icmpv6Header.write(
        buffer,
        icmpOffset,
        Icmpv6Header.TYPE_ROUTER_ADVERTISEMENT,
        0,
        ((currentHopLimit & 0xFF) << 24)
            | ((flags & 0xC0) << 16)
            | (routerLifetimeSeconds & 0xFFFF));
    buffer.putInt(icmpOffset + RA_REACHABLE_TIME_OFFSET, reachableTimeMillis, ByteOrder.BIG_ENDIAN);
    buffer.putInt(icmpOffset + RA_RETRANS_TIMER_OFFSET, retransTimerMillis, ByteOrder.BIG_ENDIAN);
    int at = icmpOffset + RA_OPTIONS_OFFSET;
    writeLinkLayerOption(buffer, at, OPTION_SOURCE_LINK_LAYER, sourceMac);
    at += LINK_LAYER_OPTION_LENGTH;
    if (mtu > 0) {
      buffer.putByte(at, (byte) OPTION_MTU);
      buffer.putByte(at + 1, (byte) 1);
      buffer.putShort(at + 2, (short) 0);
      buffer.putInt(at + 4, mtu, ByteOrder.BIG_ENDIAN);
      at += MTU_OPTION_LENGTH;
    }
    return finish(
        buffer, ipOffset, at - icmpOffset, sourceHigh, sourceLow, destinationHigh, destinationLow);
  }

  private static void writeLinkLayerOption(
      MutableDirectBuffer buffer, int at, int optionType, long mac) {
    buffer.putByte(at, (byte) optionType);
    buffer.putByte(at + 1, (byte) 1);
    EthernetHeader.mac(buffer, at + 2, mac);
  }

  private static int finish(
      MutableDirectBuffer buffer,
      int ipOffset,
      int icmpLength,
      long sourceHigh,
      long sourceLow,
      long destinationHigh,
      long destinationLow) {
    Ipv6Header.write(
        buffer,
        ipOffset,
        0,
        0,
        icmpLength,
        Ipv6Header.NEXT_HEADER_ICMPV6,
        HOP_LIMIT,
        sourceHigh,
        sourceLow,
        destinationHigh,
        destinationLow);
    Icmpv6Header.updateChecksum(buffer, ipOffset, ipOffset + Ipv6Header.LENGTH, icmpLength);
    return Ipv6Header.LENGTH + icmpLength;
  }
}
