package net.hydranet.hostserver;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Path;
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
 * <p>One query is a {@code send} and a {@code recv} on the forwarding thread ({@link Netlink}); the
 * kernel answers an exact request inside the {@code send}, so the {@code recv} never waits ({@code
 * MSG_DONTWAIT}: no answer, or a broken one, is {@link #UNKNOWN}). No allocation: one request and
 * one response buffer.
 */
public final class SockDiag implements SocketTable {
  private static final int AF_INET = 2;
  private static final int SOCK_DIAG_BY_FAMILY = 20;
  private static final int ENOENT = 2;
  private static final int TCP_LISTEN = 10;
  private static final int IPPROTO_TCP = 6;

  /** nlmsghdr (16) + inet_diag_req_v2 (8 + inet_diag_sockid of 48). */
  static final int REQUEST_LENGTH = 72;

  /**
   * Datagrams read at most for one answer: a late answer to an earlier query that gave up may be
   * queued before it.
   */
  private static final int MAX_DATAGRAMS = 4;

  private static final ByteOrder HOST = Netlink.HOST;

  private final Int2IntHashMap sockets = new Int2IntHashMap(16, 0.5f, -1);
  private final Netlink netlink = new Netlink(REQUEST_LENGTH, 8192);
  private final Netlink.Reader answerReader = this::answer;

  /** The answer's verdict, set by {@link #answer}. */
  private int held;

  /**
   * Opens a sock_diag socket inside the network namespace at {@code namespace} (e.g. {@code
   * /run/netns/NAME}). The calling thread enters it for the {@code socket} call and returns to its
   * own; a socket keeps the namespace it was made in.
   *
   * @return the socket's descriptor, for {@link #install}
   */
  public static int openIn(Path namespace) throws IOException {
    return Netlink.openSocketIn(namespace, Netlink.NETLINK_SOCK_DIAG);
  }

  /**
   * Uses {@code fd} (from {@link #openIn}) for {@code origin}'s virtual host. Forwarding thread.
   */
  public void install(int origin, int fd) {
    int old = sockets.put(origin, fd);
    if (old >= 0 && old != fd) {
      Netlink.closeSocket(old);
    }
  }

  /** Forgets and closes {@code origin}'s socket. Forwarding thread. */
  public void remove(int origin) {
    int fd = sockets.remove(origin);
    if (fd >= 0) {
      Netlink.closeSocket(fd);
    }
  }

  /** Closes every socket. Forwarding thread, or after it ended. */
  public void closeAll() {
    sockets.forEach((origin, fd) -> Netlink.closeSocket(fd));
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
    int seq = netlink.nextSequence();
    writeRequest(netlink, seq, origin, originPort, client, clientPort);
    held = UNKNOWN;
    int outcome = netlink.exchange(fd, REQUEST_LENGTH, seq, MAX_DATAGRAMS, answerReader);
    if (outcome == Netlink.COMPLETE) {
      return held;
    }
    return outcome == Netlink.REFUSED && netlink.errno() == ENOENT ? NOT_HELD : UNKNOWN;
  }

  /** The request for one TCP connection (origin's side first, as the socket sees it). */
  static void writeRequest(
      Netlink netlink, int seq, int origin, int originPort, int client, int clientPort) {
    netlink.header(REQUEST_LENGTH, SOCK_DIAG_BY_FAMILY, Netlink.NLM_F_REQUEST, seq);
    UnsafeBuffer b = netlink.request();
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

  /**
   * The kernel's answer, its first message of the query's sequence: {@link #HELD} for a socket of
   * the connection, {@link #NOT_HELD} for a listener (found in place of the connection), else
   * {@link #UNKNOWN}. ({@code ENOENT} comes as the {@code NLMSG_ERROR} that {@link #lookup} reads.)
   */
  private int answer(UnsafeBuffer b, int at, int length, int type) {
    if (type == SOCK_DIAG_BY_FAMILY) {
      if (length < Netlink.HEADER + 2) {
        return Netlink.MALFORMED;
      }
      // struct inet_diag_msg: family, then state
      held = (b.getByte(at + Netlink.HEADER + 1) & 0xFF) == TCP_LISTEN ? NOT_HELD : HELD;
    }
    return Netlink.COMPLETE;
  }
}
