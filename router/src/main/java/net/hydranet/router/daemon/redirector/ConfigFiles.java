package net.hydranet.router.daemon.redirector;

import java.nio.file.Path;
import net.hydranet.router.config.ConfigException;
import net.hydranet.router.config.ConfigLoader;
import net.hydranet.router.config.ControlConfig;
import net.hydranet.router.config.RedirectorConfig;
import net.hydranet.router.daemon.ControlFile;
import net.hydranet.router.error.UserError;

/**
 * The redirector's {@code --config} (with {@code --pipelines} over its limits) and {@code
 * --control} files: loaded and checked, or refused through UserError (exit 2).
 */
public final class ConfigFiles {
  private final Path config;
  private final Path control;
  private final Integer pipelines;

  public ConfigFiles(Path config, Path control, Integer pipelines) {
    this.config = config;
    this.control = control;
    this.pipelines = pipelines;
  }

  /** {@code --check}: one line, exit 0; or the first problem through UserError, exit 2. */
  public int check() {
    RedirectorConfig cfg = load();
    loadControl();
    System.out.printf(
        "%s: valid (%d interfaces, %d routes, %d redirects%s%s)%n",
        config,
        cfg.context().interfaces().size(),
        cfg.routes().size(),
        cfg.redirects().size(),
        cfg.context().addresses6().isEmpty()
            ? ""
            : "; IPv6: "
                + cfg.context().addresses6().size()
                + " addresses, "
                + cfg.routes6().size()
                + " routes, "
                + cfg.redirects6().size()
                + " redirects",
        control == null ? "" : "; control " + control + " valid");
    return 0;
  }

  public ControlConfig loadControl() {
    return ControlFile.load(control);
  }

  public RedirectorConfig load() {
    RedirectorConfig cfg;
    try {
      cfg = ConfigLoader.load(config, KernelInterfaces.KERNEL);
    } catch (ConfigException e) {
      throw new UserError(e.getMessage());
    }
    if (pipelines != null) {
      try {
        cfg.context().pipelines(pipelines).conclude();
      } catch (IllegalArgumentException e) {
        throw new UserError("--pipelines: " + e.getMessage());
      }
    }
    return cfg;
  }
}
