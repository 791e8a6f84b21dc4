package net.hydranet.router.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VhostCommandTest {
  @TempDir Path dir;

  @Test
  void publishesThePortsItServes() throws Exception {
    Path published = dir.resolve("c6120210.vhost");
    AtomicBoolean cleaned = new AtomicBoolean();

    assertTrue(
        VhostCommand.publish(published, new TreeSet<>(List.of("tcp 80", "udp 53")), cleaned));

    assertEquals("tcp 80\nudp 53\n", Files.readString(published));
    assertFalse(Files.exists(dir.resolve("c6120210.vhost.tmp")), "no temporary file left");
  }

  @Test
  void namesItsProcessFirstWhenGivenOne() throws Exception {
    Path published = dir.resolve("c6120210.vhost");

    assertTrue(
        VhostCommand.publish(
            published, 4321, new TreeSet<>(List.of("tcp 80")), new AtomicBoolean()));

    assertEquals("pid 4321\ntcp 80\n", Files.readString(published));
  }

  @Test
  void aChangeSeenAfterTheWithdrawalIsNotPublished() throws Exception {
    // The shutdown hook withdrew (flag set, file deleted) while the watch loop was noticing the
    // replica's socket close: publishing that change would bring the origin back with no ports.
    Path published = dir.resolve("c6120210.vhost");
    AtomicBoolean cleaned = new AtomicBoolean();
    VhostCommand.publish(published, new TreeSet<>(List.of("tcp 80")), cleaned);
    cleaned.set(true);
    Files.delete(published);

    assertFalse(VhostCommand.publish(published, new TreeSet<>(), cleaned));

    assertFalse(Files.exists(published), "withdrawn virtual host published again");
  }
}
