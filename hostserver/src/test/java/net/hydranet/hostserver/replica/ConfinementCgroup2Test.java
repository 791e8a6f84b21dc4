package net.hydranet.hostserver.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import net.hydranet.replica.Resources;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Confinement against the kernel's own cgroup2 (root): a fresh cgroup2 mount is detected as v2, and
 * what is done with it depends on which controllers the kernel lets v2 have. Where memory, cpu and
 * pids are free (v2-only distributions), a real group gets real limits and a real process; where
 * they are bound to v1 hierarchies (this development machine: the fresh mount offers only hugetlb),
 * starting a replica is refused, the reason names the missing controllers, and nothing is made.
 */
class ConfinementCgroup2Test {
  @TempDir Path mount;

  @Test
  void shouldConfineOnRealCgroup2OrRefuseAndSayWhy() throws Exception {
    Assumptions.assumeTrue(
        "root".equals(System.getProperty("user.name")), "mounting cgroup2 needs root");
    Assumptions.assumeTrue(
        Files.readString(Path.of("/proc/filesystems")).contains("cgroup2"), "no cgroup2");
    Assumptions.assumeTrue(run("mount", "-t", "cgroup2", "none", mount.toString()) == 0);
    String name = "h6-v2test-" + Integer.toString(ThreadLocalRandom.current().nextInt(1 << 24), 36);
    Confinement c =
        new Confinement(
            mount, "/", name, "web-1", 61000, mount, new Resources(32L << 20, 250, 16, 64));
    try {
      assertEquals(Confinement.Hierarchy.V2, Confinement.Hierarchy.at(mount));
      List<String> offered =
          List.of(Files.readString(mount.resolve("cgroup.controllers")).strip().split("\\s+"));
      if (!offered.containsAll(Confinement.V2_CONTROLLERS)) {
        IOException e = assertThrows(IOException.class, c::createGroups);
        assertTrue(e.getMessage().startsWith("cgroup v2 at " + mount + " offers"), e.getMessage());
        for (String missing : Confinement.V2_CONTROLLERS) {
          if (!offered.contains(missing)) {
            assertTrue(e.getMessage().contains(missing), e.getMessage());
          }
        }
        assertFalse(Files.exists(mount.resolve(name)), "nothing made on a refusal");
        return;
      }
      c.createGroups();
      Path g = c.groupDir("memory");
      assertEquals(Long.toString(32L << 20), Files.readString(g.resolve("memory.max")).strip());
      assertEquals("25000 100000", Files.readString(g.resolve("cpu.max")).strip());
      assertEquals("16", Files.readString(g.resolve("pids.max")).strip());
      Process sleeper = new ProcessBuilder("sleep", "30").start();
      try {
        Files.writeString(g.resolve("cgroup.procs"), Long.toString(sleeper.pid()));
        assertEquals(List.of(sleeper.pid()), c.processes());
        assertEquals(1, c.usage().pids());
      } finally {
        sleeper.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
      assertEquals("", c.removeGroups(5_000));
    } finally {
      Path parent = mount.resolve(name);
      if (Files.isDirectory(parent)) {
        Files.deleteIfExists(parent.resolve("web-1"));
        Files.deleteIfExists(parent);
      }
      run("umount", mount.toString());
    }
  }

  private static int run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
  }
}
