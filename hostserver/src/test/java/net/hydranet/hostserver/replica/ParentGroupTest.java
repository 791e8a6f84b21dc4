package net.hydranet.hostserver.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import net.hydranet.control.auth.Keys;
import net.hydranet.replica.Resources;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The host server removes its own empty parent cgroup on an orderly stop and the empty replica
 * groups an earlier run left in it at start, and nothing that is not HydraNet's: first on the
 * kernel's own cgroup v1 hierarchies (root), where "empty" is the kernel's to say, then on a tree
 * in a temporary directory, where a group with a file in it stands for one that is busy.
 */
class ParentGroupTest {
  private static final Path CGROUP = Path.of("/sys/fs/cgroup");
  private static final List<String> V1 = List.of("memory", "cpu", "pids");

  @TempDir Path tmp;
  private final KeyPair hostKey = Keys.generate();
  private final KeyPair originKey = Keys.generate();

  @Test
  void shouldRemoveItsEmptyParentGroupOnStopAndLeftoversAtStartOnTheKernelsCgroups()
      throws Exception {
    Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "cgroups need root");
    Assumptions.assumeTrue(Files.exists(CGROUP.resolve("memory/memory.limit_in_bytes")), "v1");
    String parent =
        "hydranet-pgtest-" + Integer.toString(ThreadLocalRandom.current().nextInt(), 36);
    try {
      // A run that ended without its state directory left an empty replica group.
      for (String c : V1) {
        Files.createDirectories(CGROUP.resolve(c).resolve(parent).resolve("web-9"));
      }
      ReplicaService service = service(CGROUP, parent);
      for (String c : V1) {
        assertFalse(Files.exists(CGROUP.resolve(c).resolve(parent)), c + ": leftovers at start");
      }
      // A replica's groups make the parent again; the replica's removal leaves it empty.
      Confinement replica =
          new Confinement(
              CGROUP, parent, "web-1", 61000, tmp, new Resources(32L << 20, 250, 16, 64));
      replica.createGroups();
      assertTrue(Files.isDirectory(CGROUP.resolve("memory").resolve(parent).resolve("web-1")));
      assertEquals("", replica.removeGroups(5_000));
      for (String c : V1) {
        assertTrue(Files.isDirectory(CGROUP.resolve(c).resolve(parent)), c);
      }
      service.removeAll();
      service.close();
      for (String c : V1) {
        assertFalse(Files.exists(CGROUP.resolve(c).resolve(parent)), c + ": the parent on stop");
      }
    } finally {
      for (String c : List.of("memory", "cpu", "cpuacct", "pids")) {
        Path p = CGROUP.resolve(c).resolve(parent);
        Files.deleteIfExists(p.resolve("web-1"));
        Files.deleteIfExists(p.resolve("web-9"));
        Files.deleteIfExists(p);
      }
    }
  }

  @Test
  void shouldLeaveBusyGroupsAndGroupsNotNamedAsReplicas() throws Exception {
    Path root = v1Tree();
    Path parent = root.resolve("memory/hydranet-hs1");
    Files.createDirectories(parent.resolve("web-9")); // an empty replica group: ours, removed
    Files.createDirectories(parent.resolve("busy-1"));
    Files.writeString(parent.resolve("busy-1/cgroup.procs"), "4242\n"); // not empty: kept
    Files.createDirectories(parent.resolve("Ops.scope")); // not a replica's name: kept
    ReplicaService service = service(root, "hydranet-hs1");
    assertFalse(Files.exists(parent.resolve("web-9")));
    assertTrue(Files.isDirectory(parent.resolve("busy-1")));
    assertTrue(Files.isDirectory(parent.resolve("Ops.scope")));
    service.removeAll();
    service.close();
    assertTrue(Files.isDirectory(parent), "a parent that is not empty stays");
    // Another host server's parent and a group of the machine's are never looked at.
    assertTrue(Files.isDirectory(root.resolve("memory/hydranet-hs2/web-1")));
    assertTrue(Files.isDirectory(root.resolve("memory/system.slice")));
  }

  @Test
  void shouldRemoveAParentOfAnotherNameOnlyWhenItMadeIt() throws Exception {
    Path root = v1Tree();
    Path ops = root.resolve("memory/ops-replicas");
    Files.createDirectories(ops); // the operator's, there before the host server
    ReplicaService service = service(root, "ops-replicas");
    assertTrue(Files.isDirectory(ops), "an empty parent of another name stays at start");
    service.removeAll();
    service.close();
    assertTrue(Files.isDirectory(ops), "and on stop: the operator made it");

    Files.delete(ops);
    service = service(root, "ops-replicas");
    Files.createDirectories(ops.resolve("web-1")); // as a replica's groups make it
    Files.delete(ops.resolve("web-1")); // as the replica's removal leaves it
    service.removeAll();
    service.close();
    assertFalse(Files.exists(ops), "this host server made it: removed on stop");
  }

  /** A cgroup v1 tree: memory, cpu, pids; another host server's group and the machine's. */
  private Path v1Tree() throws IOException {
    Path root = tmp.resolve("cgroup");
    for (String c : V1) {
      Files.createDirectories(root.resolve(c).resolve("hydranet-hs2/web-1"));
      Files.createDirectories(root.resolve(c).resolve("system.slice"));
    }
    return root;
  }

  private ReplicaService service(Path cgroupRoot, String parent) throws IOException {
    return new ReplicaService(
            new ReplicaService.Context()
                .address(0x7f000001)
                .port(0)
                .key(hostKey.getPrivate())
                .stateDir(Files.createTempDirectory(tmp, "state"))
                .cgroupRoot(cgroupRoot)
                .cgroupParent(parent)
                .origins(
                    List.of(
                        new Origin(
                            0x7f000002,
                            originKey.getPublic(),
                            0xc6120200,
                            24,
                            new Resources(128L << 20, 1000, 64, 1024),
                            1))))
        .start();
  }
}
