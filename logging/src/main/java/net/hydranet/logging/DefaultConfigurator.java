package net.hydranet.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;

/**
 * HydraNet's default log configuration, the one logback.xml (beside this class) writes out: one
 * {@link LineEncoder} line per event on stderr, HydraNet's loggers ({@code net.hydranet.*}) at
 * info, every other logger at warn. Each setting is a system property or, failing that, an
 * environment variable:
 *
 * <pre>
 * hydranet.log.format     HYDRANET_LOG_FORMAT     logfmt (default) or json
 * hydranet.log.level      HYDRANET_LOG_LEVEL      HydraNet's loggers: info (default), debug, ...
 * hydranet.log.libraries  HYDRANET_LOG_LIBRARIES  every other logger: warn (default), info, ...
 * </pre>
 *
 * <p>Logback finds it as a service and asks it first. It configures in code what logback.xml says
 * because parsing that XML loaded some 700 more classes and cost 0.3–0.5 s at every start of every
 * JVM (measured on this project's 2-core machines): every {@code hydranet ctl}, every daemon
 * restart, every replica. With {@code -Dlogback.configurationFile=FILE} it steps aside and logback
 * reads FILE (a copy of logback.xml to start from).
 */
public final class DefaultConfigurator extends ContextAwareBase implements Configurator {
  public static final String FORMAT = "hydranet.log.format";
  public static final String LEVEL = "hydranet.log.level";
  public static final String LIBRARIES = "hydranet.log.libraries";
  public static final String FORMAT_ENV = "HYDRANET_LOG_FORMAT";
  public static final String LEVEL_ENV = "HYDRANET_LOG_LEVEL";
  public static final String LIBRARIES_ENV = "HYDRANET_LOG_LIBRARIES";

  /** Logback's own property: a configuration file of the operator's. */
  public static final String CONFIGURATION_FILE = "logback.configurationFile";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (System.getProperty(CONFIGURATION_FILE) != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY; // logback's own configurator reads the file
    }
    LineEncoder encoder = new LineEncoder();
    encoder.setContext(context);
    encoder.setFormat(setting(FORMAT, FORMAT_ENV, LineEncoder.LOGFMT));
    encoder.start();
    ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
    stderr.setContext(context);
    stderr.setName("STDERR");
    stderr.setTarget("System.err");
    stderr.setEncoder(encoder);
    stderr.start();
    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.toLevel(setting(LIBRARIES, LIBRARIES_ENV, "warn"), Level.WARN));
    root.addAppender(stderr);
    context
        .getLogger("net.hydranet")
        .setLevel(Level.toLevel(setting(LEVEL, LEVEL_ENV, "info"), Level.INFO));
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /** The system property {@code property}, else the environment's {@code env}, else the default. */
  static String setting(String property, String env, String otherwise) {
    String v = System.getProperty(property);
    if (v == null || v.isBlank()) {
      v = System.getenv(env);
    }
    return v == null || v.isBlank() ? otherwise : v.strip();
  }
}
