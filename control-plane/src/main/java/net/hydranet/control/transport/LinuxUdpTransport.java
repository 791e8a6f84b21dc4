package net.hydranet.control.transport;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.io.IOException;
import net.hydranet.control.wire.Addresses;

/**
 * The control socket through libc (JNA, direct mapping): {@code recvmmsg} takes up to {@link
 * #BATCH} queued datagrams per system call, each with the TTL the kernel reports with {@code
 * IP_RECVTTL}; everything is sent with TTL 255 ({@code IP_TTL}), as RFC 5082 §3 asks of a GTSM
 * sender. The native buffers are allocated once; a receive copies each datagram into its own reused
 * array. Linux on a 64-bit ABI only (x86-64, aarch64): the structure offsets below are theirs.
 */
final class LinuxUdpTransport implements Transport {
  static final int BATCH = 32;
  private static final int SLOT = 2048;

  private static final int AF_INET = 2;
  private static final int SOCK_DGRAM = 2;
  private static final int SOCK_CLOEXEC = 0x80000;
  private static final int SOL_SOCKET = 1;
  private static final int SO_REUSEADDR = 2;
  private static final int SO_RCVBUF = 8;
  private static final int SO_RCVBUFFORCE = 33;
  private static final int IPPROTO_IP = 0;
  private static final int IP_TTL = 2;
  private static final int IP_RECVTTL = 12;
  private static final int MSG_DONTWAIT = 0x40;
  private static final int POLLIN = 1;
  private static final int EAGAIN = 11;
  private static final int EINTR = 4;

  // struct msghdr on LP64: name 0, namelen 8, iov 16, iovlen 24, control 32, controllen 40,
  // flags 48; struct mmsghdr adds msg_len at 56 and is 64 bytes. iovec: base 0, len 8 (16 bytes).
  // sockaddr_in: family 0, port 2 (network order), address 4 (network order), 16 bytes. cmsghdr:
  // len 0 (size_t), level 8, type 12, data 16.
  private static final int MMSG = 64;
  private static final int NAME = 16;
  private static final int CONTROL = 32;

  private static final Throwable UNAVAILABLE = load();

  private final int fd;
  private final Memory vector = new Memory((long) MMSG * BATCH);
  private final Memory iovecs = new Memory(16L * BATCH);
  private final Memory names = new Memory((long) NAME * BATCH);
  private final Memory controls = new Memory((long) CONTROL * BATCH);
  private final Memory slots = new Memory((long) SLOT * BATCH);
  private final Memory pollfd = new Memory(8);
  private final Memory sendBuffer = new Memory(SLOT);
  private final Memory sendName = new Memory(NAME);
  private final Memory option = new Memory(4);
  private final byte[][] data = new byte[BATCH][SLOT];
  private final int[] lengths = new int[BATCH];
  private final int[] sources = new int[BATCH];
  private final int[] ttls = new int[BATCH];

  private static Throwable load() {
    try {
      if (!Platform.isLinux() || !Platform.is64Bit()) {
        return new UnsupportedOperationException("not 64-bit Linux");
      }
      Native.register(LinuxUdpTransport.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
      return null;
    } catch (Throwable t) { // NOPMD: no JNA, or no libc: the JDK transport is used instead
      return t;
    }
  }

  static boolean available() {
    return UNAVAILABLE == null;
  }

  private static native int socket(int domain, int type, int protocol);

  private static native int setsockopt(int fd, int level, int name, Pointer value, int length);

  private static native int bind(int fd, Pointer address, int length);

  private static native int recvmmsg(int fd, Pointer vector, int count, int flags, Pointer timeout);

  private static native long sendto(
      int fd, Pointer buffer, long length, int flags, Pointer address, int addressLength);

  private static native int poll(Pointer fds, long count, int timeoutMillis);

  private static native int close(int fd);

  LinuxUdpTransport(int address, int port) throws IOException {
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      throw new IOException("socket: errno " + Native.getLastError());
    }
    try {
      option(SOL_SOCKET, SO_REUSEADDR, 1);
      option(IPPROTO_IP, IP_TTL, 255);
      option(IPPROTO_IP, IP_RECVTTL, 1);
      // As root the buffer may exceed net.core.rmem_max; otherwise the kernel caps it there.
      if (setInt(SOL_SOCKET, SO_RCVBUFFORCE, RECEIVE_BUFFER) < 0) {
        setInt(SOL_SOCKET, SO_RCVBUF, RECEIVE_BUFFER);
      }
      sockaddr(sendName, address, port);
      if (bind(fd, sendName, NAME) < 0) {
        throw new IOException(
            "cannot bind the control socket to "
                + Addresses.format(address)
                + ":"
                + port
                + ": errno "
                + Native.getLastError());
      }
    } catch (IOException | RuntimeException e) {
      close(fd);
      throw e;
    }
    for (int i = 0; i < BATCH; i++) {
      Pointer iov = iovecs.share(16L * i);
      iov.setPointer(0, slots.share((long) SLOT * i));
      iov.setLong(8, SLOT);
    }
    pollfd.setInt(0, fd);
  }

