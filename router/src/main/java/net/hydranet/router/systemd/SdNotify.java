package net.hydranet.router.systemd;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells systemd how a daemon is doing (sd_notify(3)): {@code READY=1} once it forwards, {@code
 * RELOADING=1}/{@code READY=1} around a reload, {@code STOPPING=1} when it starts to drain, and
 * {@code WATCHDOG=1} from a thread of its own while the data path still answers.
 *
 * <p>The protocol is one datagram per message on the AF_UNIX socket named by {@code NOTIFY_SOCKET}
 * (a path, or an abstract name written {@code @name}). Java 17 has no AF_UNIX datagram channel, so
 * the datagram goes through libc with JNA; libsystemd is not needed. Without {@code NOTIFY_SOCKET}
 * (not started by systemd, or {@code Type=simple}) every call does nothing.
 *
 * <p>The watchdog pets only while the data path is alive: each period it checks that the probe it
 * posted to the forwarding thread's command queue last period has run, and that the daemon reports
 * no error; if not, it stops petting and systemd kills and restarts the unit after {@code
 * WatchdogSec=}. A hung forwarding thread (a JVM alive, its router dead) is what this catches.
 */
public final class SdNotify {
  private static final Logger LOG = LoggerFactory.getLogger(SdNotify.class);
  private static final int AF_UNIX = 1;
  private static final int SOCK_DGRAM = 2;
  private static final int SOCK_CLOEXEC = 0x80000;
  private static final int MSG_NOSIGNAL = 0x4000;
  private static final int SUN_PATH = 108;

  private static volatile SdNotify instance;

  private final byte[] address;
  private final int addressLength;
  private final long watchdogMicros;
  private final AtomicLong posted = new AtomicLong();
  private final AtomicLong answered = new AtomicLong();
  private volatile Thread watchdog;
  private volatile boolean stopping;

  /** libc's socket calls, direct-mapped; loaded on the first message only. */
  static final class LibC {
    static {
      Native.register(LibC.class, NativeLibrary.getInstance("c"));
    }

    private LibC() {}

    static native int socket(int domain, int type, int protocol) throws LastErrorException;

    static native long sendto(int fd, byte[] buf, long len, int flags, byte[] addr, int addrlen)
        throws LastErrorException;

    static native int close(int fd);
  }

  /**
   * @param socket the value of NOTIFY_SOCKET, or null (then nothing is sent)
   * @param watchdogMicros WATCHDOG_USEC for this process, 0 if none
   */
  SdNotify(String socket, long watchdogMicros) {
    if (socket == null || socket.isEmpty() || !(socket.startsWith("/") || socket.startsWith("@"))) {
      this.address = null;
      this.addressLength = 0;
    } else {
      byte[] path = socket.getBytes(StandardCharsets.UTF_8);
      if (path.length >= SUN_PATH) {
        throw new IllegalArgumentException("NOTIFY_SOCKET longer than " + (SUN_PATH - 1));
      }
      // struct sockaddr_un: sa_family_t (host order, x86-64 and aarch64: little-endian), path.
      byte[] a = new byte[2 + SUN_PATH];
      a[0] = (byte) AF_UNIX;
      System.arraycopy(path, 0, a, 2, path.length);
      int len = 2 + path.length;
      if (path[0] == '@') {
        a[2] = 0; // abstract namespace: no terminating NUL counted
      } else {
        len++; // the NUL
      }
      this.address = a;
      this.addressLength = len;
    }
    this.watchdogMicros = address == null ? 0 : watchdogMicros;
  }

  /** The process's notifier, from NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID. */
  public static SdNotify get() {
    SdNotify n = instance;
    if (n == null) {
      synchronized (SdNotify.class) {
        n = instance;
        if (n == null) {
          n = new SdNotify(System.getenv("NOTIFY_SOCKET"), watchdogFromEnvironment());
          instance = n;
        }
      }
    }
    return n;
  }

