package net.hydranet.forwarding.pipeline;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;

/**
 * The calling thread's timer slack (Linux {@code prctl(PR_SET_TIMERSLACK)}): how late the kernel
 * may wake a timed sleep so as to batch wake-ups. The default, 50 µs, is added to every park of the
 * receive loop's idle back-off (at most 20 µs), so a packet after a pause could wait 70 µs at each
 * pcap hop; a redirected request crosses two (redirector, host server) per direction it is
 * forwarded. Best effort: on failure (not Linux, no libc) nothing changes.
 */
final class TimerSlack {
  private static final int PR_SET_TIMERSLACK = 29;
  private static volatile boolean bound;
  private static volatile boolean failed;

  private TimerSlack() {}

  private static native int prctl(int option, long arg2, long arg3, long arg4, long arg5);

  /** Sets this thread's slack to {@code nanos}; true if the kernel took it. */
  static boolean set(long nanos) {
    if (failed) {
      return false;
    }
    try {
      if (!bound) {
        synchronized (TimerSlack.class) {
          if (!bound) {
            Native.register(TimerSlack.class, NativeLibrary.getInstance("c"));
            bound = true;
          }
        }
      }
      return prctl(PR_SET_TIMERSLACK, nanos, 0, 0, 0) == 0;
    } catch (LinkageError | RuntimeException e) {
      failed = true;
      return false;
    }
  }
}
