package net.hydranet.router.daemon.redirector;

import java.nio.file.Path;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.router.daemon.DaemonLoggers;
import net.hydranet.router.daemon.StatusFile;
import net.hydranet.router.status.Summary;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code --status}: the table and counters written to a file every second (main thread). */
public final class StatusWriter {
  private static final Logger LOG = LoggerFactory.getLogger(DaemonLoggers.REDIRECTOR);

  private final Path status;
  private long nextStatus = System.nanoTime();

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
    // The table is the forwarding thread's: read it there, as a queued command.
    plane.snapshot(
        p -> {
          StringBuilder sb = new StringBuilder();
          java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
          try (java.io.PrintStream ps =
              new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8)) {
            Summary.print(ps, p);
          }
          sb.append(bytes.toString(java.nio.charset.StandardCharsets.UTF_8));
          StatusFile.write(status, sb, LOG);
        });
  }
}
