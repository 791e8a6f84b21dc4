package net.hydranet.router.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Reads the listeners of a network namespace for an IPv4 origin (or, with {@link #scan6}, an IPv6
 * one) from {@code /proc/PID/net/{tcp,udp,tcp6,udp6}} with a fixed buffer and no per-line
 * allocation, so scanning a namespace with tens of thousands of sockets (a flood leaves them in
 * TIME_WAIT) costs CPU but no memory: the old scanner read each file into a list of strings five
 * times a second and its heap grew with the socket count.
 *
 * <p>An IPv6 entry counts when it is bound to {@code ::} (a dual-stack socket: Java's and most
 * servers' default, since {@code net.ipv6.bindv6only} is 0) or to an IPv4-mapped address {@code
 * ::ffff:a.b.c.d}. /proc does not show {@code IPV6_V6ONLY}: a socket bound to {@code ::} with that
 * option set is announced although it takes no IPv4, and its clients then time out rather than
 * being sent to the origin.
 */
final class ProcNetListeners {
  /** Longer lines are cut here (a /proc line is about 150 bytes; the fields we read come first). */
  private static final int MAX_LINE = 256;

  private static final int TCP_LISTEN = 0x0A;

  private final byte[] buffer = new byte[16 * 1024];
  private final byte[] line = new byte[MAX_LINE];

  /** The IPv6 origin {@link #scan6} looks for; {@code ipv6Origin} false while scanning for IPv4. */
  private boolean ipv6Origin;

  private long originHigh;
  private long originLow;

  /**
   * Adds "tcp PORT" / "udp PORT" for each listener of {@code pid}'s namespace on the IPv6 origin or
   * on {@code ::}: /proc/PID/net/{tcp6,udp6} only, since an IPv4 socket takes no IPv6 packet. A
   * socket on {@code ::} is announced for an IPv6 origin whether or not it is IPV6_V6ONLY.
   */
  void scan6(long pid, long high, long low, Set<String> out) {
    Path net = Path.of("/proc", Long.toString(pid), "net");
    scan6(net.resolve("tcp6"), "tcp", true, high, low, out);
    scan6(net.resolve("udp6"), "udp", false, high, low, out);
  }

  /** One tcp6 or udp6 file, for an IPv6 origin. */
  void scan6(Path file, String protocol, boolean listenOnly, long high, long low, Set<String> out) {
    ipv6Origin = true;
    originHigh = high;
    originLow = low;
    try {
      scan(file, protocol, true, listenOnly, 0, out);
    } finally {
      ipv6Origin = false;
    }
  }

  /** Adds "tcp PORT" / "udp PORT" for each listener of {@code pid}'s namespace on origin or *. */
  void scan(long pid, int origin, Set<String> out) {
    Path net = Path.of("/proc", Long.toString(pid), "net");
    scan(net.resolve("tcp"), "tcp", false, true, origin, out);
    scan(net.resolve("tcp6"), "tcp", true, true, origin, out);
    scan(net.resolve("udp"), "udp", false, false, origin, out);
    scan(net.resolve("udp6"), "udp", true, false, origin, out);
  }

  /** One file; a missing file (no IPv6 in the namespace, the process gone) adds nothing. */
  void scan(
      Path file, String protocol, boolean v6, boolean listenOnly, int origin, Set<String> out) {
    try (InputStream in = Files.newInputStream(file)) {
      int length = 0;
      boolean header = true;
      int n;
      while ((n = in.read(buffer)) > 0) {
        for (int i = 0; i < n; i++) {
          byte b = buffer[i];
          if (b == '\n') {
            if (!header) {
              entry(length, protocol, v6, listenOnly, origin, out);
            }
            header = false;
            length = 0;
          } else if (length < MAX_LINE) {
            line[length++] = b;
          }
        }
      }
    } catch (IOException e) {
      // The namespace or the process went away: nothing listens there any more.
    }
  }

  /**
   * One line: {@code sl local_address rem_address st ...}, the local address as hex words of the
   * host-order ints /proc prints (little-endian here), then ":PORT" in hex.
   */
  private void entry(
      int length, String protocol, boolean v6, boolean listenOnly, int origin, Set<String> out) {
    int p = skipSpaces(0, length);
    p = skipField(p, length); // "sl:"
    int local = skipSpaces(p, length);
    int localEnd = skipField(local, length);
    int st = skipSpaces(skipField(skipSpaces(localEnd, length), length), length);
    if (st + 2 > length) {
      return;
    }
    if (listenOnly && hex(st, st + 2) != TCP_LISTEN) {
      return;
    }
    int words = v6 ? 4 : 1;
    int colon = local + 8 * words;
    if (colon >= localEnd || line[colon] != ':' || localEnd - colon - 1 != 4) {
      return;
    }
    boolean ours = v6 && ipv6Origin ? onOrigin6(local) : onOrigin4(local, v6, origin);
    long port = hex(colon + 1, localEnd);
    if (ours && port > 0) {
      out.add(protocol + " " + port);
    }
  }

  /** Whether the IPv6 local address at {@code local} is the origin's, or the wildcard. */
  private boolean onOrigin6(int local) {
    long w0 = hex(local, local + 8);
    long w1 = hex(local + 8, local + 16);
    long w2 = hex(local + 16, local + 24);
    long w3 = hex(local + 24, local + 32);
    if (w0 < 0 || w1 < 0 || w2 < 0 || w3 < 0) {
      return false;
    }
    // Each word is printed as the host-order int of four address bytes (little-endian here).
    long high = word(w0) << 32 | word(w1);
    long low = word(w2) << 32 | word(w3);
    return (high | low) == 0 || (high == originHigh && low == originLow);
  }

  /**
   * Whether the local address at {@code local} is {@code origin} or the wildcard: an IPv4 one, or
   * in an IPv6 table {@code ::} (a dual-stack socket) or {@code ::ffff:a.b.c.d}.
   */
  private boolean onOrigin4(int local, boolean v6, int origin) {
    long address;
    if (v6) {
      long w0 = hex(local, local + 8);
      long w1 = hex(local + 8, local + 16);
      long w2 = hex(local + 16, local + 24);
      long w3 = hex(local + 24, local + 32);
      if ((w0 | w1) != 0 || w0 < 0 || w1 < 0 || w2 < 0 || w3 < 0) {
        return false;
      }
      if (w2 == 0 && w3 == 0) {
        address = 0; // "::", a dual-stack socket
      } else if (w2 == 0xFFFF0000L) {
        address = Integer.reverseBytes((int) w3); // ::ffff:a.b.c.d
      } else {
        return false; // a real IPv6 address: not ours to announce
      }
    } else {
      long w = hex(local, local + 8);
      if (w < 0) {
        return false;
      }
      address = Integer.reverseBytes((int) w);
    }
    return address == 0 || address == origin;
  }

  /** The network-order value of a word /proc printed in host order, unsigned. */
  private static long word(long printed) {
    return Integer.toUnsignedLong(Integer.reverseBytes((int) printed));
  }

  private int skipSpaces(int p, int length) {
    while (p < length && line[p] == ' ') {
      p++;
    }
    return p;
  }

  private int skipField(int p, int length) {
    while (p < length && line[p] != ' ') {
      p++;
    }
    return p;
  }

  /** The hex number in [from, to), or -1 if it is not one. */
  private long hex(int from, int to) {
    if (from >= to || to - from > 8) {
      return -1;
    }
    long v = 0;
    for (int i = from; i < to; i++) {
      int d = Character.digit(line[i], 16);
      if (d < 0) {
        return -1;
      }
      v = v << 4 | d;
    }
    return v;
  }
}
