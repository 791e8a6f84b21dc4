package net.hydranet.router.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A daemon's config reloads, named as Prometheus and Alertmanager name theirs: {@code
 * hydranet_config_last_reload_successful} (1 or 0) and {@code
 * hydranet_config_last_reload_success_timestamp_seconds} (the start counts as the first success),
 * plus reloads by result and the changes that were not applied because they need a restart.
 */
public final class ConfigReloads {
  private final AtomicLong lastSuccessful = new AtomicLong(1);
  private final AtomicLong lastSuccessMillis = new AtomicLong(System.currentTimeMillis());
  private final AtomicLong succeeded = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong restartNeeded = new AtomicLong();

  /** A reload that applied (or found nothing to apply). */
  public void succeeded() {
    succeeded.incrementAndGet();
    lastSuccessful.set(1);
    lastSuccessMillis.set(System.currentTimeMillis());
  }

  /** A reload refused: the new config is not valid, the running one stays. */
  public void failed() {
    failed.incrementAndGet();
    lastSuccessful.set(0);
  }

  /** Sections of a new config that changed but apply only at the next start. */
  public void restartNeeded(List<String> sections) {
    restartNeeded.addAndGet(sections.size());
  }

  public boolean lastSuccessful() {
    return lastSuccessful.get() == 1;
  }

  public long restartsNeeded() {
    return restartNeeded.get();
  }

  public long failures() {
    return failed.get();
  }

  public ConfigReloads bind(MeterRegistry registry) {
    Gauge.builder("hydranet.config.last.reload.successful", lastSuccessful, AtomicLong::get)
        .description("1 if the last config reload applied, 0 if it was refused")
        .register(registry);
    Gauge.builder(
            "hydranet.config.last.reload.success.timestamp.seconds",
            lastSuccessMillis,
            x -> x.get() / 1000.0)
        .description("when the config was last loaded or reloaded successfully, Unix seconds")
        .register(registry);
    FunctionCounter.builder("hydranet.config.reloads", succeeded, AtomicLong::get)
        .tag("result", "success")
        .description("config reloads (SIGHUP or a changed file), by result")
        .register(registry);
    FunctionCounter.builder("hydranet.config.reloads", failed, AtomicLong::get)
        .tag("result", "failure")
        .register(registry);
    FunctionCounter.builder("hydranet.config.restart.needed", restartNeeded, AtomicLong::get)
        .description("config sections changed by a reload that apply only after a restart")
        .register(registry);
    return this;
  }
}
