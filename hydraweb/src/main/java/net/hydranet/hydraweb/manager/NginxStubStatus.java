package net.hydranet.hydraweb.manager;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * The origin's request rate from nginx's stub_status page ({@code location /nginx_status {
 * stub_status; }}): its "requests" counter, differenced over time.
 *
 * <pre>
 * Active connections: 291
 * server accepts handled requests
 *  16630948 16630948 31070465
 * Reading: 6 Writing: 179 Waiting: 106
 * </pre>
 */
public final class NginxStubStatus implements LoadSource {
  private final HttpClient http;
  private final URI url;
  private final LongSupplier nanos;
  private long lastRequests = -1;
  private long lastNanos;

  public NginxStubStatus(URI url) {
    this(
        url,
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build(),
        System::nanoTime);
  }

  NginxStubStatus(URI url, HttpClient http, LongSupplier nanos) {
    this.url = url;
    this.http = http;
    this.nanos = nanos;
  }

  @Override
  public synchronized double requestsPerSecond() throws IOException {
    HttpResponse<String> r;
    try {
      r =
          http.send(
              HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(2)).build(),
              HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    if (r.statusCode() != 200) {
      throw new IOException(url + " answered " + r.statusCode());
    }
    long requests = requests(r.body());
    long now = nanos.getAsLong();
    double rate = Double.NaN;
    if (lastRequests >= 0 && now > lastNanos && requests >= lastRequests) {
      rate = (requests - lastRequests) * 1e9 / (now - lastNanos);
    }
    lastRequests = requests;
    lastNanos = now;
    return rate;
  }

  /** The "requests" counter of a stub_status page. */
  static long requests(String page) throws IOException {
    String[] lines = page.split("\n");
    for (int i = 0; i + 1 < lines.length; i++) {
      if (lines[i].trim().equals("server accepts handled requests")) {
        String[] n = lines[i + 1].trim().split("\\s+");
        if (n.length == 3) {
          try {
            return Long.parseLong(n[2]);
          } catch (NumberFormatException e) {
            break;
          }
        }
      }
    }
    throw new IOException("not an nginx stub_status page");
  }
}
