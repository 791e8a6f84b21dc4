package net.hydranet.router.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import net.hydranet.logging.DefaultConfigurator;

/**
 * The log settings of the command line ({@code -v}, {@code --log-format}) as the system properties
 * that the logging module's {@link DefaultConfigurator} (and logback.xml) read when the first
 * logger is made, and how they reach the processes a daemon starts (a virtual host's {@code
 * hydranet vhost}).
 */
final class Logs {
  /** logfmt or json; environment HYDRANET_LOG_FORMAT when unset. */
  static final String FORMAT = DefaultConfigurator.FORMAT;

  /** HydraNet's own loggers' level; environment HYDRANET_LOG_LEVEL when unset. */
  static final String LEVEL = DefaultConfigurator.LEVEL;

  /** Every other logger's level; environment HYDRANET_LOG_LIBRARIES when unset. */
  static final String LIBRARIES = DefaultConfigurator.LIBRARIES;

  /** A configuration file of the operator's own, logback's property. */
  static final String CONFIGURATION_FILE = DefaultConfigurator.CONFIGURATION_FILE;

  private Logs() {}

  /** The formats {@code --log-format} takes. */
  enum Format {
    logfmt,
    json
  }

  /**
   * Sets the properties from {@code args} before any logger exists: loggers are made when the
   * command classes load, before picocli parses. Arguments after {@code --} belong to a virtual
   * host's own command and are not read. A bad {@code --log-format} value is left for picocli to
   * refuse.
   */
  static void configure(String... args) {
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--")) {
        break;
      }
      if (a.equals("-v") || a.equals("--verbose")) {
        System.setProperty(LEVEL, "debug");
        System.setProperty(LIBRARIES, "info");
      }
      String format = null;
      if (a.equals("--log-format") && i + 1 < args.length) {
        format = args[i + 1];
      } else if (a.startsWith("--log-format=")) {
        format = a.substring("--log-format=".length());
      }
      if (format != null) {
        for (Format f : Format.values()) {
          if (f.name().equals(format.toLowerCase(Locale.ROOT))) {
            System.setProperty(FORMAT, f.name());
          }
        }
      }
    }
  }

  /**
   * The {@code -D} arguments that give a child {@code hydranet} JVM this one's log settings, for
   * those that are set.
   */
  static List<String> jvmArguments() {
    List<String> out = new ArrayList<>();
    for (String p : List.of(FORMAT, LEVEL, LIBRARIES, CONFIGURATION_FILE)) {
      String v = System.getProperty(p);
      if (v != null && !v.isEmpty()) {
        out.add("-D" + p + "=" + v);
      }
    }
    return out;
  }
}
