package net.hydranet.hostserver;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One netlink request and its answer, for the host server's two readers of the kernel ({@link
 * SockDiag}'s exact socket lookups, {@link Neighbours}' neighbour dumps): a socket opened in a
 * network namespace, a request sent, and the answer's datagrams read until it is complete ({@code
 * NLMSG_DONE}, an {@code NLMSG_ERROR}, or the one message a reader asks for), at most a given
 * number of datagrams. Each message of the request's sequence goes to the caller's {@link Reader};
 * those of another sequence (a late answer to an earlier request) are skipped.
 *
 * <p>The kernel answers inside the {@code send} (an exact request whole, a dump's first part; each
 * next part inside the {@code recv} that empties the socket), so the {@code recv} never waits
 * ({@code MSG_DONTWAIT}): an empty socket before the answer is complete is {@link #NO_ANSWER}. A
 * datagram larger than the response buffer, a message that does not fit its datagram, or bytes
 * after the last message are errors, not a shorter answer. No allocation: one request and one
 * response buffer, made once; one thread at a time.
 */
final class Netlink {
  static final int NETLINK_ROUTE = 0;
  static final int NETLINK_SOCK_DIAG = 4;

  /** {@code struct nlmsghdr}: length, type, flags, sequence, port id. */
  static final int HEADER = 16;

  static final int NLMSG_ERROR = 2;
  static final int NLMSG_DONE = 3;
  static final int NLM_F_REQUEST = 1;
  static final int NLM_F_DUMP = 0x300;

  /** Netlink headers and attributes are in the host's byte order. */
  static final ByteOrder HOST = ByteOrder.nativeOrder();

  /** The answer is complete: {@code NLMSG_DONE}, an acknowledgement, or the reader said so. */
  static final int COMPLETE = 0;

  /** A {@link Reader}'s and {@link #parse}'s word for "the answer goes on". */
  static final int MORE = 1;

  /** The kernel answered with an {@code NLMSG_ERROR}: {@link #errno()} is its errno. */
  static final int REFUSED = -1;

  /** The request did not go out whole. */
  static final int NOT_SENT = -2;

  /** The socket was empty, or held a datagram shorter than a header, before the answer ended. */
  static final int NO_ANSWER = -3;

  /** A datagram larger than the response buffer: its end was lost. */
  static final int TRUNCATED = -4;

  /** A message that does not fit its datagram, too short for its type, or bytes after the last. */
  static final int MALFORMED = -5;

  /** More datagrams than the caller's bound, and still no end. */
  static final int TOO_LONG = -6;

  private static final int AF_NETLINK = 16;
  private static final int SOCK_RAW = 3;
  private static final int SOCK_CLOEXEC = 0x80000;
  private static final int CLONE_NEWNET = 0x40000000;
  private static final int O_RDONLY = 0;
  private static final int O_CLOEXEC = 0x80000;
  private static final int MSG_TRUNC = 0x20;
  private static final int MSG_DONTWAIT = 0x40;

  static {
    Native.register(Platform.C_LIBRARY_NAME);
  }

  private static native int socket(int domain, int type, int protocol);

  private static native int setns(int fd, int nstype);

  private static native int open(String path, int flags);

  private static native int close(int fd);

  private static native long send(int fd, long buf, long len, int flags);

  private static native long recv(int fd, long buf, long len, int flags);

  /** What the caller takes from its answer, one message of the request's sequence at a time. */
  interface Reader {
    /**
     * The message of {@code type} at {@code at}, {@code length} bytes with its header (at least
     * {@link #HEADER}); never {@code NLMSG_DONE} or {@code NLMSG_ERROR}.
     *
     * @return {@link #MORE} to read on, {@link #COMPLETE} if it ends the answer, or {@link
     *     #MALFORMED} if it is too short for its type
     */
    int message(UnsafeBuffer b, int at, int length, int type);
  }

  private final UnsafeBuffer request;
  private final UnsafeBuffer response;
  private int sequence;
  private int errno;
  private long length;

  /** Buffers for requests of up to {@code requestCapacity} bytes and answers' datagrams. */
  Netlink(int requestCapacity, int responseCapacity) {
    request = new UnsafeBuffer(BufferUtil.allocateDirectAligned(requestCapacity, 64));
    response = new UnsafeBuffer(BufferUtil.allocateDirectAligned(responseCapacity, 64));
  }

  /** Where the caller writes its request, header first. */
  UnsafeBuffer request() {
    return request;
  }

  /** Where each datagram of the answer is read to. */
  UnsafeBuffer response() {
    return response;
  }

  /** A new sequence number, for the next request's header. */
  int nextSequence() {
    return ++sequence;
  }

  /** Writes the request's {@code nlmsghdr} (port id 0: the kernel) and zeroes the rest of it. */
  void header(int requestLength, int type, int flags, int seq) {
    request.setMemory(0, requestLength, (byte) 0);
    request.putInt(0, requestLength, HOST);
    request.putShort(4, (short) type, HOST);
    request.putShort(6, (short) flags, HOST);
    request.putInt(8, seq, HOST);
  }

  /**
   * Sends the request's first {@code requestLength} bytes on {@code fd} and reads the answer of
   * sequence {@code seq}, at most {@code maxDatagrams} datagrams of it, each message to {@code
   * reader}.
   *
   * @return {@link #COMPLETE}, or why not: {@link #REFUSED}, {@link #NOT_SENT}, {@link #NO_ANSWER},
   *     {@link #TRUNCATED}, {@link #MALFORMED}, {@link #TOO_LONG} ({@link #describe} says it in
   *     words)
   */
  int exchange(int fd, int requestLength, int seq, int maxDatagrams, Reader reader) {
    errno = 0;
    long sent = send(fd, request.addressOffset(), requestLength, 0);
    if (sent != requestLength) {
      return failed(NOT_SENT, sent);
    }
    for (int i = 0; i < maxDatagrams; i++) {
      // MSG_TRUNC: the datagram's real length, even where it is longer than the buffer.
      long n = recv(fd, response.addressOffset(), response.capacity(), MSG_DONTWAIT | MSG_TRUNC);
      if (n < HEADER) {
        return failed(NO_ANSWER, n);
      }
      if (n > response.capacity()) {
        return failed(TRUNCATED, n);
      }
      int r = parse((int) n, seq, reader);
      if (r != MORE) {
        return r;
      }
    }
    length = maxDatagrams;
    return TOO_LONG;
  }

  private int failed(int outcome, long result) {
    errno = result < 0 ? Native.getLastError() : 0;
    length = result;
    return outcome;
  }

  /**
   * Reads one datagram of the answer, the first {@code datagramLength} bytes of the response
   * buffer.
   *
   * @return {@link #MORE} if the answer goes on in a next datagram, {@link #COMPLETE}, {@link
   *     #REFUSED} or {@link #MALFORMED}
   */
  int parse(int datagramLength, int seq, Reader reader) {
    UnsafeBuffer b = response;
    int at = 0;
    while (at < datagramLength) {
      int messageLength = datagramLength - at < HEADER ? 0 : b.getInt(at, HOST);
      if (messageLength < HEADER || messageLength > datagramLength - at) {
        return malformed(at);
      }
      if (b.getInt(at + 8, HOST) == seq) {
        int type = b.getShort(at + 4, HOST) & 0xFFFF;
        int r;
        if (type == NLMSG_DONE || type == NLMSG_ERROR) {
          r = status(b, at, messageLength);
        } else {
          r = reader.message(b, at, messageLength, type);
        }
        if (r == MALFORMED) {
          return malformed(at);
        }
        if (r != MORE) {
          return r;
        }
      }
      at += (messageLength + 3) & ~3;
    }
    return MORE;
  }

  /**
   * The int that follows an {@code NLMSG_ERROR}'s or {@code NLMSG_DONE}'s header (as iproute2 reads
   * them): 0 acknowledges the request or ends the dump, a negative errno refuses it or says why the
   * dump broke off.
   */
  private int status(UnsafeBuffer b, int at, int messageLength) {
    if (messageLength < HEADER + 4) {
      return MALFORMED;
    }
    int error = b.getInt(at + HEADER, HOST);
    if (error > 0) {
      return MALFORMED;
    }
    errno = -error;
    return error == 0 ? COMPLETE : REFUSED;
  }

  private int malformed(int at) {
    errno = 0;
    length = at;
    return MALFORMED;
  }

  /** The errno of the last {@link #REFUSED}, {@link #NOT_SENT} or {@link #NO_ANSWER}; else 0. */
  int errno() {
    return errno;
  }

  /** The last outcome other than {@link #COMPLETE}, in words; allocates (not for a hot path). */
  String describe(int outcome) {
    return switch (outcome) {
      case COMPLETE -> "complete";
      case REFUSED -> "refused: errno " + errno;
      case NOT_SENT -> "not sent: " + (length < 0 ? "errno " + errno : length + " bytes went out");
      case NO_ANSWER ->
          "the answer ended early: "
              + (length < 0 ? "errno " + errno : "a datagram of " + length + " bytes");
      case TRUNCATED ->
          "a datagram of " + length + " bytes, larger than the buffer of " + response.capacity();
      case MALFORMED ->
          "a malformed answer: the message at byte "
              + length
              + " does not fit its datagram or its type";
      case TOO_LONG -> "an answer of more than " + length + " datagrams";
      default -> "outcome " + outcome;
    };
  }

  /** A netlink socket of {@code protocol} in the calling thread's network namespace. */
  static int openSocket(int protocol) throws IOException {
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (fd < 0) {
      throw new IOException("netlink " + name(protocol) + " socket: " + lastErrno());
    }
    return fd;
  }

  /**
   * A netlink socket of {@code protocol} in the network namespace at {@code namespace} (e.g. {@code
   * /run/netns/NAME}): the calling thread enters it for the {@code socket} call and returns to its
   * own; a socket keeps the namespace it was made in.
   */
  static int openSocketIn(Path namespace, int protocol) throws IOException {
    int own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (own < 0) {
      throw new IOException("cannot open this thread's network namespace: " + lastErrno());
    }
    try {
      int target = open(namespace.toString(), O_RDONLY | O_CLOEXEC);
      if (target < 0) {
        throw new IOException("cannot open " + namespace + ": " + lastErrno());
      }
      try {
        if (setns(target, CLONE_NEWNET) != 0) {
          throw new IOException("cannot enter " + namespace + ": " + lastErrno() + " (not root?)");
        }
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
        int socketErrno = Native.getLastError();
        if (setns(own, CLONE_NEWNET) != 0) {
          // This thread would go on in the other namespace: nothing else may run on it.
          throw new IllegalStateException("cannot return to this thread's network namespace");
        }
        if (fd < 0) {
          throw new IOException(
              "netlink " + name(protocol) + " socket in " + namespace + ": errno " + socketErrno);
        }
        return fd;
      } finally {
        close(target);
      }
    } finally {
      close(own);
    }
  }

  /** Closes a socket of {@link #openSocket} or {@link #openSocketIn}. */
  static void closeSocket(int fd) {
    close(fd);
  }

  private static String name(int protocol) {
    return switch (protocol) {
      case NETLINK_ROUTE -> "route";
      case NETLINK_SOCK_DIAG -> "sock_diag";
      default -> "protocol " + protocol;
    };
  }

  private static String lastErrno() {
    return "errno " + Native.getLastError();
  }
}
