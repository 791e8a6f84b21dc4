package net.hydranet.forwarding.element;

import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.TcpHeader;
import org.agrona.MutableDirectBuffer;

/**
 * The redirector's door for IPv4: what it may trust of a datagram, and whether the datagram is for
 * the router itself or in transit. Checks the header ({@link CheckIpHeader}), the stateless
 * fragment rules, and the addresses a router never routes (RFC 1812 §5.3.7); sets {@link
 * PacketContext#source} and {@link PacketContext#destination}.
 */
public final class IpInput implements Element {
  /** Addressed to one of the router's own addresses. */
  public static final int LOCAL = 0;

  /** To be routed or redirected. */
  public static final int TRANSIT = 1;

  /** Dropped and counted. */
  public static final int DROP = 2;

  /** {@link #localIndex} of an address that is none of the router's. */
  static final int NOT_LOCAL = Integer.MAX_VALUE;

  private final Counters counters;
  private final CheckIpHeader checkIpHeader;

  // The router's addresses in a collision-free table: slot (address × multiplier) >>> shift holds
  // the address and the index of the first interface that has it (NOT_LOCAL when empty). A lookup
  // is two loads and no loop: a loop here made this element C2's first compile on the path (its
  // back branches count towards the threshold), compiled alone too big to be inlined after
  // (BENCHMARKS.md, "What the JIT decides").
  private final int[] slotAddress;
  private final int[] slotIndex;
  private final int multiplier;
  private final int shift;

  /**
   * @param localAddresses the router's interface addresses, in interface order
   */
  public IpInput(Counters counters, int[] localAddresses) {
    this.counters = counters;
    this.checkIpHeader = new CheckIpHeader(counters);
    int[] addresses = null;
    int[] indexes = null;
    int m = 0;
    int bits = Math.max(1, 33 - Integer.numberOfLeadingZeros(localAddresses.length));
    search:
    for (; bits <= 24; bits++) {
      for (int candidate : MULTIPLIERS) {
        addresses = new int[1 << bits];
        indexes = new int[1 << bits];
        java.util.Arrays.fill(indexes, NOT_LOCAL);
        if (fill(localAddresses, candidate, 32 - bits, addresses, indexes)) {
          m = candidate;
          break search;
        }
      }
    }
    if (m == 0) {
      throw new IllegalArgumentException(
          "no collision-free table for " + localAddresses.length + " local addresses");
    }
    this.slotAddress = addresses;
    this.slotIndex = indexes;
    this.multiplier = m;
    this.shift = 32 - bits;
  }

  private static final int[] MULTIPLIERS = {0x9E3779B1, 0x85EBCA6B, 0xC2B2AE35, 0x27D4EB2F};

  /** Places every address at its slot; false if two different addresses share one. */
  private static boolean fill(int[] local, int m, int shift, int[] addresses, int[] indexes) {
    for (int i = 0; i < local.length; i++) {
      int slot = (local[i] * m) >>> shift;
      if (indexes[slot] == NOT_LOCAL) {
        addresses[slot] = local[i];
        indexes[slot] = i;
      } else if (addresses[slot] != local[i]) {
        return false;
      }
    }
    return true;
  }

  /** The index of the first interface with {@code address}, or {@link #NOT_LOCAL}. */
  int localIndex(int address) {
    int slot = (address * multiplier) >>> shift;
    return slotAddress[slot] == address ? slotIndex[slot] : NOT_LOCAL;
  }

  @Override
  public int process(MutableDirectBuffer buffer, PacketContext packet) {
    if (packet.destinationMac == EthernetHeader.BROADCAST) {
      // IPv4 in a link broadcast: never a unicast datagram for us to route (RFC 1812 §5.3.4).
      return drop(Counter.DROP_MARTIAN_DESTINATION);
    }
    int ip = packet.l3;
    if (checkIpHeader.check(buffer, ip, packet.available, packet) != Verdict.CONTINUE) {
      return DROP;
    }
    // Taken as the check stored them, before the next read of the frame would make them loads.
    int destination = packet.destination;
    int source = packet.source;
    if (Ipv4Header.isFragment(buffer, ip) && !fragmentSane(buffer, ip)) {
      return drop(Counter.DROP_BAD_FRAGMENT);
    }
    // As a scan of the interfaces in order would decide: the first interface whose address is the
    // source or the destination; the source first when one interface has both.
    int sourceIndex = localIndex(source);
    int destinationIndex = localIndex(destination);
    if (sourceIndex <= destinationIndex && sourceIndex != NOT_LOCAL) {
      // Our own address as a source, from the wire: spoofed or looped (RFC 1812 §5.3.7). Found
      // by the fuzzer: an echo "from us" was answered to a MAC an ARP message had claimed.
      return drop(Counter.DROP_MARTIAN_SOURCE);
    }
    if (destinationIndex != NOT_LOCAL) {
      return LOCAL;
    }
    if (CheckIpHeader.isMartianDestination(destination)
        || (destination >>> 28) == 0xE
        || destination == packet.ingress.broadcast()) {
      // Multicast and broadcast are not routed here; martians never are (RFC 1812 §5.3.7).
      return drop(Counter.DROP_MARTIAN_DESTINATION);
    }
    return TRANSIT;
  }

  /**
   * Stateless fragment checks, the ones a router can make without holding fragments: no fragment
   * may reach past 65,535 bytes (the "ping of death"); a TCP fragment at offset 8 can only exist to
   * overwrite the TCP header's flags, and a first TCP fragment must hold the whole minimal TCP
   * header (RFC 1858 §3–4, overlapping and tiny fragments). Stateful overlap detection, for
   * datagrams to service addresses, is {@link FragmentTracker}'s.
   */
  static boolean fragmentSane(MutableDirectBuffer buffer, int ip) {
    int headerLength = Ipv4Header.headerLength(buffer, ip);
    int data = Ipv4Header.totalLength(buffer, ip) - headerLength;
    int fragmentOffset = Ipv4Header.fragmentOffset(buffer, ip);
    if (fragmentOffset + data > 65_535 - headerLength) {
      return false;
    }
    if (Ipv4Header.protocol(buffer, ip) == Ipv4Header.PROTOCOL_TCP) {
      if (fragmentOffset == 8) {
        return false;
      }
      if (fragmentOffset == 0 && data < TcpHeader.MIN_LENGTH) {
        return false;
      }
    }
    return true;
  }

  private int drop(Counter reason) {
    counters.increment(reason);
    return DROP;
  }
}
