package net.hydranet.harness.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import net.hydranet.forwarding.io.FrameSource;
import net.hydranet.forwarding.io.file.PcapFileException;
import net.hydranet.forwarding.io.file.PcapFileSource;
import net.hydranet.forwarding.pipeline.FrameSlot;
import net.hydranet.router.config.ConfigException;
import net.hydranet.router.config.ConfigLoader;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Fuzzes the two file parsers an operator feeds the router: the pcap/pcapng reader behind {@code
 * hydranet replay} and the YAML config loader. Bad files must fail in one line that names the file,
 * with the parser's own exception type, and never hang.
 */
class ParserFuzzTest {
  private static final String CONFIG_NAME = "fuzz.yaml";

  /** Any bytes as a capture file: read every record. */
  @FuzzTest
  void pcapFile(FuzzedDataProvider data) throws IOException {
    byte[] bytes = data.consumeRemainingAsBytes();
    Path file = Files.createTempFile("hydranet-fuzz", ".pcap");
    try {
      Files.write(file, bytes);
      readAll(file);
    } finally {
      Files.deleteIfExists(file);
    }
  }

  /** Any text as the YAML config file. */
  @FuzzTest
  void configFile(FuzzedDataProvider data) {
    String text = data.consumeRemainingAsString();
    try {
      ConfigLoader.parse(CONFIG_NAME, text, null);
    } catch (ConfigException e) {
      requireOneLine(e.getMessage(), CONFIG_NAME + ":");
    }
  }

  static void readAll(Path file) {
    UnsafeBuffer buffer = new UnsafeBuffer(new byte[FrameSlot.MAX_FRAME]);
    FrameSource.FrameMeta meta = new FrameSource.FrameMeta();
    try (PcapFileSource source = new PcapFileSource(file, 0)) {
      // Every poll either ends, skips or returns a record: the record count bounds the loop.
      long polls = 0;
      while (source.poll(buffer, 0, buffer.capacity(), meta) != FrameSource.END) {
        if (++polls > 1_000_000) {
          throw new AssertionError("no end after a million polls");
        }
      }
    } catch (PcapFileException | IllegalArgumentException e) {
      requireOneLine(e.getMessage(), file.toString());
    } catch (UncheckedIOException e) {
      throw new AssertionError(e);
    }
  }

  private static void requireOneLine(String message, String prefix) {
    if (message == null || !message.startsWith(prefix) || message.contains("\n")) {
      throw new AssertionError("not one line starting with " + prefix + ": " + message);
    }
  }
}
