package net.hydranet.hostserver.replica;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.hostserver.VirtualHostDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VhostLauncherTest {
  @TempDir Path state;

  @Test
  void aKilledVirtualHostIsWithdrawn() throws Exception {
    // A SIGKILLed `hydranet vhost` never ran its clean-up: its file still lists the port, and the
    // redirectors would keep sending the origin's traffic to a host server with nobody behind it.
    // (No namespace or link of this origin exists here: their deletion fails and is only logged.)
    String origin = "198.19.255.254";
    Path published = VirtualHostDirectory.file(state, Ipv4Header.parseAddress(origin));
    Files.createDirectories(published.getParent());
    Files.writeString(published, "tcp 80\n");
    Process dead = new ProcessBuilder("true").start();
    assertTrue(dead.waitFor(5, TimeUnit.SECONDS));

    new VhostLauncher(List.of("hydranet"), state).killed(origin, dead);

    assertFalse(Files.exists(published), "still published");
  }
}
