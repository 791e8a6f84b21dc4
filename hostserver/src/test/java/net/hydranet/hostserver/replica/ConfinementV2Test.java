package net.hydranet.hostserver.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.hydranet.replica.Resources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Confinement on cgroup v2, against a fake cgroupfs root (a directory with the files the kernel
 * would show): the hierarchy detected, the delegated subtree chosen, controllers enabled down the
 * path, limits written in v2's files, the host server moved out of an inner node, and refusals that
 * say which controllers are missing.
 */
class ConfinementV2Test {
  private static final Resources GRANT = new Resources(64L << 20, 500, 32, 256);
  private static final String UNIT = "/system.slice/hydranet-hostserver.service";

  @TempDir Path root;

  private void v2Root(String controllers) throws IOException {
    Files.writeString(root.resolve("cgroup.controllers"), controllers + "\n");
    Files.writeString(root.resolve("cgroup.subtree_control"), "");
  }

  private Path delegatedUnit(String controllers, String procs) throws IOException {
    Path unit = root.resolve(UNIT.substring(1));
    Files.createDirectories(unit);
    Files.writeString(unit.resolve("cgroup.controllers"), controllers + "\n");
    Files.writeString(unit.resolve("cgroup.subtree_control"), "");
    Files.writeString(unit.resolve("cgroup.procs"), procs);
    return unit;
  }

  private Confinement confinement(String ownCgroup) {
    return new Confinement(root, ownCgroup, "hydranet", "web-1", 61000, root, GRANT);
  }

  @Test
  void shouldDetectTheHierarchy() throws IOException {
    IOException none = assertThrows(IOException.class, () -> Confinement.Hierarchy.at(root));
    assertTrue(none.getMessage().contains("neither cgroup v2"), none.getMessage());
    Files.createDirectories(root.resolve("memory"));
    assertEquals(Confinement.Hierarchy.V1, Confinement.Hierarchy.at(root));
    v2Root("cpu memory pids");
    assertEquals(Confinement.Hierarchy.V2, Confinement.Hierarchy.at(root));
    assertTrue(confinement("/").v2());
  }

  @Test
  void shouldWriteV2LimitsUnderTheRootWhenNotDelegated() throws IOException {
    v2Root("cpuset cpu io memory hugetlb pids");
    Confinement c = confinement("/");
    c.createGroups();
    Path g = root.resolve("hydranet/web-1");
    assertEquals(g, c.groupDir("memory"));
    assertEquals(g, c.groupDir("pids"), "one group for every controller");
    assertEquals(Long.toString(64L << 20), Files.readString(g.resolve("memory.max")));
    assertEquals("50000 100000", Files.readString(g.resolve("cpu.max")), "0.5 cpu");
    assertEquals("32", Files.readString(g.resolve("pids.max")));
    assertEquals("+memory +cpu +pids", Files.readString(root.resolve("cgroup.subtree_control")));
    assertEquals(
        "+memory +cpu +pids", Files.readString(root.resolve("hydranet/cgroup.subtree_control")));
  }

  @Test
  void shouldUseTheDelegatedUnitAndMoveItselfIntoALeaf() throws IOException {
    v2Root("cpu memory pids");
    Path unit = delegatedUnit("cpu memory pids", "4242\n");
    Confinement c = confinement(UNIT);
    c.createGroups();
    assertEquals(unit.resolve("hydranet/web-1"), c.groupDir("cpu"));
    assertEquals("4242", Files.readString(unit.resolve("hostserver/cgroup.procs")));
    assertEquals("+memory +cpu +pids", Files.readString(unit.resolve("cgroup.subtree_control")));
    assertEquals("", Files.readString(root.resolve("cgroup.subtree_control")), "root untouched");
    assertTrue(Files.exists(unit.resolve("hydranet/web-1/pids.max")));
  }

  @Test
  void shouldFindTheUnitAgainFromItsLeaf() throws IOException {
    v2Root("cpu memory pids");
    Path unit = delegatedUnit("cpu memory pids", "");
    assertEquals(unit, Confinement.v2Base(root, UNIT + "/hostserver"));
    assertEquals(root, Confinement.v2Base(root, "/user.slice/not-ours.scope"), "not delegated");
  }

  @Test
  void shouldNotEnableWhatIsAlreadyOn() throws IOException {
    v2Root("cpu memory pids");
    Files.writeString(root.resolve("cgroup.subtree_control"), "cpu memory pids\n");
    confinement("/").createGroups();
    assertEquals(
        "cpu memory pids\n",
        Files.readString(root.resolve("cgroup.subtree_control")),
        "nothing written when all three are on");
  }

  @Test
  void shouldRefuseAndSayWhichControllersAreMissing() throws IOException {
    v2Root("hugetlb");
    IOException e = assertThrows(IOException.class, () -> confinement("/").createGroups());
    assertTrue(e.getMessage().contains("offers only hugetlb, not memory cpu pids"), e.getMessage());
    assertTrue(e.getMessage().contains("bound to cgroup v1"), e.getMessage());
    assertFalse(Files.exists(root.resolve("hydranet")), "nothing made on a refusal");
  }

  @Test
  void shouldRefuseAnUndelegatedSliceAndSaySo() throws IOException {
    v2Root("cpu memory pids");
    delegatedUnit("memory", "1\n");
    IOException e = assertThrows(IOException.class, () -> confinement(UNIT).createGroups());
    assertTrue(e.getMessage().contains("not cpu pids"), e.getMessage());
    assertTrue(e.getMessage().contains("Delegate=yes"), e.getMessage());
  }

  @Test
  void shouldJoinOneGroupInTheCommandLine() throws IOException {
    v2Root("cpu memory pids");
    List<String> argv = confinement("/").argv(List.of("java", "Main"), root.resolve("c.sock"));
    long procs = argv.stream().filter(a -> a.endsWith("cgroup.procs")).count();
    assertEquals(1, procs, argv.toString());
    assertTrue(
        argv.stream().anyMatch(a -> a.endsWith("hydranet/web-1/cgroup.procs")), argv.toString());
  }

  @Test
  void shouldReadUsageFromV2Files() throws IOException {
    v2Root("cpu memory pids");
    Confinement c = confinement("/");
    c.createGroups();
    Path g = c.groupDir("memory");
    Files.writeString(g.resolve("memory.current"), "1048576\n");
    Files.writeString(g.resolve("cpu.stat"), "usage_usec 2500\nuser_usec 2000\n");
    Files.writeString(g.resolve("pids.current"), "3\n");
    Files.writeString(g.resolve("memory.events"), "low 0\nhigh 0\nmax 7\noom 1\noom_kill 1\n");
    Confinement.Usage u = c.usage();
    assertEquals(new Confinement.Usage(1048576, 64L << 20, 2_500_000, 3, 7, 1), u);
    assertEquals(1, c.oomKills());
  }

  @Test
  void shouldRemoveTheOneGroup() throws Exception {
    v2Root("cpu memory pids");
    Confinement c = confinement("/");
    c.createGroups();
    // A real cgroup's files vanish with rmdir; the fake's must go first.
    try (var files = Files.list(c.groupDir("memory"))) {
      for (Path f : files.toList()) {
        Files.delete(f);
      }
    }
    assertEquals("", c.removeGroups(1_000));
    assertFalse(Files.exists(c.groupDir("memory")));
  }
}
