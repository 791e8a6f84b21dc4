package net.hydranet.router.metrics;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.prometheus.client.exporter.HTTPServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * A daemon's {@code /metrics} endpoint: a Micrometer registry on the Prometheus simpleclient,
 * served on one address (loopback unless configured otherwise — nothing listens on more than it
 * needs). Meters read the forwarding plane's counters when scraped; nothing is pushed from the data
 * path.
 *
 * <p>Micrometer marks this registry deprecated in favour of its Prometheus 1.x client; the project
 * stays on the simpleclient flavour by choice (one simpleclient 0.16 on the classpath, the registry
 * the shared notes measured), hence the suppression.
 */
@SuppressWarnings("deprecation")
public final class MetricsEndpoint implements AutoCloseable {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final JvmGcMetrics gc = new JvmGcMetrics();
  private final HttpServer http;
  private final HTTPServer server;
  private final InetSocketAddress address;

  private MetricsEndpoint(InetSocketAddress address) throws IOException {
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    BuildInfo.bind(registry);
    this.http = HttpServer.create(address, 3);
    this.server =
        new HTTPServer.Builder()
            .withHttpServer(http)
            .withRegistry(registry.getPrometheusRegistry())
            .withDaemonThreads(true)
            .build();
    this.address = new InetSocketAddress(address.getAddress(), server.getPort());
  }

  /**
   * Serves a read-only page at {@code path} beside /metrics, on the same address: each GET calls
   * {@code body} for the page; anything but GET or HEAD is refused with 405.
   */
  public void page(String path, String contentType, Supplier<String> body) {
    http.createContext(
        path,
        exchange -> {
          try (exchange) {
            String method = exchange.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
              exchange.getResponseHeaders().set("Allow", "GET, HEAD");
              exchange.sendResponseHeaders(405, -1);
              return;
            }
            byte[] bytes;
            int code = 200;
            try {
              bytes = body.get().getBytes(StandardCharsets.UTF_8);
            } catch (RuntimeException e) {
              bytes = ("error: " + e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8);
              code = 500;
            }
            exchange.getResponseHeaders().set("Content-Type", contentType);
            exchange.getResponseHeaders().set("Cache-Control", "no-store");
            if (method.equals("HEAD")) {
              exchange.sendResponseHeaders(code, -1);
              return;
            }
            exchange.sendResponseHeaders(code, bytes.length);
            exchange.getResponseBody().write(bytes);
          }
        });
  }

  /**
   * Serves metrics on {@code hostPort} ("127.0.0.1:9464"); port 0 picks a free one.
   *
   * @throws IllegalArgumentException naming what is wrong with the address or why it cannot bind
   */
  public static MetricsEndpoint start(String hostPort) {
    InetSocketAddress address = parse(hostPort);
    try {
      return new MetricsEndpoint(address);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "--metrics " + hostPort + ": cannot listen (" + e.getMessage() + ")", e);
    }
  }

  static InetSocketAddress parse(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("--metrics " + hostPort + ": expected HOST:PORT");
    }
    int port;
    try {
      port = Integer.parseInt(hostPort.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--metrics " + hostPort + ": the port is not a number");
    }
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("--metrics " + hostPort + ": port out of range");
    }
    return new InetSocketAddress(hostPort.substring(0, colon), port);
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** The text a scrape returns, for tests and the status file. */
  public String scrape() {
    return registry.scrape();
  }

  public InetSocketAddress address() {
    return address;
  }

  @Override
  public void close() {
    server.close();
    gc.close();
    registry.close();
  }
}
