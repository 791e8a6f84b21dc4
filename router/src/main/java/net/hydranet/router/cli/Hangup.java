package net.hydranet.router.cli;

import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGHUP as a request to reload the config, as keepalived, nginx and Prometheus take it. The JVM's
 * default for SIGHUP is to exit; {@code sun.misc.Signal} (module jdk.unsupported) replaces that. It
 * is reached by reflection because javac warns of a proprietary API otherwise (the build fails on
 * warnings). The handler only raises a flag: the daemon's own loop does the reload.
 */
final class Hangup {
  private static final Logger LOG = LoggerFactory.getLogger(Hangup.class);

  private final AtomicBoolean pending = new AtomicBoolean();

  private Hangup() {}

  /** Installs the handler; if the JVM has no sun.misc.Signal, says so and SIGHUP stays fatal. */
  static Hangup install() {
    Hangup h = new Hangup();
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      Object hup = signal.getConstructor(String.class).newInstance("HUP");
      Object onHup =
          Proxy.newProxyInstance(
              handler.getClassLoader(),
              new Class<?>[] {handler},
              (proxy, method, args) ->
                  switch (method.getName()) {
                    case "handle" -> {
                      h.pending.set(true);
                      yield null;
                    }
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> "SIGHUP: reload the config";
                  });
      Object before = signal.getMethod("handle", signal, handler).invoke(null, hup, onHup);
      if (before == handler.getField("SIG_IGN").get(null)) {
        // A process started with SIGHUP ignored (nohup, some supervisors) keeps it ignored: the
        // JVM installs no handler then, so a reload must come from editing the file.
        LOG.warn(
            "SIGHUP was ignored when this process started (nohup?): it stays ignored; edit the"
                + " config file to reload, or start the daemon without nohup");
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("SIGHUP cannot be caught here, it stops the daemon: {}", e.toString());
    }
    return h;
  }

  /** Whether a SIGHUP came since the last call. */
  boolean take() {
    return pending.getAndSet(false);
  }
}
