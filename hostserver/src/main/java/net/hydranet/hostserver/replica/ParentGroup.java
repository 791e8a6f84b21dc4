package net.hydranet.hostserver.replica;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The parent cgroup a host server makes its replicas' groups in ({@code replicas.cgroupParent}),
 * and its removal: {@link Confinement} makes {@code <parent>/<name>} for each replica and removes
 * {@code <name>} with the replica, but the parent stayed, so every host server that ever ran left
 * an empty {@code hydranet-*} group behind on each hierarchy.
 *
 * <p>Only HydraNet's groups are removed, and only empty ones (the kernel refuses to remove a group
 * that holds a process or a group): the parent when this host server made it (it was not there when
 * the service started) or when its name is HydraNet's ({@code hydranet}, {@code hydranet-…}, which
 * the default and the test networks use); in the parent, only groups named as replicas are. A
 * parent the operator made under another name, with limits of its own, is left alone.
 */
final class ParentGroup {
  /** The replicas' names (REPLICAS.md): the only children of the parent that are ours. */
  static final Pattern REPLICA_NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");

  /** The v1 hierarchies a replica's groups may be in (cpuacct where mounted apart from cpu). */
  private static final List<String> V1_CONTROLLERS = List.of("memory", "cpu", "cpuacct", "pids");

  private final Path cgroupRoot;
  private final String ownCgroup;
  private final String parent;
  private boolean madeHere;

  /**
   * @param ownCgroup this process's cgroup v2 path (for the delegated base, as {@link Confinement})
   */
  ParentGroup(Path cgroupRoot, String ownCgroup, String parent) {
    this.cgroupRoot = cgroupRoot;
    this.ownCgroup = ownCgroup;
    this.parent = parent;
  }

  /** Whether {@code parent} is a name HydraNet gives its parent groups. */
  static boolean hydranetName(String parent) {
    return parent.equals("hydranet") || parent.startsWith("hydranet-");
  }

  /** The parent's directory on each hierarchy where it exists. */
  List<Path> dirs() {
    List<Path> out = new ArrayList<>();
    if (Files.exists(cgroupRoot.resolve("cgroup.controllers"))) {
      Path p = Confinement.v2Base(cgroupRoot, ownCgroup).resolve(parent);
      if (Files.isDirectory(p)) {
        out.add(p);
      }
      return out;
    }
    for (String c : V1_CONTROLLERS) {
      Path p = cgroupRoot.resolve(c).resolve(parent);
      if (Files.isDirectory(p) && !containsSame(out, p)) {
        out.add(p);
      }
    }
    return out;
  }

  /**
   * At start, after the replicas named in the state directory are removed: removes the empty groups
   * named as replicas in the parent (a run whose state directory is gone left them), then the
   * parent itself if it is empty and HydraNet's by name. Remembers whether the parent is absent
   * now: if it is, a replica's groups will make it, and {@link #removeOnStop} removes it whatever
   * its name. Returns what was removed.
   */
  List<Path> removeLeftovers() {
    List<Path> removed = new ArrayList<>();
    for (Path dir : dirs()) {
      for (Path child : children(dir)) {
        if (REPLICA_NAME.matcher(child.getFileName().toString()).matches() && rmdir(child)) {
          removed.add(child);
        }
      }
      if (hydranetName(parent) && rmdir(dir)) {
        removed.add(dir);
      }
    }
    madeHere = dirs().isEmpty();
    return removed;
  }

  /**
   * On an orderly stop, after every replica is removed: removes the parent where it is empty, if
   * this host server made it or its name is HydraNet's. Returns what was removed.
   */
  List<Path> removeOnStop() {
    List<Path> removed = new ArrayList<>();
    if (!madeHere && !hydranetName(parent)) {
      return removed;
    }
    for (Path dir : dirs()) {
      if (rmdir(dir)) {
        removed.add(dir);
      }
    }
    return removed;
  }

  /** The directories in {@code dir} (a cgroup's child groups; its control files are files). */
  private static List<Path> children(Path dir) {
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, Files::isDirectory)) {
      s.forEach(out::add);
    } catch (IOException e) {
      ReplicaService.LOG.debug("cannot list {}: {}", dir, e.getMessage());
    }
    return out;
  }

  /**
   * rmdir: on a cgroup file system it removes a group with no process and no child group (its
   * control files go with it) and fails otherwise, which is the test of "empty" wanted here.
   */
  private static boolean rmdir(Path dir) {
    try {
      Files.delete(dir);
      return true;
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException e) {
      ReplicaService.LOG.debug("cgroup {} kept: {}", dir, e.toString());
      return false;
    }
  }

  /** Whether {@code p} is already in {@code dirs} (cpuacct co-mounted with cpu: the same group). */
  private static boolean containsSame(List<Path> dirs, Path p) {
    for (Path d : dirs) {
      try {
        if (Files.isSameFile(d, p)) {
          return true;
        }
      } catch (IOException e) {
        // gone meanwhile: not the same
      }
    }
    return false;
  }
}
