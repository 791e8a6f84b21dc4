package net.hydranet.router.config;

/** A configuration error, already phrased for the operator: file, field, and what is wrong. */
public final class ConfigException extends Exception {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }
}
