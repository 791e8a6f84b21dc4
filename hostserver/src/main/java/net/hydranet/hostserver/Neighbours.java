package net.hydranet.hostserver;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * This namespace's neighbour table (ARP and NDP entries) read from the kernel over rtnetlink: one
 * {@code RTM_GETNEIGH} dump ({@code NLM_F_DUMP}) of one family or both, each entry with its
 * address, interface index, state and link-layer address. The host server asks it for the MAC of a
 * virtual host's origin on the virtual host's link, IPv4 and IPv6 alike (for IPv4 it replaces
 * reading {@code /proc/net/arp}, which has no IPv6 counterpart).
 *
 * <p>Main thread only, off the data path: a dump allocates its entries. One netlink socket, opened
 * once, in the namespace of the thread that opens it (or the one given to {@link #openIn}).
 */
public final class Neighbours implements AutoCloseable {
  public static final int AF_UNSPEC = 0;
  public static final int AF_INET = 2;
  public static final int AF_INET6 = 10;

  /** States with a usable link-layer address ({@code NUD_VALID}): reachable, stale, delay, … */
  static final int NUD_VALID = 0x80 | 0x40 | 0x02 | 0x10 | 0x04 | 0x08;

  private static final int RTM_NEWNEIGH = 28;
  private static final int RTM_GETNEIGH = 30;
  private static final int NDA_DST = 1;
  private static final int NDA_LLADDR = 2;
  private static final int NDMSG = 12;

  /** nlmsghdr (16) + ndmsg (12). */
  static final int REQUEST_LENGTH = Netlink.HEADER + NDMSG;

  private static final int NLM_F_ACK = 4;
  private static final int NLM_F_CREATE = 0x400;

  /** ndm_flags: "this entry is in use": the kernel resolves it (or refreshes it) now. */
  static final int NTF_USE = 0x01;

  /** nlmsghdr (16) + ndmsg (12) + NDA_DST (4 + 16 at most). */
  static final int RESOLVE_MAX_LENGTH = Netlink.HEADER + NDMSG + 4 + 16;

  /**
   * Datagrams a resolve's acknowledgement may take: a late part of another answer may come first.
   */
  private static final int RESOLVE_MAX_DATAGRAMS = 4;

  /** Datagrams of a dump read at most: a bound, so that a broken answer cannot hold the caller. */
  private static final int MAX_PARTS = 4096;

  private static final ByteOrder HOST = Netlink.HOST;

  /**
   * One neighbour entry.
   *
   * @param address 4 or 16 bytes, network order
   * @param mac the link-layer address, or null if the entry has none (e.g. still incomplete)
   * @param state the kernel's {@code NUD_*} bits
   */
  public record Entry(int family, int ifIndex, byte[] address, byte[] mac, int state) {
    /** The kernel holds a usable 6-byte MAC for it (a state of {@code NUD_VALID}). */
    public boolean resolved() {
      return (state & NUD_VALID) != 0 && mac != null && mac.length == 6;
    }

    /** Whether this entry is for {@code address} on the interface {@code ifIndex}. */
    public boolean is(int ifIndex, byte[] address) {
      return this.ifIndex == ifIndex && Arrays.equals(this.address, address);
    }
  }

  private final int fd;
  private final Netlink netlink = new Netlink(RESOLVE_MAX_LENGTH, 1 << 16);
  private boolean closed;

  private Neighbours(int fd) {
    this.fd = fd;
  }

  /** A reader of the calling thread's network namespace. */
  public static Neighbours open() throws IOException {
    return new Neighbours(Netlink.openSocket(Netlink.NETLINK_ROUTE));
  }

  /**
   * A reader of the network namespace at {@code namespace} (e.g. {@code /run/netns/NAME}): the
   * calling thread enters it for the {@code socket} call and returns to its own.
   */
  public static Neighbours openIn(Path namespace) throws IOException {
    return new Neighbours(Netlink.openSocketIn(namespace, Netlink.NETLINK_ROUTE));
  }

  /**
   * Every neighbour entry of {@code family} ({@link #AF_INET}, {@link #AF_INET6}, or {@link
   * #AF_UNSPEC} for both), resolved or not.
   *
   * @throws IOException if the kernel refuses the dump or it ends early
   */
  public List<Entry> dump(int family) throws IOException {
    if (closed) {
      throw new IOException("closed");
    }
    int seq = netlink.nextSequence();
    writeRequest(netlink, seq, family);
    List<Entry> out = new ArrayList<>();
    int outcome = netlink.exchange(fd, REQUEST_LENGTH, seq, MAX_PARTS, reader(out));
    if (outcome != Netlink.COMPLETE) {
      throw new IOException("RTM_GETNEIGH dump: " + netlink.describe(outcome));
    }
    return out;
  }

  /**
   * Asks the kernel to resolve {@code address} on the interface {@code ifIndex} now, without a
   * packet to send there: {@code RTM_NEWNEIGH} with {@code NTF_USE} ({@code ip neigh replace ADDR
   * dev DEV use}), which creates the entry if there is none and sends the ARP request or neighbour
   * solicitation, or refreshes an entry that has one. The answer comes later into the neighbour
   * table ({@link #dump}); on a veth it is usually there before this returns. The kernel's
   * acknowledgement is read here.
   *
   * @param family {@link #AF_INET} (4-byte address) or {@link #AF_INET6} (16 bytes)
   * @throws IOException if the kernel refuses it (e.g. no such interface)
   */
  public void resolve(int family, int ifIndex, byte[] address) throws IOException {
    if (closed) {
      throw new IOException("closed");
    }
    int seq = netlink.nextSequence();
    int length = writeResolve(netlink.request(), seq, family, ifIndex, address);
    int outcome =
        netlink.exchange(
            fd, length, seq, RESOLVE_MAX_DATAGRAMS, (b, at, len, type) -> Netlink.MORE);
    if (outcome != Netlink.COMPLETE) {
      throw new IOException("RTM_NEWNEIGH (use): " + netlink.describe(outcome));
    }
  }

  /**
   * The resolve request: nlmsghdr (request, ack, create), an ndmsg with the family, interface and
   * {@code NTF_USE}, and the address as {@code NDA_DST}.
   *
   * @return its length
   */
  static int writeResolve(UnsafeBuffer b, int seq, int family, int ifIndex, byte[] address) {
    int length = Netlink.HEADER + NDMSG + 4 + address.length;
    b.setMemory(0, RESOLVE_MAX_LENGTH, (byte) 0);
    b.putInt(0, length, HOST);
    b.putShort(4, (short) RTM_NEWNEIGH, HOST);
    b.putShort(6, (short) (Netlink.NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE), HOST);
    b.putInt(8, seq, HOST);
    b.putInt(12, 0, HOST);
    // struct ndmsg: family, pad, pad, ifindex, state (NUD_NONE), flags, type
    b.putByte(Netlink.HEADER, (byte) family);
    b.putInt(Netlink.HEADER + 4, ifIndex, HOST);
    b.putByte(Netlink.HEADER + 10, (byte) NTF_USE);
    int attribute = Netlink.HEADER + NDMSG;
    b.putShort(attribute, (short) (4 + address.length), HOST);
    b.putShort(attribute + 2, (short) NDA_DST, HOST);
    b.putBytes(attribute + 4, address);
    return length;
  }

  /** The dump request: nlmsghdr and an ndmsg naming only the family. */
  static void writeRequest(Netlink netlink, int seq, int family) {
    netlink.header(REQUEST_LENGTH, RTM_GETNEIGH, Netlink.NLM_F_REQUEST | Netlink.NLM_F_DUMP, seq);
    netlink.request().putByte(Netlink.HEADER, (byte) family);
  }

  /** Adds each neighbour of the dump's messages to {@code out}; an entry too short is malformed. */
  static Netlink.Reader reader(List<Entry> out) {
    return (b, at, length, type) -> {
      if (type == RTM_NEWNEIGH) {
        if (length < Netlink.HEADER + NDMSG) {
          return Netlink.MALFORMED;
        }
        Entry e = entry(b, at + Netlink.HEADER, at + length);
        if (e != null) {
          out.add(e);
        }
      }
      return Netlink.MORE;
    };
  }

  /** The ndmsg at {@code at} and its attributes up to {@code end}; null without a destination. */
  private static Entry entry(UnsafeBuffer b, int at, int end) {
    int family = b.getByte(at) & 0xFF;
    int ifIndex = b.getInt(at + 4, HOST);
    int state = b.getShort(at + 8, HOST) & 0xFFFF;
    byte[] address = null;
    byte[] mac = null;
    int attribute = at + NDMSG;
    while (attribute + 4 <= end) {
      int attributeLength = b.getShort(attribute, HOST) & 0xFFFF;
      if (attributeLength < 4 || attribute + attributeLength > end) {
        break;
      }
      int type =
          b.getShort(attribute + 2, HOST) & 0x3FFF; // without NLA_F_NESTED, NLA_F_NET_BYTEORDER
      byte[] value = new byte[attributeLength - 4];
      b.getBytes(attribute + 4, value);
      if (type == NDA_DST) {
        address = value;
      } else if (type == NDA_LLADDR) {
        mac = value;
      }
      attribute += align(attributeLength);
    }
    return address == null ? null : new Entry(family, ifIndex, address, mac, state);
  }

  private static int align(int length) {
    return (length + 3) & ~3;
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      Netlink.closeSocket(fd);
    }
  }
}
