package net.hydranet.lab.netns;

/**
 * What one bounded command run by {@link Topology#exec} produced.
 *
 * @param exitCode the process's exit status, or {@link #TIMED_OUT} if it was killed at its timeout
 */
public record ExecResult(int exitCode, String stdout, String stderr) {
  /** Exit code reported for a command killed because it outlived its timeout. */
  public static final int TIMED_OUT = -1;

  public boolean ok() {
    return exitCode == 0;
  }

  /** One line for assertion messages: exit code and both streams, trimmed. */
  public String describe() {
    return "exit " + exitCode + ", stdout: " + stdout.strip() + ", stderr: " + stderr.strip();
  }
}
