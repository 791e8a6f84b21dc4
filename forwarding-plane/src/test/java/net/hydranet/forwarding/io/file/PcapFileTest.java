package net.hydranet.forwarding.io.file;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import net.hydranet.forwarding.io.FrameSource;
import net.hydranet.forwarding.io.FrameSource.FrameMeta;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pcap4j.core.PcapDumper;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.Pcaps;
import org.pcap4j.packet.namednumber.DataLinkType;

class PcapFileTest {
  private static final int INGRESS = 7;
  private static final long BASE_NANOS = 1_700_000_000_123_456_789L;

  @TempDir Path dir;

  /** Ethernet-looking frames of varied lengths: the file layer must not care what they hold. */
  private static List<byte[]> frames(int count, long seed) {
    Random random = new Random(seed);
    List<byte[]> frames = new ArrayList<>();
    int[] lengths = {60, 64, 1514, 98, 9018, 42, 1000};
    for (int i = 0; i < count; i++) {
      byte[] frame = new byte[lengths[i % lengths.length]];
      random.nextBytes(frame);
      frame[12] = 0x08; // EtherType IPv4, so tcpdump prints one line per frame
      frame[13] = 0x00;
      frames.add(frame);
    }
    return frames;
  }

  private Path write(String name, List<byte[]> frames) {
    Path file = dir.resolve(name);
    UnsafeBuffer buffer = new UnsafeBuffer(new byte[16384]);
    try (PcapFileTxPort port = new PcapFileTxPort(file)) {
      for (int i = 0; i < frames.size(); i++) {
        byte[] frame = frames.get(i);
        // Write at an offset to check the port honours it.
        buffer.putBytes(100, frame);
        assertTrue(port.send(buffer, 100, frame.length, BASE_NANOS + i * 1_000_001L));
      }
      port.flush();
      assertEquals(frames.size(), port.written());
    }
    return file;
  }

  private static List<byte[]> readAll(FrameSource source, List<Long> timestamps) {
    UnsafeBuffer buffer = new UnsafeBuffer(new byte[16384]);
    FrameMeta meta = new FrameMeta();
    List<byte[]> frames = new ArrayList<>();
    for (int guard = 0; guard < 10_000; guard++) {
      int length = source.poll(buffer, 16, buffer.capacity() - 16, meta);
      if (length == FrameSource.END) {
        return frames;
      }
      assertTrue(length > 0, "offline source never returns NONE for a fitting frame");
      byte[] frame = new byte[length];
      buffer.getBytes(16, frame);
      frames.add(frame);
      timestamps.add(meta.timestampNanos);
      assertEquals(INGRESS, meta.ingress);
    }
    throw new AssertionError("source never reached END");
  }

  @Test
  void shouldReadBackWrittenFramesByteForByteWithNanosecondTimestamps() {
    List<byte[]> frames = frames(20, 1);
    Path file = write("rt.pcap", frames);

    List<Long> timestamps = new ArrayList<>();
    try (PcapFileSource source = new PcapFileSource(file, INGRESS)) {
      List<byte[]> read = readAll(source, timestamps);
      assertEquals(frames.size(), read.size());
      for (int i = 0; i < frames.size(); i++) {
        assertArrayEquals(frames.get(i), read.get(i), "frame " + i);
        assertEquals(BASE_NANOS + i * 1_000_001L, timestamps.get(i), "timestamp " + i);
      }
      assertEquals(frames.size(), source.records());
      assertEquals(0, source.truncatedRecords());
      // END is sticky.
      assertEquals(
          FrameSource.END, source.poll(new UnsafeBuffer(new byte[64]), 0, 64, new FrameMeta()));
    }
  }

  @Test
  void shouldSkipFramesLongerThanCapacityWithoutTruncating() {
    List<byte[]> frames = List.of(new byte[60], new byte[1514], new byte[70]);
    Path file = write("big.pcap", frames);
    UnsafeBuffer buffer = new UnsafeBuffer(new byte[2048]);
    FrameMeta meta = new FrameMeta();
    try (PcapFileSource source = new PcapFileSource(file, INGRESS)) {
      assertEquals(60, source.poll(buffer, 0, 1000, meta));
      assertEquals(FrameSource.NONE, source.poll(buffer, 0, 1000, meta));
      assertEquals(70, source.poll(buffer, 0, 1000, meta));
      assertEquals(FrameSource.END, source.poll(buffer, 0, 1000, meta));
      assertEquals(1, source.oversizeSkipped());
    }
  }

  @Test
  void shouldRefuseOversizeFrameOnSend() {
    Path file = dir.resolve("refuse.pcap");
    try (PcapFileTxPort port = new PcapFileTxPort(file)) {
      UnsafeBuffer buffer = new UnsafeBuffer(new byte[PcapFileTxPort.SNAP_LENGTH + 1]);
      assertFalse(port.send(buffer, 0, PcapFileTxPort.SNAP_LENGTH + 1, 0));
      assertEquals(1, port.rejected());
    }
  }

