package net.hydranet.hostserver;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * Claims an IP protocol (4, and 41 for IPv6 inside IPv4 or IPv6) on this host with a raw socket
 * that is never read.
 *
 * <p>No ipip module exists here, so the kernel, seeing a protocol-4 packet for one of its addresses
 * with no handler, answers the client with ICMP protocol-unreachable — while our pcap tap has
 * already taken its copy. Linux sends that error only when no raw socket took the packet ({@code
 * ip_local_deliver_finish}), so an open raw socket for protocol 4 silences it. Its receive buffer
 * is made as small as the kernel allows: the copies it queues are simply dropped.
 */
public final class ProtocolClaim implements AutoCloseable {
  private static final int AF_INET = 2;
  private static final int AF_INET6 = 10;
  private static final int SOCK_RAW = 3;
  private static final int SOL_SOCKET = 1;
  private static final int SO_RCVBUF = 8;
  private static final int SO_ATTACH_FILTER = 26;
  private static final short BPF_RET_K = 0x06;

  static {
    Native.register(Platform.C_LIBRARY_NAME);
  }

  private static native int socket(int domain, int type, int protocol);

  private static native int setsockopt(int fd, int level, int name, Pointer value, int length);

  private static native int close(int fd);

  private final int fd;

  private ProtocolClaim(int fd) {
    this.fd = fd;
  }

  /**
   * Opens the claim for {@code protocol}.
   *
   * @throws IllegalStateException with errno when the socket cannot be made (not root?)
   */
  public static ProtocolClaim claim(int protocol) {
    return claim(AF_INET, protocol);
  }

  /**
   * Opens the claim for IPv6 next header {@code protocol}: without it, the kernel answers an
   * IPv6-in-IPv6 packet with a Parameter Problem, "unrecognized next header", since no ip6_tunnel
   * module is here either ({@code ip6_protocol_deliver_rcu}: only when no raw socket took it).
   */
  public static ProtocolClaim claim6(int protocol) {
    return claim(AF_INET6, protocol);
  }

  private static ProtocolClaim claim(int family, int protocol) {
    int fd = socket(family, SOCK_RAW, protocol);
    if (fd < 0) {
      throw new IllegalStateException(
          "cannot open a raw socket for IP protocol "
              + protocol
              + " (errno "
              + Native.getLastError()
              + "): needs root or CAP_NET_RAW");
    }
    // struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; } = "ret #0": accept nothing.
    Memory program = new Memory(8);
    program.setShort(0, BPF_RET_K);
    program.setByte(2, (byte) 0);
    program.setByte(3, (byte) 0);
    program.setInt(4, 0);
    // struct sock_fprog { unsigned short len; struct sock_filter *filter; }, pointer-aligned.
    Memory fprog = new Memory(16);
    fprog.clear();
    fprog.setShort(0, (short) 1);
    fprog.setPointer(Native.POINTER_SIZE, program);
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, fprog, (int) fprog.size()) != 0) {
      int errno = Native.getLastError();
      close(fd);
      throw new IllegalStateException(
          "cannot attach the drop-all filter to the protocol "
              + protocol
              + " claim (errno "
              + errno
              + ")");
    }
    Memory one = new Memory(4);
    one.setInt(0, 1);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, one, 4);
    return new ProtocolClaim(fd);
  }

  @Override
  public void close() {
    close(fd);
  }
}
