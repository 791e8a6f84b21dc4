package net.hydranet.router.cli;

import java.util.List;
import net.hydranet.router.error.UserError;
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
      ManagerCommand.class
    })
public final class HydraNetCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @CommandLine.Option(
      names = {"-v", "--verbose"},
      scope = CommandLine.ScopeType.INHERIT,
      description =
          "log at debug level, libraries at info (quiet by default: start-up, changes and"
              + " errors at info, libraries at warn)")
  boolean verbose;

  // Read before parsing, by Logs.configure; declared here for help and validation.
  @CommandLine.Option(
      names = "--log-format",
      scope = CommandLine.ScopeType.INHERIT,
      paramLabel = "FORMAT",
      description =
          "logfmt (default) or json: one line per event on stderr (environment"
              + " HYDRANET_LOG_FORMAT when not given)")
  Logs.Format logFormat;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the command line and returns its exit code (tests call this). */
  public static int execute(String... args) {
    return execute(List.of(), args);
  }

  /**
   * Runs the command line with {@code more} subcommands (picocli {@code @Command} classes) after
   * the router's own: the lab's {@code demo} and {@code wan}, which the operator's jar leaves out.
   */
  public static int execute(List<Class<?>> more, String... args) {
    // Loggers are made when command classes load, before picocli parses: set the logs up first.
    Logs.configure(args);
    CommandLine cl = new CommandLine(new HydraNetCommand());
    more.forEach(cl::addSubcommand);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
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
