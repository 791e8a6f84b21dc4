package net.hydranet.router.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import net.hydranet.router.config.ConfigException;
import net.hydranet.router.metrics.ConfigReloads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGHUP for a daemon that applies no config change live (the host server, the manager): the file
 * is checked again; an invalid one is refused and counted, a valid one that differs from the one
 * the daemon started with is logged and counted as needing a restart. Nothing is half-applied.
 */
final class UnappliedReload {
  private static final Logger LOG = LoggerFactory.getLogger(UnappliedReload.class);

  /** Loads and validates the file; throws what the loader throws. */
  interface Loader {
    void load(Path file) throws ConfigException;
  }

  private final Path file;
  private final Loader loader;
  private final ConfigReloads reloads;
  private final byte[] running;

  UnappliedReload(Path file, Loader loader, ConfigReloads reloads) {
    this.file = file;
    this.loader = loader;
    this.reloads = reloads;
    this.running = file == null ? new byte[0] : read(file);
  }

  void reload() {
    if (file == null) {
      LOG.info("SIGHUP: no config file to reload");
      reloads.succeeded();
      return;
    }
    LOG.info("reloading {} (SIGHUP)", file);
    try {
      loader.load(file);
    } catch (ConfigException e) {
      reloads.failed();
      LOG.atError()
          .addKeyValue("event", "config-invalid")
          .log("config is not valid, keeping the running one: {}", e.getMessage());
      return;
    }
    if (!Arrays.equals(running, read(file))) {
      reloads.restartNeeded(List.of(file.getFileName().toString()));
      LOG.atWarn()
          .addKeyValue("event", "config-restart-needed")
          .addKeyValue("sections", file.getFileName().toString())
          .log("{} changed and is valid: it applies only after a restart", file);
    }
    reloads.succeeded();
  }

  private static byte[] read(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      return new byte[0];
    }
  }
}
