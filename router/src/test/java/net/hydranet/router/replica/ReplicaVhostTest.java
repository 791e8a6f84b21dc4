package net.hydranet.router.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import net.hydranet.control.auth.Keys;
import net.hydranet.hostserver.VirtualHostDirectory;
import net.hydranet.hostserver.replica.Launcher;
import net.hydranet.hostserver.replica.Origin;
import net.hydranet.hostserver.replica.ReplicaService;
import net.hydranet.replica.Bundle;
import net.hydranet.replica.ReplicaClient;
import net.hydranet.replica.Resources;
import net.hydranet.router.cli.HostServerCommand;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A replica launched the way a host server launches it: {@code hydranet vhost} makes the origin's
 * network namespace and publishes the ports it listens on, through the confinement's chain of execs
 * (sh, prlimit, unshare, setpriv, java), and the replica is confined all the same.
 */
class ReplicaVhostTest {
  private static final Duration T = Duration.ofSeconds(30);

  @Test
  void shouldPublishTheConfinedReplicasPortsThroughTheVirtualHost() throws Exception {
    Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "needs root");
    KeyPair hostKey = Keys.generate();
    KeyPair originKey = Keys.generate();
    int origin = 0xc612fa00 | ThreadLocalRandom.current().nextInt(2, 250); // 198.18.250.x
    String dotted = "198.18.250." + (origin & 255);
    Path state = Files.createTempDirectory(Path.of("/run"), "hn-vhost-");
    Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwx--x--x"));
    String name = "vtest-" + Integer.toString(ThreadLocalRandom.current().nextInt(1 << 24), 36);
    ReplicaService service =
        new ReplicaService(
                new ReplicaService.Context()
                    .address(0x7f000001)
                    .port(0)
                    .key(hostKey.getPrivate())
                    .stateDir(state)
                    .killWaitMillis(3000)
                    .origins(
                        List.of(
                            new Origin(
                                0x7f000002,
                                originKey.getPublic(),
                                0xc612fa00,
                                24,
                                new Resources(256L << 20, 1000, 128, 1024),
                                1)))
                    .launcher(Launcher.vhost(HostServerCommand.hydranet(), state)))
            .start();
    try (ReplicaClient c =
        ReplicaClient.connect(
            new InetSocketAddress("127.0.0.1", service.port()),
            0x7f000002,
            originKey.getPrivate(),
            hostKey.getPublic(),
            (r, p) -> {},
            (r, s, t) -> {})) {
      byte[] jar = ReplicaNamespaces.bundle(dotted);
      ReplicaClient.Reply ok = c.install(name, jar, Bundle.sign(jar, originKey.getPrivate()), T);
      assertTrue(ok.ok(), ok.toString());
      Path published = VirtualHostDirectory.file(state, origin);
      String ports = "";
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
      while (!ports.contains("tcp 80") && System.nanoTime() < deadline) {
        Thread.sleep(200);
        // Its ports, without the line naming the vhost process.
        ports =
            Files.exists(published)
                ? Files.readString(published).replaceFirst("^pid \\d+\n", "")
                : "";
      }
      Path log = state.resolve("replicas").resolve(name + ".log");
      assertEquals(
          "tcp 80\n",
          ports,
          "the vhost publishes the confined replica's port; output: "
              + (Files.exists(log) ? Files.readString(log) : "none"));
      String running = c.status(name, T).get(0).state();
      assertEquals("running", running);
      ReplicaClient.Reply removed = c.remove(name, 0, T);
      assertTrue(removed.ok(), removed.toString());
      long gone = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (Files.exists(published) && System.nanoTime() < gone) {
        Thread.sleep(100);
      }
      // Empty content left behind would mean the vhost published after withdrawing; "tcp 80"
      // that it was killed and nobody withdrew for it.
      assertFalse(
          Files.exists(published),
          () -> "the vhost withdrew when the replica went; left: " + readQuietly(published));
    } finally {
      service.removeAll();
      service.close();
      deleteTree(state);
    }
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (var s = Files.walk(p)) {
      for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(x);
      }
    }
  }

  private static String readQuietly(Path f) {
    try {
      return "'" + Files.readString(f) + "'";
    } catch (IOException e) {
      return e.toString();
    }
  }
}