  private void option(int level, int name, int value) throws IOException {
    if (setInt(level, name, value) < 0) {
      throw new IOException(
          "setsockopt(" + level + ", " + name + "): errno " + Native.getLastError());
    }
  }

  private int setInt(int level, int name, int value) {
    option.setInt(0, value);
    return setsockopt(fd, level, name, option, 4);
  }

  private static void sockaddr(Pointer p, int address, int port) {
    p.clear(NAME);
    p.setShort(0, (short) AF_INET);
    p.setByte(2, (byte) (port >>> 8));
    p.setByte(3, (byte) port);
    p.setByte(4, (byte) (address >>> 24));
    p.setByte(5, (byte) (address >>> 16));
    p.setByte(6, (byte) (address >>> 8));
    p.setByte(7, (byte) address);
  }

  @Override
  public int receive(int timeoutMillis) throws IOException {
    int n = batch();
    if (n == 0 && timeoutMillis > 0) {
      pollfd.setShort(4, (short) POLLIN);
      pollfd.setShort(6, (short) 0);
      int ready = poll(pollfd, 1, timeoutMillis);
      if (ready <= 0) {
        return 0; // timeout, or EINTR: the caller's loop comes back
      }
      n = batch();
    }
    for (int i = 0; i < n; i++) {
      Pointer m = vector.share((long) MMSG * i);
      int length = Math.min(m.getInt(56), SLOT);
      lengths[i] = length;
      slots.read((long) SLOT * i, data[i], 0, length);
      Pointer name = names.share((long) NAME * i);
      sources[i] =
          name.getShort(0) == AF_INET
              ? (name.getByte(4) & 0xff) << 24
                  | (name.getByte(5) & 0xff) << 16
                  | (name.getByte(6) & 0xff) << 8
                  | (name.getByte(7) & 0xff)
              : 0;
      ttls[i] = ttl(controls.share((long) CONTROL * i), m.getLong(40));
    }
    return n;
  }

  /** Whatever is queued, up to BATCH, without waiting; 0 if nothing. */
  private int batch() throws IOException {
    for (int i = 0; i < BATCH; i++) {
      Pointer m = vector.share((long) MMSG * i);
      m.setPointer(0, names.share((long) NAME * i));
      m.setInt(8, NAME);
      m.setPointer(16, iovecs.share(16L * i));
      m.setLong(24, 1);
      m.setPointer(32, controls.share((long) CONTROL * i));
      m.setLong(40, CONTROL);
      m.setInt(48, 0);
      m.setInt(56, 0);
    }
    int n = recvmmsg(fd, vector, BATCH, MSG_DONTWAIT, null);
    if (n < 0) {
      int errno = Native.getLastError();
      if (errno == EAGAIN || errno == EINTR) {
        return 0;
      }
      throw new IOException("recvmmsg: errno " + errno);
    }
    return n;
  }

  /** The IP_TTL control message's value, or TTL_UNKNOWN. */
  private static int ttl(Pointer control, long length) {
    if (length >= 20 && control.getInt(8) == IPPROTO_IP && control.getInt(12) == IP_TTL) {
      return control.getInt(16);
    }
    return TTL_UNKNOWN;
  }

  @Override
  public byte[] data(int i) {
    return data[i];
  }

  @Override
  public int length(int i) {
    return lengths[i];
  }

  @Override
  public int source(int i) {
    return sources[i];
  }

  @Override
  public int ttl(int i) {
    return ttls[i];
  }

  @Override
  public boolean readsTtl() {
    return true;
  }

  @Override
  public void send(byte[] datagram, int length, int address, int port) throws IOException {
    sendBuffer.write(0, datagram, 0, length);
    sockaddr(sendName, address, port);
    if (sendto(fd, sendBuffer, length, 0, sendName, NAME) < 0) {
      throw new IOException(
          "sendto " + Addresses.format(address) + ": errno " + Native.getLastError());
    }
  }

  @Override
  public void close() {
    close(fd);
  }
}
