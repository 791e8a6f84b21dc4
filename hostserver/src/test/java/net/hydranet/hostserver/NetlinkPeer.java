package net.hydranet.hostserver;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The kernel's side of a netlink socket, played by a test: a pair of connected Unix datagram
 * sockets ({@code socketpair(2)}), one end handed to {@link Netlink#exchange} as if it were the
 * netlink socket, the other reading the requests it sends and queueing crafted answers, datagram by
 * datagram, before the exchange reads them.
 */
final class NetlinkPeer implements AutoCloseable {
  private static final int AF_UNIX = 1;
  private static final int SOCK_DGRAM = 2;
  private static final int SOCK_NONBLOCK = 0x800;
  private static final int SOCK_CLOEXEC = 0x80000;
  private static final int MSG_DONTWAIT = 0x40;

  static {
    Native.register(Platform.C_LIBRARY_NAME);
  }

  private static native int socketpair(int domain, int type, int protocol, int[] sv);

  private static native long send(int fd, byte[] buf, long len, int flags);

  private static native long recv(int fd, byte[] buf, long len, int flags);

  private static native int close(int fd);

  private int near;
  private final int far;

  NetlinkPeer() {
    int[] sv = new int[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
      throw new IllegalStateException("socketpair: errno " + Native.getLastError());
    }
    near = sv[0];
    far = sv[1];
  }

  /** The end that stands for the netlink socket. */
  int fd() {
    return near;
  }

  /** Hands {@link #fd} over to an owner that closes it: this peer no longer does. */
  int handOver() {
    int fd = near;
    near = -1;
    return fd;
  }

  /** Queues one datagram of the answer: {@code messages} one after another. */
  void answer(byte[]... messages) {
    ByteArrayOutputStream datagram = new ByteArrayOutputStream();
    for (byte[] m : messages) {
      datagram.writeBytes(m);
    }
    byte[] d = datagram.toByteArray();
    if (send(far, d, d.length, 0) != d.length) {
      throw new IllegalStateException("send: errno " + Native.getLastError());
    }
  }

  /** The next request the exchange sent, or null if none is queued. */
  byte[] request() {
    byte[] b = new byte[65536];
    long n = recv(far, b, b.length, MSG_DONTWAIT);
    return n < 0 ? null : Arrays.copyOf(b, (int) n);
  }

  /** A netlink message: its header (length, type, flags 0, sequence, port 0) and body, padded. */
  static byte[] message(int type, int seq, byte[] body) {
    int length = Netlink.HEADER + body.length;
    ByteBuffer b = ByteBuffer.allocate((length + 3) & ~3).order(ByteOrder.nativeOrder());
    b.putInt(length).putShort((short) type).putShort((short) 0).putInt(seq).putInt(0).put(body);
    return b.array();
  }

  /**
   * An {@code NLMSG_ERROR} carrying {@code error} (0 or a negative errno) and the request's header.
   */
  static byte[] error(int seq, int error) {
    ByteBuffer body = ByteBuffer.allocate(4 + Netlink.HEADER).order(ByteOrder.nativeOrder());
    body.putInt(error).putInt(Netlink.HEADER).putShort((short) 20).putShort((short) 1).putInt(seq);
    return message(Netlink.NLMSG_ERROR, seq, body.array());
  }

  /** An {@code NLMSG_DONE} that ends a dump whole. */
  static byte[] done(int seq) {
    return done(seq, 0);
  }

  /** An {@code NLMSG_DONE} with {@code error}: 0, or the negative errno of a dump broken off. */
  static byte[] done(int seq, int error) {
    return message(
        Netlink.NLMSG_DONE,
        seq,
        ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(error).array());
  }

  @Override
  public void close() {
    if (near >= 0) {
      close(near);
      near = -1;
    }
    close(far);
  }
}
