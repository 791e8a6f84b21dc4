package net.hydranet.router.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code hydranet} command: one subcommand per role. */
@Command(
    name = "hydranet",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description =
        "HydraNet: replicate TCP and UDP services transparently with redirecting routers.",
    subcommands = {
      ReplayCommand.class,
      RedirectorCommand.class,
      HostServerCommand.class,
      VhostCommand.class,
      DemoCommand.class
    })
public final class HydraNetCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the command line and returns its exit code (tests call this). */
  public static int execute(String... args) {
    CommandLine cl = new CommandLine(new HydraNetCommand());
    cl.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          // Expected failures are phrased for the operator; only bugs get a stack trace.
          if (e instanceof UserError) {
            commandLine.getErr().println("hydranet: " + e.getMessage());
            return 2;
          }
          throw e;
        });
    return cl.execute(args);
  }
}