  @Test
  void shouldReportTruncatedFileWithFileAndRecordNumber() throws IOException {
    List<byte[]> frames = frames(5, 2);
    Path file = write("cut.pcap", frames);
    // 24-byte file header, then 16-byte record headers: cut in the middle of the 4th frame.
    long cut = 24;
    for (int i = 0; i < 3; i++) {
      cut += 16 + frames.get(i).length;
    }
    cut += 16 + 10;
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.truncate(cut);
    }

    UnsafeBuffer buffer = new UnsafeBuffer(new byte[16384]);
    FrameMeta meta = new FrameMeta();
    try (PcapFileSource source = new PcapFileSource(file, INGRESS)) {
      for (int i = 0; i < 3; i++) {
        assertEquals(frames.get(i).length, source.poll(buffer, 0, buffer.capacity(), meta));
      }
      PcapFileException e =
          assertThrows(
              PcapFileException.class, () -> source.poll(buffer, 0, buffer.capacity(), meta));
      assertEquals(4, e.record());
      assertTrue(e.getMessage().startsWith(file + ": record 4: "), e.getMessage());
      assertTrue(e.getMessage().contains("truncated"), e.getMessage());
      assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
      assertEquals(FrameSource.END, source.poll(buffer, 0, buffer.capacity(), meta));
    }
  }

  @Test
  void shouldReportNonPcapFileAtOpen() throws IOException {
    Path file = dir.resolve("notes.txt");
    Files.writeString(file, "this is not a capture file, just some text\n".repeat(4));
    PcapFileException e =
        assertThrows(PcapFileException.class, () -> new PcapFileSource(file, INGRESS));
    assertEquals(0, e.record());
    assertTrue(e.getMessage().startsWith(file + ": file header: "), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
  }

  @Test
  void shouldReportMissingFile() {
    Path file = dir.resolve("absent.pcap");
    PcapFileException e =
        assertThrows(PcapFileException.class, () -> new PcapFileSource(file, INGRESS));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
  }

  @Test
  void shouldRefuseNonEthernetLinkTypeNamingFileAndType() throws Exception {
    Path file = dir.resolve("raw.pcap");
    PcapHandle dead = Pcaps.openDead(DataLinkType.LINUX_SLL, 65536);
    try (dead;
        PcapDumper dumper = dead.dumpOpen(file.toString())) {
      dumper.dumpRaw(new byte[40], PcapFileTxPort.timestamp(BASE_NANOS));
    }
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new PcapFileSource(file, INGRESS));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("link type 113"), e.getMessage());
  }

  @Test
  void shouldBeReadableByTcpdump() throws Exception {
    List<byte[]> frames = frames(9, 3);
    Path file = write("tcpdump.pcap", frames);
    Assumptions.assumeTrue(onPath("tcpdump"), "tcpdump not installed");
    Process process =
        new ProcessBuilder("tcpdump", "-r", file.toString(), "-nn")
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(30, TimeUnit.SECONDS), "tcpdump timed out");
    assertEquals(0, process.exitValue(), out);
    assertEquals(frames.size(), out.lines().count(), out);
  }

  @Test
  void shouldReadPcapng() throws Exception {
    List<byte[]> frames = frames(6, 4);
    Path file = write("ng-src.pcap", frames);
    Assumptions.assumeTrue(onPath("editcap"), "editcap (tshark) not installed");
    Path ng = dir.resolve("ng.pcapng");
    Process process =
        new ProcessBuilder("editcap", "-F", "pcapng", file.toString(), ng.toString())
            .redirectErrorStream(true)
            .start();
    process.getInputStream().readAllBytes();
    assertTrue(process.waitFor(30, TimeUnit.SECONDS), "editcap timed out");
    assertEquals(0, process.exitValue());

    List<Long> timestamps = new ArrayList<>();
    try (PcapFileSource source = new PcapFileSource(ng, INGRESS)) {
      List<byte[]> read = readAll(source, timestamps);
      assertEquals(frames.size(), read.size());
      for (int i = 0; i < frames.size(); i++) {
        assertArrayEquals(frames.get(i), read.get(i), "frame " + i);
        assertEquals(BASE_NANOS + i * 1_000_001L, timestamps.get(i), "timestamp " + i);
      }
    }
  }

  @Test
  void shouldConvertNanosToTimestampAndBack() {
    for (long nanos : new long[] {0, 1, 999_999_999, 1_000_000_000, BASE_NANOS, -1}) {
      assertEquals(nanos, PcapFileSource.nanos(PcapFileTxPort.timestamp(nanos)));
    }
  }

  static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }
}
