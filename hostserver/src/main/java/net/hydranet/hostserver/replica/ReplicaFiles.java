package net.hydranet.hostserver.replica;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Where a replica's files are in the host server's state directory: {@code replicas/<name>/} (the
 * bundle and the channel's socket, the replica's own) and its output {@code replicas/<name>.log}
 * with the rotated {@code .log.1} (root's alone).
 */
record ReplicaFiles(Path root) {
  Path dir(String name) {
    return root.resolve(name);
  }

  Path log(String name) {
    return root.resolve(name + ".log");
  }

  Path previousLog(String name) {
    return root.resolve(name + ".log.1");
  }

  /** Deletes the replica's directory and its logs. */
  void delete(String name) throws IOException {
    deleteTree(dir(name));
    Files.deleteIfExists(log(name));
    Files.deleteIfExists(previousLog(name));
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
