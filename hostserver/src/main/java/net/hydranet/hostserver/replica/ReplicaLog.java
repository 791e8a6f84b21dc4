package net.hydranet.hostserver.replica;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A replica's output, copied from its pipe into {@code NAME.log} and rotated to {@code NAME.log.1}
 * when the file reaches half the bound, so that the two files never hold more than {@code maxBytes}
 * between them however much the replica writes.
 *
 * <p>Why a pipe the host server reads rather than a file the replica appends to: the replica is
 * untrusted code, and a file it writes directly grows until the disk is full (a replica printing in
 * a loop, or one attacking its neighbours through the shared disk). Reading costs one thread per
 * replica, which blocks in {@code read}; a replica writing faster than the disk only blocks itself
 * on its full pipe. The files stay root-only (mode 600), like the replicas' directories.
 */
final class ReplicaLog implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(ReplicaLog.class);

  /** The default bound on a replica's two log files together. */
  static final long DEFAULT_MAX_BYTES = 8L << 20;

  private final InputStream in;
  private final Path file;
  private final Path previous;
  private final long fileBytes;
  private final AtomicLong rotations = new AtomicLong();
  private final CountDownLatch ended = new CountDownLatch(1);

  private ReplicaLog(InputStream in, Path file, long maxBytes) {
    if (maxBytes < 2) {
      throw new IllegalArgumentException("log bound " + maxBytes + " below 2 bytes");
    }
    this.in = in;
    this.file = file;
    this.previous = file.resolveSibling(file.getFileName() + ".1");
    this.fileBytes = maxBytes / 2;
  }

  /** Starts copying {@code in} into {@code file} on a daemon thread named after the replica. */
  static ReplicaLog follow(String replica, InputStream in, Path file, long maxBytes) {
    ReplicaLog log = new ReplicaLog(in, file, maxBytes);
    Thread t = new Thread(log, "replica-log-" + replica);
    t.setDaemon(true);
    t.start();
    return log;
  }

  /**
   * Waits until the replica's end of the pipe closed and everything it wrote is in the file (its
   * last words, for the log line that says it exited), at most {@code millis}.
   */
  boolean awaitEnd(long millis) throws InterruptedException {
    return ended.await(millis, TimeUnit.MILLISECONDS);
  }

  /** How many times the file was moved to {@code .1}. */
  long rotations() {
    return rotations.get();
  }

  @Override
  public void run() {
    byte[] buffer = new byte[8192];
    OutputStream out = null;
    try (InputStream source = in) {
      long written = 0;
      try {
        out = open(false);
        written = Files.size(file);
      } catch (IOException e) {
        out = failed(out, e);
      }
      for (int n; (n = source.read(buffer)) >= 0; ) {
        if (out == null) {
          continue; // nowhere to write: keep the pipe flowing so the replica never blocks on it
        }
        try {
          int at = 0;
          while (at < n) {
            if (written >= fileBytes) {
              out.close();
              Files.move(file, previous, StandardCopyOption.REPLACE_EXISTING);
              rotations.incrementAndGet();
              out = open(true);
              written = 0;
            }
            int chunk = (int) Math.min(n - at, fileBytes - written);
            out.write(buffer, at, chunk);
            at += chunk;
            written += chunk;
          }
          out.flush();
        } catch (IOException e) {
          out = failed(out, e);
        }
      }
    } catch (IOException e) {
      // The replica's end of the pipe failed: it has exited or been killed, which is logged.
    } finally {
      failed(out, null);
      ended.countDown();
    }
  }

  /** Closes {@code out}; after a write error (a full disk) the output is read and dropped. */
  private OutputStream failed(OutputStream out, IOException cause) {
    if (cause != null) {
      LOG.warn("replica log {}: {}; the rest of its output is dropped", file, cause.toString());
    }
    if (out != null) {
      try {
        out.close();
      } catch (IOException e) {
        // already failing: nothing more to say
      }
    }
    return null;
  }

  private OutputStream open(boolean fresh) throws IOException {
    if (fresh || !Files.exists(file)) {
      Files.deleteIfExists(file);
      Files.createFile(
          file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }
    return Files.newOutputStream(file, StandardOpenOption.APPEND);
  }
}
