package net.hydranet.hostserver;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.agrona.BufferUtil;
import org.agrona.collections.Int2IntHashMap;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The live {@link SocketTable}: one netlink {@code NETLINK_SOCK_DIAG} socket per virtual host,
 * opened inside its network namespace, asked for one TCP connection by its exact 4-tuple ({@code
 * SOCK_DIAG_BY_FAMILY} without {@code NLM_F_DUMP}: the kernel's {@code inet_diag_find_one_icsk},
 * the established hash then the listeners — what GLB's glb-redirect asks of {@code
 * inet_lookup_established} in the kernel). An answer in state LISTEN, or {@code ENOENT}, means no
 * socket holds the connection.
 *
 * <p>One query is a {@code send} and a {@code recv} on the forwarding thread; the kernel answers an
 * exact request inside the {@code send}, so the {@code recv} never waits ({@code MSG_DONTWAIT}: no
 * answer is {@link #UNKNOWN}). No allocation: one request and one response buffer.
 */
public final class SockDiag implements SocketTable {
  private static final int AF_INET = 2;
  private static final int AF_NETLINK = 16;
  private static final int SOCK_RAW = 3;
  private static final int SOCK_CLOEXEC = 0x80000;
  private static final int NETLINK_SOCK_DIAG = 4;
  private static final int SOCK_DIAG_BY_FAMILY = 20;
  private static final int NLMSG_ERROR = 2;
  private static final int NLM_F_REQUEST = 1;
  private static final int CLONE_NEWNET = 0x40000000;
  private static final int O_RDONLY = 0;
  private static final int O_CLOEXEC = 0x80000;
  private static final int MSG_DONTWAIT = 0x40;
  private static final int ENOENT = 2;
  private static final int TCP_LISTEN = 10;
  private static final int IPPROTO_TCP = 6;

  /** nlmsghdr (16) + inet_diag_req_v2 (8 + inet_diag_sockid of 48). */
  static final int REQUEST_LENGTH = 72;

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

  private final Int2IntHashMap sockets = new Int2IntHashMap(16, 0.5f, -1);
  private final UnsafeBuffer request =
      new UnsafeBuffer(BufferUtil.allocateDirectAligned(REQUEST_LENGTH, 64));
  private final UnsafeBuffer response =
      new UnsafeBuffer(BufferUtil.allocateDirectAligned(8192, 64));
  private int sequence;

  /**
   * Opens a sock_diag socket inside the network namespace at {@code namespace} (e.g. {@code
   * /run/netns/NAME}). The calling thread enters it for the {@code socket} call and returns to its
   * own; a socket keeps the namespace it was made in.
   *
   * @return the socket's descriptor, for {@link #install}
   */
  public static int openIn(Path namespace) throws IOException {
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
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        int socketErrno = Native.getLastError();
        if (setns(own, CLONE_NEWNET) != 0) {
          // This thread would go on in the virtual host's namespace: nothing else may run on it.
          throw new IllegalStateException("cannot return to the host server's network namespace");
        }
        if (fd < 0) {
          throw new IOException(
              "netlink sock_diag socket in " + namespace + ": errno " + socketErrno);
        }
        return fd;
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
   * Uses {@code fd} (from {@link #openIn}) for {@code origin}'s virtual host. Forwarding thread.
   */
  public void install(int origin, int fd) {
    int old = sockets.put(origin, fd);
    if (old >= 0 && old != fd) {
      close(old);
    }
  }

  /** Forgets and closes {@code origin}'s socket. Forwarding thread. */
  public void remove(int origin) {
    int fd = sockets.remove(origin);
    if (fd >= 0) {
      close(fd);
    }
  }

  /** Closes every socket. Forwarding thread, or after it ended. */
  public void closeAll() {
    sockets.forEach((origin, fd) -> close(fd));
    sockets.clear();
  }

  public boolean has(int origin) {
    return sockets.containsKey(origin);
  }

  @Override
  public int lookup(int origin, int originPort, int client, int clientPort) {
    int fd = sockets.get(origin);
    if (fd < 0) {
      return UNKNOWN;
    }
    int seq = ++sequence;
    writeRequest(request, seq, origin, originPort, client, clientPort);
    if (send(fd, request.addressOffset(), REQUEST_LENGTH, 0) != REQUEST_LENGTH) {
      return UNKNOWN;
    }
    // A late answer to an earlier query that gave up may be queued first: skip it (bounded).
    for (int i = 0; i < 4; i++) {
      long n = recv(fd, response.addressOffset(), response.capacity(), MSG_DONTWAIT);
      if (n < 16) {
        return UNKNOWN;
      }
      if (response.getInt(8, HOST) != seq) {
        continue;
      }
      return answer(response, (int) n);
    }
    return UNKNOWN;
  }

  /** The request for one TCP connection (origin's side first, as the socket sees it). */
  static void writeRequest(
      UnsafeBuffer b, int seq, int origin, int originPort, int client, int clientPort) {
    b.setMemory(0, REQUEST_LENGTH, (byte) 0);
    // struct nlmsghdr, host byte order
    b.putInt(0, REQUEST_LENGTH, HOST);
    b.putShort(4, (short) SOCK_DIAG_BY_FAMILY, HOST);
    b.putShort(6, (short) NLM_F_REQUEST, HOST);
    b.putInt(8, seq, HOST);
    b.putInt(12, 0, HOST);
    // struct inet_diag_req_v2
    b.putByte(16, (byte) AF_INET);
    b.putByte(17, (byte) IPPROTO_TCP);
    b.putInt(20, -1, HOST); // every state
    // struct inet_diag_sockid: ports and addresses in network byte order
    b.putShort(24, (short) originPort, ByteOrder.BIG_ENDIAN);
    b.putShort(26, (short) clientPort, ByteOrder.BIG_ENDIAN);
    b.putInt(28, origin, ByteOrder.BIG_ENDIAN);
    b.putInt(44, client, ByteOrder.BIG_ENDIAN);
    b.putInt(60, 0, HOST); // any interface
    b.putInt(64, -1, HOST); // INET_DIAG_NOCOOKIE
    b.putInt(68, -1, HOST);
  }

  /** {@link #HELD}, {@link #NOT_HELD} or {@link #UNKNOWN} for the kernel's answer. */
  static int answer(UnsafeBuffer b, int length) {
    int type = b.getShort(4, HOST) & 0xFFFF;
    if (type == NLMSG_ERROR && length >= 20) {
      return b.getInt(16, HOST) == -ENOENT ? NOT_HELD : UNKNOWN;
    }
    if (type == SOCK_DIAG_BY_FAMILY && length >= 18) {
      // struct inet_diag_msg: family, then state
      return (b.getByte(17) & 0xFF) == TCP_LISTEN ? NOT_HELD : HELD;
    }
    return UNKNOWN;
  }
}
