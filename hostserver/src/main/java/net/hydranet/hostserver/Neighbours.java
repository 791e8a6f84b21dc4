package net.hydranet.hostserver;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.agrona.BufferUtil;
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

  private static final int AF_NETLINK = 16;
  private static final int SOCK_RAW = 3;
  private static final int SOCK_CLOEXEC = 0x80000;
  private static final int NETLINK_ROUTE = 0;
  private static final int RTM_NEWNEIGH = 28;
  private static final int RTM_GETNEIGH = 30;
  private static final int NLMSG_ERROR = 2;
  private static final int NLMSG_DONE = 3;
  private static final int NLM_F_REQUEST = 1;
  private static final int NLM_F_DUMP = 0x300;
  private static final int NDA_DST = 1;
  private static final int NDA_LLADDR = 2;
  private static final int CLONE_NEWNET = 0x40000000;
  private static final int O_RDONLY = 0;
  private static final int O_CLOEXEC = 0x80000;
  private static final int MSG_DONTWAIT = 0x40;
  private static final int NLMSG_HEADER = 16;
  private static final int NDMSG = 12;

  /** nlmsghdr (16) + ndmsg (12). */
  static final int REQUEST_LENGTH = NLMSG_HEADER + NDMSG;

  private static final int NLM_F_ACK = 4;
  private static final int NLM_F_CREATE = 0x400;

  /** ndm_flags: "this entry is in use": the kernel resolves it (or refreshes it) now. */
  static final int NTF_USE = 0x01;

  /** nlmsghdr (16) + ndmsg (12) + NDA_DST (4 + 16 at most). */
  static final int RESOLVE_MAX_LENGTH = NLMSG_HEADER + NDMSG + 4 + 16;

  /** Parts of a dump read at most: a bound, so that a broken answer cannot hold the caller. */
  private static final int MAX_PARTS = 4096;

  private static final ByteOrder HOST = ByteOrder.nativeOrder();

  static {
    Native.register(Platform.C_LIBRARY_NAME);
  }

  private static native int socket(int domain, int type, int protocol);

  private static native int setns(int fd, int nstype);

  private static native int open(String path, int flags);

  private static native int close(int fd);

  private static native long send(int fd, long buf, long len, int flags);

  private static native long recv(int fd, long buf, long len, int flags);

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
  private final UnsafeBuffer request =
      new UnsafeBuffer(BufferUtil.allocateDirectAligned(REQUEST_LENGTH, 64));
  private final UnsafeBuffer response =
      new UnsafeBuffer(BufferUtil.allocateDirectAligned(1 << 16, 64));
  private final UnsafeBuffer resolveRequest =
      new UnsafeBuffer(BufferUtil.allocateDirectAligned(RESOLVE_MAX_LENGTH, 64));
  private int sequence;
  private boolean closed;

  private Neighbours(int fd) {
    this.fd = fd;
  }

  /** A reader of the calling thread's network namespace. */
  public static Neighbours open() throws IOException {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) {
      throw new IOException("netlink route socket: " + errno());
    }
    return new Neighbours(fd);
  }

  /**
   * A reader of the network namespace at {@code namespace} (e.g. {@code /run/netns/NAME}): the
   * calling thread enters it for the {@code socket} call and returns to its own.
   */
  public static Neighbours openIn(Path namespace) throws IOException {
    int own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (own < 0) {
      throw new IOException("cannot open this thread's network namespace: " + errno());
    }
    try {
      int target = open(namespace.toString(), O_RDONLY | O_CLOEXEC);
      if (target < 0) {
        throw new IOException("cannot open " + namespace + ": " + errno());
      }
      try {
        if (setns(target, CLONE_NEWNET) != 0) {
          throw new IOException("cannot enter " + namespace + ": " + errno() + " (not root?)");
        }
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        int socketErrno = Native.getLastError();
        if (setns(own, CLONE_NEWNET) != 0) {
          throw new IllegalStateException("cannot return to this thread's network namespace");
        }
        if (fd < 0) {
          throw new IOException("netlink route socket in " + namespace + ": errno " + socketErrno);
        }
        return new Neighbours(fd);
      } finally {
        close(target);
      }
    } finally {
      close(own);
    }
  }

  private static String errno() {
    return "errno " + Native.getLastError();
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
    int seq = ++sequence;
    writeRequest(request, seq, family);
    if (send(fd, request.addressOffset(), REQUEST_LENGTH, 0) != REQUEST_LENGTH) {
      throw new IOException("RTM_GETNEIGH: " + errno());
    }
    List<Entry> out = new ArrayList<>();
    // The kernel fills the socket with the first part inside send and each next part inside the
    // recv that empties it: a dump never waits, so an empty socket before NLMSG_DONE is an error.
    for (int part = 0; part < MAX_PARTS; part++) {
      long n = recv(fd, response.addressOffset(), response.capacity(), MSG_DONTWAIT);
      if (n < NLMSG_HEADER) {
        throw new IOException("RTM_GETNEIGH dump ended early: " + (n < 0 ? errno() : n + " bytes"));
      }
      int r = parse(response, (int) n, seq, out);
      if (r == DONE) {
        return out;
      }
      if (r < 0) {
        throw new IOException("RTM_GETNEIGH refused: errno " + -r);
      }
    }
    throw new IOException("RTM_GETNEIGH dump of more than " + MAX_PARTS + " parts");
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
    int seq = ++sequence;
    int length = writeResolve(resolveRequest, seq, family, ifIndex, address);
    if (send(fd, resolveRequest.addressOffset(), length, 0) != length) {
      throw new IOException("RTM_NEWNEIGH: " + errno());
    }
    // The acknowledgement is queued inside send; a late part of another answer may come first.
    for (int i = 0; i < 4; i++) {
      long n = recv(fd, response.addressOffset(), response.capacity(), MSG_DONTWAIT);
      if (n < NLMSG_HEADER) {
        throw new IOException("RTM_NEWNEIGH: no acknowledgement (" + (n < 0 ? errno() : n) + ")");
      }
      if (response.getInt(8, HOST) != seq) {
        continue;
      }
      int type = response.getShort(4, HOST) & 0xFFFF;
      int error = n >= NLMSG_HEADER + 4 ? response.getInt(NLMSG_HEADER, HOST) : -71;
      if (type == NLMSG_ERROR && error == 0) {
        return;
      }
      throw new IOException("RTM_NEWNEIGH (use) refused: errno " + -error);
    }
    throw new IOException("RTM_NEWNEIGH: no acknowledgement");
  }

  /**
   * The resolve request: nlmsghdr (request, ack, create), an ndmsg with the family, interface and
   * {@code NTF_USE}, and the address as {@code NDA_DST}.
   *
   * @return its length
   */
  static int writeResolve(UnsafeBuffer b, int seq, int family, int ifIndex, byte[] address) {
    int length = NLMSG_HEADER + NDMSG + 4 + address.length;
    b.setMemory(0, RESOLVE_MAX_LENGTH, (byte) 0);
    b.putInt(0, length, HOST);
    b.putShort(4, (short) RTM_NEWNEIGH, HOST);
    b.putShort(6, (short) (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE), HOST);
    b.putInt(8, seq, HOST);
    b.putInt(12, 0, HOST);
    // struct ndmsg: family, pad, pad, ifindex, state (NUD_NONE), flags, type
    b.putByte(NLMSG_HEADER, (byte) family);
    b.putInt(NLMSG_HEADER + 4, ifIndex, HOST);
    b.putByte(NLMSG_HEADER + 10, (byte) NTF_USE);
    int attribute = NLMSG_HEADER + NDMSG;
    b.putShort(attribute, (short) (4 + address.length), HOST);
    b.putShort(attribute + 2, (short) NDA_DST, HOST);
    b.putBytes(attribute + 4, address);
    return length;
  }

  /** The dump request: nlmsghdr and an ndmsg naming only the family. */
  static void writeRequest(UnsafeBuffer b, int seq, int family) {
    b.setMemory(0, REQUEST_LENGTH, (byte) 0);
    b.putInt(0, REQUEST_LENGTH, HOST);
    b.putShort(4, (short) RTM_GETNEIGH, HOST);
    b.putShort(6, (short) (NLM_F_REQUEST | NLM_F_DUMP), HOST);
    b.putInt(8, seq, HOST);
    b.putInt(12, 0, HOST);
    b.putByte(NLMSG_HEADER, (byte) family);
  }

  static final int MORE = 0;
  static final int DONE = 1;

  /**
   * Reads one datagram of the dump ({@code length} bytes, messages of sequence {@code seq}; others
   * are skipped) into {@code out}.
   *
   * @return {@link #DONE} at NLMSG_DONE, {@link #MORE} if more parts follow, or a negative errno
   *     the kernel answered with
   */
  static int parse(UnsafeBuffer b, int length, int seq, List<Entry> out) {
    int at = 0;
    while (at + NLMSG_HEADER <= length) {
      int messageLength = b.getInt(at, HOST);
      if (messageLength < NLMSG_HEADER || at + messageLength > length) {
        return -71; // EPROTO: a message that does not fit its datagram
      }
      int type = b.getShort(at + 4, HOST) & 0xFFFF;
      if (b.getInt(at + 8, HOST) == seq) {
        if (type == NLMSG_DONE) {
          return DONE;
        }
        if (type == NLMSG_ERROR) {
          int error = messageLength >= NLMSG_HEADER + 4 ? b.getInt(at + NLMSG_HEADER, HOST) : -71;
          return error == 0 ? DONE : error;
        }
        if (type == RTM_NEWNEIGH && messageLength >= NLMSG_HEADER + NDMSG) {
          Entry e = entry(b, at + NLMSG_HEADER, at + messageLength);
          if (e != null) {
            out.add(e);
          }
        }
      }
      at += align(messageLength);
    }
    return MORE;
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
      close(fd);
    }
  }
}
