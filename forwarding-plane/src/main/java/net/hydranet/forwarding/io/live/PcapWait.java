package net.hydranet.forwarding.io.live;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import net.hydranet.forwarding.io.FrameWait;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Waits in one {@code poll(2)} on the descriptors of several live captures: the kernel marks a
 * packet socket readable when its ring holds a frame, so the first frame wakes the thread.
 */
public final class PcapWait implements FrameWait {
  private static final int POLLFD_SIZE = 8; // int fd, short events, short revents
  private static final short POLLIN = 0x1;
  private static final int EFD_NONBLOCK = 0x800;
  private static final int EFD_CLOEXEC = 0x80000;

  private final UnsafeBuffer fds;
  private final int count;
  // An eventfd after the captures' descriptors: wake() makes it readable; -1 if none was made.
  private final int wakeFd;
  private final UnsafeBuffer wakeWord = new UnsafeBuffer(ByteBuffer.allocateDirect(8));
  // Holds 1, written once: what every wake() adds; threads may pass it to write(2) at once.
  private final UnsafeBuffer one = new UnsafeBuffer(ByteBuffer.allocateDirect(8));
  private boolean woken;
  private boolean closed; // under this object's monitor

  private PcapWait(int[] descriptors) {
    this.count = descriptors.length;
    this.wakeFd = LibC.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    one.putLong(0, 1L);
    int polled = count + (wakeFd >= 0 ? 1 : 0);
    this.fds = new UnsafeBuffer(ByteBuffer.allocateDirect(polled * POLLFD_SIZE));
    for (int i = 0; i < count; i++) {
      fds.putInt(i * POLLFD_SIZE, descriptors[i]);
      fds.putShort(i * POLLFD_SIZE + 4, POLLIN);
    }
    if (wakeFd >= 0) {
      fds.putInt(count * POLLFD_SIZE, wakeFd);
      fds.putShort(count * POLLFD_SIZE + 4, POLLIN);
    }
  }

  /**
   * @throws IOException if a capture has no descriptor to wait on
   */
  public static PcapWait of(List<LivePcapSource> sources) throws IOException {
    int[] descriptors = new int[sources.size()];
    for (int i = 0; i < descriptors.length; i++) {
      descriptors[i] = sources.get(i).selectableFd();
      if (descriptors[i] < 0) {
        throw new IOException(sources.get(i).interfaceName() + ": no selectable descriptor");
      }
    }
    return new PcapWait(descriptors);
  }

  /** A wait over these descriptors (for tests: any pollable descriptor will do). */
  static PcapWait ofDescriptors(int... descriptors) {
    return new PcapWait(descriptors.clone());
  }

  @Override
  public void await(int timeoutMillis) {
    ready(timeoutMillis);
  }

  /**
   * One {@code poll(2)}; the captures whose descriptor reported anything (a frame, or an error
   * their next read will report) are set. A failed or interrupted call says {@link #ALL}. A {@link
   * #wake} ends it too, and is read off here (one {@code read(2)}), for {@link #takeWake}.
   */
  @Override
  public long ready(int timeoutMillis) {
    final int polled = count + (wakeFd >= 0 ? 1 : 0);
    final int n = LibC.poll(fds.addressOffset(), polled, timeoutMillis);
    if (n == 0) {
      return 0L;
    }
    if (n < 0 || count > Long.SIZE) {
      return ALL;
    }
    if (wakeFd >= 0 && fds.getShort(count * POLLFD_SIZE + 6) != 0) {
      LibC.read(wakeFd, wakeWord.addressOffset(), 8);
      woken = true;
    }
    long mask = 0;
    for (int i = 0; i < count; i++) {
      if (fds.getShort(i * POLLFD_SIZE + 6) != 0) {
        mask |= 1L << i;
      }
    }
    return mask;
  }

  /**
   * Adds one to the eventfd's counter: one {@code write(2)}, from any thread. Synchronized with
   * {@link #close}, so that it never writes to the number of a descriptor closed and reused.
   */
  @Override
  public synchronized void wake() {
    if (wakeFd >= 0 && !closed) {
      LibC.write(wakeFd, one.addressOffset(), 8);
    }
  }

  /** Closes the eventfd; the captures' descriptors are theirs. Once; later waits are not woken. */
  @Override
  public synchronized void close() {
    if (wakeFd >= 0 && !closed) {
      closed = true;
      LibC.close(wakeFd);
    }
  }

  @Override
  public boolean takeWake() {
    final boolean w = woken;
    woken = false;
    return w;
  }
}
