package net.hydranet.lab.cli;

import java.util.List;
import net.hydranet.router.cli.HydraNetCommand;

/**
 * The {@code hydranet} command of the source tree ({@code bin/hydranet}): the router's subcommands
 * and the lab's, {@code wan} and {@code demo}. The operator's hydranet.jar runs {@link
 * HydraNetCommand} alone, so nothing of the lab ships in the distribution.
 */
public final class HydraNetLab {
  private HydraNetLab() {}

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the command line and returns its exit code (tests call this). */
  public static int execute(String... args) {
    return HydraNetCommand.execute(List.of(WanCommand.class, DemoCommand.class), args);
  }
}
