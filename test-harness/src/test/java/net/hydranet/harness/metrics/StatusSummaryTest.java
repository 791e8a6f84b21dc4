package net.hydranet.harness.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.router.daemon.redirector.StatusWriter;
import net.hydranet.router.metrics.PlaneSnapshot;
import net.hydranet.router.status.Summary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code --status} file's text, now made on the main thread from a snapshot of the table: the
 * same text as the summary read on the forwarding thread ({@code ctl}, replay), IPv4 and IPv6
 * services alike.
 */
class StatusSummaryTest {
  @TempDir Path dir;

  @Test
  void shouldPrintFromASnapshotWhatTheForwardingThreadPrints() throws Exception {
    ForwardingPlane plane = new RedirectorUnderTest().plane();
    String fromSnapshot = text(out -> Summary.print(out, PlaneSnapshot.read(plane, false), plane));
    String onThePlane = text(out -> Summary.print(out, plane));

    // What the summary read on the forwarding thread printed before (main at e322586, this plane).
    assertTrue(
        fromSnapshot.startsWith(
            "redirector table (3 services):\n"
                + "  198.18.2.10:80/tcp -> 198.18.3.2 w=1   packets=0 bytes=0\n"
                + "  198.18.2.10:53/udp -> 198.18.3.2 w=1   packets=0 bytes=0\n"
                + "  [2001:2:0:2::10]:80/tcp -> 2001:2:0:3::2 w=1   packets=0 bytes=0\n"
                + "counters (non-zero):\n"),
        fromSnapshot);
    assertEquals(onThePlane, fromSnapshot);
  }

  @Test
  void shouldWriteTheStatusFileFromTheMainThread() throws Exception {
    ForwardingPlane plane = new RedirectorUnderTest().plane();
    Path status = dir.resolve("redirector.status");
    new StatusWriter(status).poll(plane);

    assertEquals(text(out -> Summary.print(out, plane)), Files.readString(status));
  }

  private interface Printer {
    void print(PrintStream out);
  }

  private static String text(Printer printer) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      printer.print(out);
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
