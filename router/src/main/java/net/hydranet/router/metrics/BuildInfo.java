package net.hydranet.router.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.io.IOException;
import java.nio.file.Path;
import java.util.jar.JarFile;

/**
 * {@code hydranet_build_info{version,revision,java_version} 1}, as Prometheus's own {@code
 * prometheus_build_info}: joined on {@code instance} it tells which build each daemon runs. The
 * version and revision come from the jar's manifest ({@code Implementation-Version}, {@code
 * Build-Revision}); "development" and "unknown" when run from classes.
 */
public final class BuildInfo {
  private BuildInfo() {}

  public static void bind(MeterRegistry registry) {
    String version = BuildInfo.class.getPackage().getImplementationVersion();
    Gauge.builder("hydranet.build.info", () -> 1)
        .tags(
            Tags.of(
                "version", version == null ? "development" : version,
                "revision", revision(),
                "java_version", System.getProperty("java.version")))
        .description("the running build: always 1, the labels say which")
        .register(registry);
  }

  static String revision() {
    try {
      Path jar =
          Path.of(BuildInfo.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      if (!jar.toString().endsWith(".jar")) {
        return "unknown";
      }
      try (JarFile f = new JarFile(jar.toFile())) {
        String r =
            f.getManifest() == null
                ? null
                : f.getManifest().getMainAttributes().getValue("Build-Revision");
        return r == null || r.isBlank() ? "unknown" : r;
      }
    } catch (IOException | java.net.URISyntaxException | RuntimeException e) {
      return "unknown";
    }
  }
}
