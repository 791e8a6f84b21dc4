package net.hydranet.router.daemon;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.slf4j.Logger;

/** A daemon's {@code --status} file, replaced whole (written beside it, then moved over it). */
public final class StatusFile {
  private StatusFile() {}

  /** Writes {@code text} to {@code status}; a failure is logged on {@code log} and skipped. */
  public static void write(Path status, CharSequence text, Logger log) {
    try {
      Path tmp = status.resolveSibling(status.getFileName() + ".tmp");
      Files.writeString(tmp, text);
      Files.move(tmp, status, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      log.warn("cannot write status file {}: {}", status, e.getMessage());
    }
  }
}
