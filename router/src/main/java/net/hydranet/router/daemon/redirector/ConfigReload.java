package net.hydranet.router.daemon.redirector;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.router.config.ConfigException;
import net.hydranet.router.config.ConfigLoader;
import net.hydranet.router.config.RedirectorConfig;
import net.hydranet.router.daemon.DaemonLoggers;
import net.hydranet.router.metrics.ConfigReloads;
import net.hydranet.router.systemd.SdNotify;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The redirector's config reload, on SIGHUP or when the file changes (main thread, each turn of the
 * loop): the redirects are applied in place (through the control plane when it runs), changes to
 * what the plane was built with are logged and counted as needing a restart.
 */
public final class ConfigReload {
  private static final Logger LOG = LoggerFactory.getLogger(DaemonLoggers.REDIRECTOR);

  private final Path config;
  private final BooleanSupplier hangup;
  private final ConfigReloads reloads;
  private final RedirectorControl control;
  private final KnownServices services;
  // The config the redirector started with: interfaces, routes and neighbours stay as in it.
  private RedirectorConfig startedWith;
  private RedirectorConfig current;
  private FileTime seen;

  public ConfigReload(
      Path config,
      RedirectorConfig initial,
      BooleanSupplier hangup,
      ConfigReloads reloads,
      RedirectorControl control,
      KnownServices services) {
    this.config = config;
    this.hangup = hangup;
    this.reloads = reloads;
    this.control = control;
    this.services = services;
    startedWith = initial;
    current = initial;
    seen = modified(config);
  }

  /** Reloads if a SIGHUP came or the file's time changed since the last look. */
  public void poll(ForwardingPlane plane) {
    FileTime now = modified(config);
    boolean changed = now != null && !now.equals(seen);
    boolean hup = hangup.getAsBoolean();
    if (hup || changed) {
      LOG.info("reloading {} ({})", config, hup ? "SIGHUP" : "the file changed");
      seen = now;
      SdNotify.reloading();
      current = reload(plane, current);
      SdNotify.reloaded("forwarding");
    }
  }

  /** Applies the redirects of a changed config; interfaces and routes need a restart. */
  private RedirectorConfig reload(ForwardingPlane plane, RedirectorConfig current) {
    RedirectorConfig next;
    try {
      next = ConfigLoader.load(config, KernelInterfaces.KERNEL);
    } catch (ConfigException e) {
      reloads.failed();
      LOG.atError()
          .addKeyValue("event", "config-invalid")
          .log("config changed but is not valid, keeping the running one: {}", e.getMessage());
      return current;
    }
    List<String> restart = needRestart(startedWith, next);
    if (!restart.isEmpty()) {
      reloads.restartNeeded(restart);
      LOG.atWarn()
          .addKeyValue("event", "config-restart-needed")
          .addKeyValue("sections", String.join(",", restart))
          .log(
              "config changed in {}: applies only after a restart; the running ones stay",
              String.join(", ", restart));
    }
    reloads.succeeded();
    if (control.agent() != null) {
      control.agent().setStatic(StaticRedirects.of(next, plane));
      int statics = next.redirects().size() + next.redirects6().size();
      LOG.atInfo()
          .addKeyValue("event", "config-changed")
          .addKeyValue("redirects", statics)
          .log("config changed: {} static redirects handed to the control plane", statics);
      services.changed(next);
      return next;
    }
    reload6(plane, current, next);
    Set<String> keep = new HashSet<>();
    for (RedirectorConfig.Redirect r : next.redirects()) {
      plane.addRedirect(r.address(), r.protocol(), r.port(), r.hostServers(), r.weights());
      keep.add(key(r));
    }
    int removed = 0;
    for (RedirectorConfig.Redirect r : current.redirects()) {
      if (!keep.contains(key(r))) {
        plane.removeRedirect(r.address(), r.protocol(), r.port());
        removed++;
      }
    }
    LOG.atInfo()
        .addKeyValue("event", "config-changed")
        .addKeyValue("redirects", next.redirects().size())
        .addKeyValue("removed", removed)
        .log("config changed: {} redirects applied, {} removed", next.redirects().size(), removed);
    services.changed(next);
    return next;
  }

  /**
   * Without a control plane: applies the IPv6 redirects of a changed config to the plane and
   * removes those gone (with one, they are static services of its RIB, as the IPv4 ones).
   */
  private static void reload6(
      ForwardingPlane plane, RedirectorConfig current, RedirectorConfig next) {
    Set<String> keep = new HashSet<>();
    for (RedirectorConfig.Redirect6 r : next.redirects6()) {
      RedirectorConfig.apply(plane, r);
      keep.add(r.service());
    }
    for (RedirectorConfig.Redirect6 r : current.redirects6()) {
      if (!keep.contains(r.service())) {
        plane.removeRedirect6(r.addressHigh(), r.addressLow(), r.protocol(), r.port());
      }
    }
  }

  /** The sections a running redirector cannot change: they take a restart. */
  public static List<String> needRestart(RedirectorConfig running, RedirectorConfig next) {
    List<String> out = new ArrayList<>();
    if (!running.context().interfaces().equals(next.context().interfaces())
        || !running.context().addresses6().equals(next.context().addresses6())) {
      out.add("interfaces");
    }
    if (!running.routes().equals(next.routes()) || !running.routes6().equals(next.routes6())) {
      out.add("routes");
    }
    if (!running.neighbours().equals(next.neighbours())
        || !running.neighbours6().equals(next.neighbours6())) {
      out.add("neighbours");
    }
    if (running.context().dropTransit() != next.context().dropTransit()) {
      out.add("dropTransit");
    }
    if (!java.util.Arrays.equals(
        running.context().gueHostServers(), next.context().gueHostServers())) {
      out.add("encapsulation");
    }
    return out;
  }

  private static String key(RedirectorConfig.Redirect r) {
    return r.address() + "/" + r.protocol() + "/" + r.port();
  }

  private static FileTime modified(Path file) {
    try {
      return Files.getLastModifiedTime(file);
    } catch (IOException e) {
      return null;
    }
  }
}
