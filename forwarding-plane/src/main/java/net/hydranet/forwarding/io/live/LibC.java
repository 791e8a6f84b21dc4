package net.hydranet.forwarding.io.live;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;

/**
 * Direct-mapped libc calls for the TUN device and for waiting on captures: buffers are passed as
 * native addresses so a packet crosses into the kernel without a Java array copy.
 */
final class LibC {
  static final int O_RDWR = 0x2;
  static final int O_NONBLOCK = 0x800;
  static final int O_CLOEXEC = 0x80000;
  static final int EAGAIN = 11;
  static final int EINTR = 4;
  static final int SOL_SOCKET = 1;
  static final int SO_ATTACH_FILTER = 26;
  static final int AF_PACKET = 17;
  static final int SOCK_RAW = 3;
  static final int SOCK_CLOEXEC = 0x80000;
  static final int SOL_PACKET = 263;
  static final int PACKET_VERSION = 10;
  static final int PACKET_TX_RING = 13;
  static final int PACKET_LOSS = 14;
  static final int PACKET_QDISC_BYPASS = 20;
  static final int PACKET_IGNORE_OUTGOING = 23;
  static final int PACKET_FANOUT = 18;
  static final int PACKET_FANOUT_HASH = 0;
  static final int PACKET_FANOUT_FLAG_UNIQUEID = 0x2000;
  static final int PACKET_FANOUT_FLAG_IGNORE_OUTGOING = 0x4000;
  static final int PACKET_FANOUT_FLAG_DEFRAG = 0x8000;
  static final int TPACKET_V2 = 1;
  static final int PROT_READ_WRITE = 0x3;
  static final int MAP_SHARED = 0x1;
  static final int MSG_DONTWAIT = 0x40;

  static {
    if (Native.POINTER_SIZE != 8) {
      throw new UnsatisfiedLinkError("pointer size " + Native.POINTER_SIZE + ", need 8");
    }
    Native.register(LibC.class, NativeLibrary.getInstance("c"));
  }

  private LibC() {}

  static native int open(String path, int flags);

  static native int close(int fd);

  /** {@code eventfd(2)}: a counter another thread can make readable, for waking a poll. */
  static native int eventfd(int initval, int flags);

  /**
   * ioctl is variadic in C; on x86-64 and aarch64 Linux a fixed third pointer argument is ABI-safe.
   */
  static native int ioctl(int fd, long request, long arg);

  static native long read(int fd, long buf, long count);

  static native long write(int fd, long buf, long count);

  static native int setsockopt(int fd, int level, int optname, long optval, int optlen);

  /** {@code optlen} points at a {@code socklen_t} holding the room, then the length written. */
  static native int getsockopt(int fd, int level, int optname, long optval, long optlen);

  /** {@code fds} points at {@code nfds} {@code struct pollfd}s. */
  static native int poll(long fds, long nfds, int timeout);

  static native int socket(int domain, int type, int protocol);

  static native int bind(int fd, long addr, int addrlen);

  static native long mmap(long addr, long length, int prot, int flags, int fd, long offset);

  static native int munmap(long addr, long length);

  static native long sendto(int fd, long buf, long len, int flags, long addr, int addrlen);

  static native String strerror(int errnum);
}
