package net.hydranet.forwarding.io.live;

import com.lmax.disruptor.AlertException;
import com.lmax.disruptor.Sequence;
import com.lmax.disruptor.SequenceBarrier;
import com.lmax.disruptor.WaitStrategy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import net.hydranet.forwarding.pipeline.ReceiveWait;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Waits for frames on the capture descriptors themselves, so both data-path threads wake at once
 * when a frame arrives, instead of one after the other.
 *
 * <p>Why: a two-stage pipeline that sleeps when idle pays two wake-ups per frame after a pause —
 * the receive thread's (from its timer) and then the forwarding thread's (signalled by the receive
 * thread). On this class of VM one wake-up costs 40–150 µs (a 20 µs {@code parkNanos} sleeps about
 * 120 µs), and a request's critical path crosses two such daemons twice. Here both threads block in
 * {@code poll(2)} on the same pcap descriptors: the kernel wakes them together, the forwarding
 * thread yields until the receive thread has published, and the second wake-up overlaps the first.
 * An eventfd carries what does not come from a descriptor (ticks, commands, shutdown); the
 * publisher writes it only when the forwarding thread has said it is about to block.
 *
 * <p>Idle cost: nothing spins or yields for long; each thread wakes once per pipeline tick.
 *
 * <p>Threading: {@link #awaitFrames} belongs to the receive thread and {@link #waitFor} to the one
 * forwarding thread; each has its own pollfd array. {@link #signalAllWhenBlocking} may be called
 * from any thread. Allocation-free after construction.
 */
public final class PollWaitStrategy implements WaitStrategy, ReceiveWait, AutoCloseable {
  private static final int POLLFD_SIZE = 8;

  /** Busy checks before blocking: a few microseconds, enough for a frame already on its way. */
  private static final int SPINS = 100;

  /** Yields, after a frame woke us, before polling again while the receive thread catches up. */
  private static final int YIELDS = 20;

  /** A safety net only: every hand-off is signalled; halting is signalled too. */
  private static final int FORWARDING_TIMEOUT_MILLIS = 10;

  private final int eventFd;
  private final int safetyTimeoutMillis;
  private final int sources;
  private final UnsafeBuffer receiveFds;
  private final UnsafeBuffer forwardingFds;
  private final UnsafeBuffer one;
  private final UnsafeBuffer drain;
  private volatile boolean forwardingBlocked;
  private volatile boolean closed;

  // Package-private for tests, which stand in an eventfd for a capture descriptor.
  PollWaitStrategy(int[] fds, int eventFd, int safetyTimeoutMillis) {
    this.eventFd = eventFd;
    this.safetyTimeoutMillis = safetyTimeoutMillis;
    this.sources = fds.length;
    this.receiveFds = direct(fds.length * POLLFD_SIZE);
    this.forwardingFds = direct((fds.length + 1) * POLLFD_SIZE);
    for (int i = 0; i < fds.length; i++) {
      pollfd(receiveFds, i, fds[i]);
      pollfd(forwardingFds, i, fds[i]);
    }
    pollfd(forwardingFds, fds.length, eventFd);
    this.one = direct(8);
    one.putLong(0, 1L);
    this.drain = direct(8);
  }

  /**
   * Waits on {@code sources}' descriptors.
   *
   * @throws IOException if a source has no selectable descriptor or no eventfd can be made
   */
  public static PollWaitStrategy over(List<LivePcapSource> sources) throws IOException {
    int[] fds = new int[sources.size()];
    for (int i = 0; i < fds.length; i++) {
      fds[i] = sources.get(i).selectableFd();
      if (fds[i] < 0) {
        throw new IOException(sources.get(i).interfaceName() + ": no selectable descriptor");
      }
    }
    int efd = LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC);
    if (efd < 0) {
      throw new IOException("eventfd failed");
    }
    return new PollWaitStrategy(fds, efd, FORWARDING_TIMEOUT_MILLIS);
  }

  private static UnsafeBuffer direct(int bytes) {
    return new UnsafeBuffer(ByteBuffer.allocateDirect(bytes));
  }

  private static void pollfd(UnsafeBuffer fds, int i, int fd) {
    fds.putInt(i * POLLFD_SIZE, fd);
    fds.putShort(i * POLLFD_SIZE + 4, LibC.POLLIN);
    fds.putShort(i * POLLFD_SIZE + 6, (short) 0);
  }

  @Override
  public void awaitFrames(int timeoutMillis) {
    if (!closed) {
      LibC.poll(receiveFds.addressOffset(), sources, timeoutMillis);
    }
  }

  @Override
  public long waitFor(
      long sequence, Sequence cursor, Sequence dependentSequence, SequenceBarrier barrier)
      throws AlertException {
    long available;
    int spins = 0;
    int yields = 0;
    int yieldBudget = 0;
    while ((available = dependentSequence.get()) < sequence) {
      barrier.checkAlert();
      if (spins < SPINS) {
        Thread.onSpinWait();
        spins++;
      } else if (yields < yieldBudget) {
        Thread.yield();
        yields++;
      } else {
        // Woken by a frame the receive thread is probably still copying: spin, then yield to it
        // before polling again (the descriptor stays readable until its ring slot is consumed).
        // Woken by anything else: block again at once — yielding after every tick would hand
        // the core away a thousand times a second for nothing.
        yieldBudget = block(sequence, dependentSequence, barrier) ? YIELDS : 0;
        spins = 0;
        yields = 0;
      }
    }
    return available;
  }

  /** Blocks until a frame, a signal or the timeout; true if a capture descriptor was readable. */
  private boolean block(long sequence, Sequence dependentSequence, SequenceBarrier barrier) {
    forwardingBlocked = true;
    try {
      // Volatile write, then volatile reads: a publish or alert after this point sees the flag.
      if (dependentSequence.get() >= sequence || barrier.isAlerted() || closed) {
        return false;
      }
      int ready = LibC.poll(forwardingFds.addressOffset(), sources + 1L, safetyTimeoutMillis);
      if (ready <= 0) {
        return false;
      }
      if ((forwardingFds.getShort(sources * POLLFD_SIZE + 6) & LibC.POLLIN) != 0) {
        LibC.read(eventFd, drain.addressOffset(), 8);
        ready--;
      }
      return ready > 0;
    } finally {
      forwardingBlocked = false;
    }
  }

  @Override
  public void signalAllWhenBlocking() {
    if (forwardingBlocked && !closed) {
      LibC.write(eventFd, one.addressOffset(), 8);
    }
  }

  /** Whether the forwarding thread is inside (or about to enter) poll(2); for tests. */
  boolean forwardingBlocked() {
    return forwardingBlocked;
  }

  /**
   * Closes the eventfd; call after both threads have stopped (the capture descriptors are not
   * ours).
   */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      LibC.close(eventFd);
    }
  }
}
