package net.hydranet.forwarding.io.live;

import com.sun.jna.Native;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A Linux TUN interface carrying raw IPv4 packets: the host server's path for injecting
 * decapsulated packets into the local stack and reading what the stack sends back.
 *
 * <p>Opened non-blocking, so {@link #read} returns 0 instead of parking the thread; packets cross
 * the kernel boundary straight from and into the caller's off-heap buffer. The interface exists as
 * long as this object is open (it is not made persistent): configure addresses after {@link #open}.
 * One thread writes and one reads.
 */
public final class TunDevice implements AutoCloseable {
  /** _IOW('T', 202, int): attach the descriptor to a named TUN/TAP interface. */
  private static final long TUNSETIFF = 0x400454caL;

  private static final short IFF_TUN = 0x0001;

  /** No 4-byte packet-information prefix: the kernel reads the IP version from the packet. */
  private static final short IFF_NO_PI = 0x1000;

  /** struct ifreq: char ifr_name[IFNAMSIZ = 16], then a union whose first member is ifr_flags. */
  private static final int IFREQ_SIZE = 40;

  private static final int IFNAMSIZ = 16;
  private static final int IFREQ_FLAGS = 16;

  /** Largest packet staged for heap-backed callers; TUN's default MTU is 1500. */
  private static final int STAGING_BYTES = 65_535;

  private final String name;
  private final int fd;
  private volatile boolean closed;

  private final ByteBuffer writeStagingMemory = ByteBuffer.allocateDirect(STAGING_BYTES);
  private final UnsafeBuffer writeStaging = new UnsafeBuffer(writeStagingMemory);
  private final ByteBuffer readStagingMemory = ByteBuffer.allocateDirect(STAGING_BYTES);
  private final UnsafeBuffer readStaging = new UnsafeBuffer(readStagingMemory);

  private long packetsWritten;
  private long writeFailures;
  private long packetsRead;
  private long readErrors;
  private int lastErrno;

  private TunDevice(String name, int fd) {
    this.name = name;
    this.fd = fd;
  }

  /**
   * Creates (or attaches to) the TUN interface {@code name}.
   *
   * @throws IOException with the errno text; needs root or CAP_NET_ADMIN
   */
  public static TunDevice open(String name) throws IOException {
    final byte[] nameBytes = name.getBytes(StandardCharsets.US_ASCII);
    if (nameBytes.length == 0 || nameBytes.length >= IFNAMSIZ) {
      throw new IllegalArgumentException("interface name '" + name + "' not 1..15 characters");
    }
    final int fd = LibC.open("/dev/net/tun", LibC.O_RDWR | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
    if (fd < 0) {
      throw new IOException("open /dev/net/tun: " + LibC.strerror(Native.getLastError()));
    }
    final ByteBuffer ifreqMemory = ByteBuffer.allocateDirect(IFREQ_SIZE);
    final UnsafeBuffer ifreq = new UnsafeBuffer(ifreqMemory);
    ifreq.setMemory(0, IFREQ_SIZE, (byte) 0);
    ifreq.putBytes(0, nameBytes);
    // Host byte order, as the kernel reads a short from its own struct.
    ifreq.putShort(IFREQ_FLAGS, (short) (IFF_TUN | IFF_NO_PI));
    if (LibC.ioctl(fd, TUNSETIFF, ifreq.addressOffset()) < 0) {
      final int errno = Native.getLastError();
      LibC.close(fd);
      throw new IOException(
          "ioctl TUNSETIFF " + name + ": " + LibC.strerror(errno) + " (needs CAP_NET_ADMIN)");
    }
    // The kernel may have expanded a pattern such as "tun%d": report the name it chose.
    int n = 0;
    while (n < IFNAMSIZ && ifreq.getByte(n) != 0) {
      n++;
    }
    return new TunDevice(ifreq.getStringWithoutLengthAscii(0, n), fd);
  }

  /**
   * Injects one raw IPv4 packet into the local stack.
   *
   * @return false if the kernel refused it (counted; see {@link #lastErrno()})
   */
  public boolean write(DirectBuffer buffer, int offset, int length) {
    final long address;
    if (buffer.byteArray() == null) {
      address = buffer.addressOffset() + offset;
    } else if (length <= STAGING_BYTES) {
      writeStaging.putBytes(0, buffer, offset, length);
      address = writeStaging.addressOffset();
    } else {
      writeFailures++;
      return false;
    }
    final long written = LibC.write(fd, address, length);
    if (written != length) {
      writeFailures++;
      lastErrno = written < 0 ? Native.getLastError() : 0;
      return false;
    }
    packetsWritten++;
    return true;
  }

  /**
   * Reads one packet the stack routed to this interface.
   *
   * @return its length, 0 when none is waiting, -1 on an error (counted; see {@link #lastErrno()})
   */
  public int read(MutableDirectBuffer buffer, int offset, int capacity) {
    final boolean direct = buffer.byteArray() == null;
    final int count = direct ? capacity : Math.min(capacity, STAGING_BYTES);
    final long address = direct ? buffer.addressOffset() + offset : readStaging.addressOffset();
    final long n = LibC.read(fd, address, count);
    if (n < 0) {
      final int errno = Native.getLastError();
      if (errno == LibC.EAGAIN || errno == LibC.EINTR) {
        return 0;
      }
      lastErrno = errno;
      readErrors++;
      return -1;
    }
    if (!direct) {
      buffer.putBytes(offset, readStaging, 0, (int) n);
    }
    packetsRead++;
    return (int) n;
  }

  public String name() {
    return name;
  }

  public long packetsWritten() {
    return packetsWritten;
  }

  public long writeFailures() {
    return writeFailures;
  }

  public long packetsRead() {
    return packetsRead;
  }

  public long readErrors() {
    return readErrors;
  }

  /** errno of the last failed read or write, 0 if none; {@link LibC#strerror} names it. */
  public int lastErrno() {
    return lastErrno;
  }

  /** The errno's text, for logs off the hot path. */
  public static String describeErrno(int errno) {
    return LibC.strerror(errno);
  }

  /** Closes the descriptor; the kernel removes the interface with it. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      LibC.close(fd);
    }
  }
}
