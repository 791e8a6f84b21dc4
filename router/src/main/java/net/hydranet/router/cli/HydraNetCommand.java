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
      KeygenCommand.class,
      BundleCommand.class,
      ReplicaCommand.class,
      CtlCommand.class,
      WanCommand.class,
      ManagerCommand.class,
      DemoCommand.class
    })
public final class HydraNetCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Option(
      names = {"-v", "--verbose"},
      scope = CommandLine.ScopeType.INHERIT,
      description = "log at debug level (quiet by default: start-up, changes and errors)")
  boolean verbose;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the command line and returns its exit code (tests call this). */
  public static int execute(String... args) {
    // Loggers are made when command classes load, before picocli parses: set the level first.
    for (String a : args) {
      if (a.equals("-v") || a.equals("--verbose")) {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "debug");
        System.setProperty("org.slf4j.simpleLogger.log.org.pcap4j", "info");
      }
      if (a.equals("--")) {
        break; // what follows belongs to a virtual host's own command
      }
    }
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
