package net.hydranet.hostserver.replica;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A replica's output stays within its bound on disk, and its last words are kept. */
class ReplicaLogTest {
  @TempDir Path dir;

  private static byte[] lines(int count) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < count; i++) {
      b.append("line ").append(i).append(" of a replica that will not stop talking\n");
    }
    return b.toString().getBytes(StandardCharsets.US_ASCII);
  }

  @Test
  void shouldKeepAFloodWithinTheBoundAndEndWithTheLastBytesWritten() throws Exception {
    byte[] flood = lines(20_000); // about 1 MB
    Path file = dir.resolve("web-1.log");
    ReplicaLog log = ReplicaLog.follow("web-1", new ByteArrayInputStream(flood), file, 10_000);
    assertTrue(log.awaitEnd(10_000), "the copy ended with the input");

    Path previous = dir.resolve("web-1.log.1");
    long onDisk = Files.size(file) + Files.size(previous);
    assertTrue(onDisk <= 10_000, "two files hold " + onDisk + " bytes, bound 10000");
    assertTrue(log.rotations() >= flood.length / 5_000 - 1, "rotated " + log.rotations());
    // Nothing between the rotated file and the current one was lost: together they are the end
    // of what the replica wrote, byte for byte.
    byte[] kept = concat(Files.readAllBytes(previous), Files.readAllBytes(file));
    byte[] end = Arrays.copyOfRange(flood, flood.length - kept.length, flood.length);
    assertArrayEquals(end, kept);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
  }

  @Test
  void shouldWriteLittleOutputAsItIsWithoutRotating() throws Exception {
    byte[] words = "started\nserving 198.18.2.10:80\n".getBytes(StandardCharsets.US_ASCII);
    Path file = dir.resolve("web-2.log");
    ReplicaLog log = ReplicaLog.follow("web-2", new ByteArrayInputStream(words), file, 8L << 20);
    assertTrue(log.awaitEnd(10_000));
    assertArrayEquals(words, Files.readAllBytes(file));
    assertFalse(Files.exists(dir.resolve("web-2.log.1")));
    assertEquals(0, log.rotations());
  }

  @Test
  void shouldKeepReadingWhenTheLogCannotBeWritten() throws Exception {
    // The log's directory is gone (or the disk is full): the replica must still be able to write
    // its output, so the host server reads it to the end and drops it.
    Path file = dir.resolve("gone").resolve("web-3.log");
    ByteArrayInputStream output = new ByteArrayInputStream(lines(5_000));
    ReplicaLog log = ReplicaLog.follow("web-3", output, file, 8L << 20);
    assertTrue(log.awaitEnd(10_000), "the copy ended");
    assertEquals(0, output.available(), "every byte the replica wrote was read");
    assertFalse(Files.exists(file));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
