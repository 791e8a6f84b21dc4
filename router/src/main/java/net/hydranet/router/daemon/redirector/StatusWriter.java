package net.hydranet.router.daemon.redirector;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.router.daemon.DaemonLoggers;
import net.hydranet.router.daemon.StatusFile;
import net.hydranet.router.metrics.PlaneSnapshot;
import net.hydranet.router.status.Summary;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --status}: the table and counters written to a file every second, on the main thread. The
 * forwarding thread only copies the table ({@link PlaneSnapshot#take}, a short command); the text
 * and the file are made here. Before, the whole of it — formatting, the file's write and rename —
 * ran as a command on pipeline 0's forwarding thread, about a millisecond a second in which no
 * packet moved (BENCHMARKS.md, "The census off the data path").
 */
public final class StatusWriter {
  private static final Logger LOG = LoggerFactory.getLogger(DaemonLoggers.REDIRECTOR);

  private final Path status;
  private long nextStatus = System.nanoTime();
  private boolean failureLogged;

  public StatusWriter(Path status) {
    this.status = status;
  }

  /** Writes the file if there is one and a second has passed since the last. */
  public void poll(ForwardingPlane plane) {
    if (status != null && System.nanoTime() - nextStatus >= 0) {
      nextStatus = System.nanoTime() + 1_000_000_000L;
      write(plane);
    }
  }

  private void write(ForwardingPlane plane) {
    PlaneSnapshot snapshot;
    try {
      snapshot = PlaneSnapshot.take(plane, false);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    } catch (Exception e) {
      // A forwarding thread that does not answer: the watchdog's business; the file waits.
      if (!failureLogged) {
        failureLogged = true;
        LOG.warn("status file {} not written: no snapshot ({})", status, e.toString());
      }
      return;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (PrintStream ps = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      Summary.print(ps, snapshot, plane);
    }
    StatusFile.write(status, bytes.toString(StandardCharsets.UTF_8), LOG);
  }
}
