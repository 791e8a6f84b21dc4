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

  private final UnsafeBuffer fds;
  private final int count;

  private PcapWait(int[] descriptors) {
    this.count = descriptors.length;
    this.fds = new UnsafeBuffer(ByteBuffer.allocateDirect(count * POLLFD_SIZE));
    for (int i = 0; i < count; i++) {
      fds.putInt(i * POLLFD_SIZE, descriptors[i]);
      fds.putShort(i * POLLFD_SIZE + 4, POLLIN);
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

  @Override
  public void await(int timeoutMillis) {
    // Interrupted by a signal (EINTR) or failed: the caller polls its sources either way.
    LibC.poll(fds.addressOffset(), count, timeoutMillis);
  }

  /**
   * One {@code poll(2)}; the captures whose descriptor reported anything (a frame, or an error
   * their next read will report) are set. A failed or interrupted call says {@link #ALL}.
   */
  @Override
  public long ready(int timeoutMillis) {
    final int n = LibC.poll(fds.addressOffset(), count, timeoutMillis);
    if (n == 0) {
      return 0L;
    }
    if (n < 0 || count > Long.SIZE) {
      return ALL;
    }
    long mask = 0;
    for (int i = 0; i < count; i++) {
      if (fds.getShort(i * POLLFD_SIZE + 6) != 0) {
        mask |= 1L << i;
      }
    }
    return mask;
  }
}
