package net.hydranet.router.daemon;

/**
 * The names the daemons' parts log under: their command's, so a daemon's lines name {@code
 * RedirectorCommand} or {@code HostServerCommand} wherever in its start or stop they were written.
 * Names, not classes: the commands of {@code router.cli} call into this package, never the other
 * way round.
 */
public final class DaemonLoggers {
  /** {@code hydranet redirector}'s: {@code router.cli.RedirectorCommand}. */
  public static final String REDIRECTOR = "net.hydranet.router.cli.RedirectorCommand";

  /** {@code hydranet hostserver}'s: {@code router.cli.HostServerCommand}. */
  public static final String HOST_SERVER = "net.hydranet.router.cli.HostServerCommand";

  private DaemonLoggers() {}
}
