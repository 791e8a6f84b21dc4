package net.hydranet.hostserver.replica;

import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Path;
import java.util.List;

/**
 * Starts a confined replica's command: inside its origin's virtual host ({@link #vhost}, what a
 * host server does), or as it is ({@link #direct}, for tests that have no network namespace).
 */
@FunctionalInterface
public interface Launcher {
  /**
   * @param origin the replica's {@code HydraNet-Origin}, dotted
   * @param confined the confined command ({@link Confinement#argv})
   * @return the process, its output and error merged into the pipe {@link Process#getInputStream()}
   *     reads, which the service copies into a bounded log
   */
  Process launch(String origin, List<String> confined) throws IOException;

  /**
   * Removes what a launched process leaves when it had to be killed ({@code SIGKILL} skips its own
   * clean-up): nothing for a command run as it is.
   *
   * @param origin as given to {@link #launch}
   * @param killed the process {@link #launch} returned, dead
   */
  default void killed(String origin, Process killed) {}

  /** Runs the command as it is, in the host server's own network namespace. */
  static Launcher direct() {
    return (origin, confined) -> start(confined);
  }

  /**
   * Runs {@code hydranet vhost --origin ORIGIN --state-dir STATE -- COMMAND}: the virtual host
   * makes the origin's network namespace and publishes the ports the replica binds, which the host
   * server then announces as for any virtual host.
   *
   * @param hydranet how to run the {@code hydranet} command (java, class path, main class)
   */
  static Launcher vhost(List<String> hydranet, Path stateDir) {
    return new VhostLauncher(hydranet, stateDir);
  }

  static Process start(List<String> argv) throws IOException {
    return new ProcessBuilder(argv)
        .redirectInput(Redirect.from(Path.of("/dev/null").toFile()))
        .redirectErrorStream(true)
        .start();
  }
}
