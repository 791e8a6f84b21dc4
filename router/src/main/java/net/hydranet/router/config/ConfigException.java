package net.hydranet.router.config;

/** A configuration error, already phrased for the operator: file, field, and what is wrong. */
public final class ConfigException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Line breaks in {@code message} (a quoted value may hold them) become spaces: one line. */
  public ConfigException(String message) {
    super(message.replaceAll("\\R", " "));
  }
}
