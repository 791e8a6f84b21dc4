package net.hydranet.hostserver.replica;

import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Path;
import java.util.ArrayList;
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
   * @param log where the replica's output goes
   */
  Process launch(String origin, List<String> confined, Path log) throws IOException;

  /** Runs the command as it is, in the host server's own network namespace. */
  static Launcher direct() {
    return (origin, confined, log) -> start(confined, log);
  }

  /**
   * Runs {@code hydranet vhost --origin ORIGIN --state-dir STATE -- COMMAND}: the virtual host
   * makes the origin's network namespace and publishes the ports the replica binds, which the host
   * server then announces as for any virtual host.
   *
   * @param hydranet how to run the {@code hydranet} command (java, class path, main class)
   */
  static Launcher vhost(List<String> hydranet, Path stateDir) {
    List<String> prefix = List.copyOf(hydranet);
    return (origin, confined, log) -> {
      List<String> argv = new ArrayList<>(prefix);
      argv.addAll(List.of("vhost", "--origin", origin, "--state-dir", stateDir.toString(), "--"));
      argv.addAll(confined);
      return start(argv, log);
    };
  }

  private static Process start(List<String> argv, Path log) throws IOException {
    return new ProcessBuilder(argv)
        .redirectInput(Redirect.from(Path.of("/dev/null").toFile()))
        .redirectErrorStream(true)
        .redirectOutput(Redirect.appendTo(log.toFile()))
        .start();
  }
}