  private static long watchdogFromEnvironment() {
    String usec = System.getenv("WATCHDOG_USEC");
    String pid = System.getenv("WATCHDOG_PID");
    try {
      if (usec == null || (pid != null && Long.parseLong(pid) != ProcessHandle.current().pid())) {
        return 0;
      }
      return Long.parseLong(usec);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  public boolean enabled() {
    return address != null;
  }

  /** The watchdog period systemd asked for, in microseconds (0: none). */
  public long watchdogMicros() {
    return watchdogMicros;
  }

  /**
   * Start-up is done: READY=1 with a status line, and the watchdog thread if systemd asked for one.
   *
   * @param status the STATUS= line ({@code systemctl status} shows it)
   * @param post runs its argument on the data path's own thread (its command queue)
   * @param problem why the data path is not well (an error it reported), or null
   */
  public static void ready(String status, Consumer<Runnable> post, Supplier<Object> problem) {
    SdNotify n = get();
    n.send("READY=1\nSTATUS=" + status + "\nMAINPID=" + ProcessHandle.current().pid());
    n.startWatchdog(post, problem);
  }

  /** A reload begins (RELOADING=1); call {@link #reloaded} when it is done. */
  public static void reloading() {
    get()
        .send(
            "RELOADING=1\nMONOTONIC_USEC="
                + TimeUnit.NANOSECONDS.toMicros(System.nanoTime())
                + "\nSTATUS=reloading the configuration");
  }

  /** A reload is done, applied or refused: READY=1 again with a status line. */
  public static void reloaded(String status) {
    get().send("READY=1\nSTATUS=" + status);
  }

  /** Shut-down begins (STOPPING=1): the watchdog stops, systemd waits for the drain. */
  public static void stopping(String status) {
    SdNotify n = get();
    n.stopWatchdog();
    n.send("STOPPING=1\nSTATUS=" + status);
  }

  /** Ends the watchdog thread's loop (it pets no more). */
  void stopWatchdog() {
    stopping = true;
  }

  /** Sends one message; false (and a debug line) if it could not be sent. */
  boolean send(String message) {
    if (address == null) {
      return false;
    }
    byte[] b = message.getBytes(StandardCharsets.UTF_8);
    int fd = -1;
    try {
      fd = LibC.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      LibC.sendto(fd, b, b.length, MSG_NOSIGNAL, address, addressLength);
      return true;
    } catch (LastErrorException | UnsatisfiedLinkError e) {
      LOG.debug("sd_notify '{}' not sent: {}", message.replace('\n', ' '), e.getMessage());
      return false;
    } finally {
      if (fd >= 0) {
        LibC.close(fd);
      }
    }
  }

  /**
   * Pets the watchdog every half period while the probe posted in the previous period has run and
   * {@code problem} says nothing.
   */
  void startWatchdog(Consumer<Runnable> post, Supplier<Object> problem) {
    if (watchdogMicros <= 0 || watchdog != null) {
      return;
    }
    long periodMillis = Math.max(1, watchdogMicros / 2000);
    Thread t =
        new Thread(
            () -> {
              boolean wasWell = true;
              while (!stopping) {
                long p = posted.get();
                Object why = problem.get();
                boolean well = why == null && answered.get() == p;
                if (well) {
                  send("WATCHDOG=1");
                  if (!wasWell) {
                    LOG.info("watchdog: the data path answers again");
                  }
                } else if (wasWell) {
                  LOG.atError()
                      .addKeyValue("event", "watchdog-withheld")
                      .log(
                          "watchdog: not petting systemd, {}",
                          why != null
                              ? why
                              : "the forwarding thread did not run a probe within "
                                  + periodMillis
                                  + " ms");
                }
                wasWell = well;
                if (answered.get() == p) {
                  long next = p + 1;
                  posted.set(next);
                  post.accept(() -> answered.set(next));
                }
                try {
                  Thread.sleep(periodMillis);
                } catch (InterruptedException e) {
                  return;
                }
              }
            },
            "hydranet-watchdog");
    t.setDaemon(true);
    watchdog = t;
    t.start();
  }
}
