package net.hydranet.router.daemon.hostserver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A network namespace by what the kernel knows it by: the device and inode of its nsfs file (what
 * {@code stat} of {@code /proc/PID/ns/net} or of a bind-mounted {@code /run/netns/NAME} says). Two
 * paths name the same namespace exactly when their ids are equal; a namespace made again under the
 * same name gets a new inode.
 */
record NamespaceId(long dev, long ino) {
  /** The device of nsfs, read once: a path on any other device is no namespace (an empty file). */
  private static final long NSFS = nsfs();

  /**
   * The namespace at {@code path}, or null if there is none (no such file, or a plain file: a
   * {@code /run/netns} name whose bind mount this mount namespace does not see). One stat.
   */
  static NamespaceId of(Path path) {
    try {
      Map<String, Object> a = Files.readAttributes(path, "unix:dev,ino");
      long dev = ((Number) a.get("dev")).longValue();
      if (dev != NSFS || NSFS < 0) {
        return null;
      }
      return new NamespaceId(dev, ((Number) a.get("ino")).longValue());
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return null;
    }
  }

  private static long nsfs() {
    try {
      return ((Number) Files.getAttribute(Path.of("/proc/self/ns/net"), "unix:dev")).longValue();
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return -1;
    }
  }

  @Override
  public String toString() {
    return "net:[" + ino + "]";
  }
}
