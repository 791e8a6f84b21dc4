package net.hydranet.hostserver;

import com.sun.jna.Native;
import com.sun.jna.Platform;

/**
 * Claims IP protocol 4 on this host with a raw socket that is never read.
 *
 * <p>No ipip module exists here, so the kernel, seeing a protocol-4 packet for one of its addresses
 * with no handler, answers the client with ICMP protocol-unreachable — while our pcap tap has
 * already taken its copy. Linux sends that error only when no raw socket took the packet ({@code
 * ip_local_deliver_finish}), so an open raw socket for protocol 4 silences it. Its receive buffer
 * is made as small as the kernel allows: the copies it queues are simply dropped.
 */
public final class ProtocolClaim implements AutoCloseable {
  private static final int AF_INET = 2;
  private static final int SOCK_RAW = 3;
  private static final int SOL_SOCKET = 1;
  private static final int SO_RCVBUF = 8;

  static {
    Native.register(Platform.C_LIBRARY_NAME);
  }

  private static native int socket(int domain, int type, int protocol);

  private static native int setsockopt(int fd, int level, int name, int[] value, int length);

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
    int fd = socket(AF_INET, SOCK_RAW, protocol);
    if (fd < 0) {
      throw new IllegalStateException(
          "cannot open a raw socket for IP protocol "
              + protocol
              + " (errno "
              + Native.getLastError()
              + "): needs root or CAP_NET_RAW");
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, new int[] {1}, 4);
    return new ProtocolClaim(fd);
  }

  @Override
  public void close() {
    close(fd);
  }
}
