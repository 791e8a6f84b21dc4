package net.hydranet.router.daemon;

import java.nio.file.Path;
import net.hydranet.router.config.ConfigException;
import net.hydranet.router.config.ControlConfig;
import net.hydranet.router.config.ControlConfigLoader;
import net.hydranet.router.error.UserError;

/** A daemon's {@code --control} file: none, or valid, or a refusal naming the first problem. */
public final class ControlFile {
  private ControlFile() {}

  /** The control config of {@code control}, or null when there is no {@code --control}. */
  public static ControlConfig load(Path control) {
    if (control == null) {
      return null;
    }
    try {
      return ControlConfigLoader.load(control);
    } catch (ConfigException e) {
      throw new UserError(e.getMessage());
    }
  }
}
