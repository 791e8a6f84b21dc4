package net.hydranet.hydraweb.manager;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * Fetches a missed path from the origin's web server: only {@code GET} of the path, over kept-alive
 * HTTP/1.1, within a bounded time and size. 200 and 404 are relayed; a timeout is 504; anything
 * else (refused, reset, another status, too large) is 502. A result says whether the origin
 * answered at all ({@link Result#unreachable}), which is what {@link OriginHealth} follows; {@link
 * #probe} asks it for nothing but an answer.
 */
final class OriginFetcher {
  /** What the origin said. {@code body} and {@code contentType} are set when 200. */
  /**
   * @param cacheable false when the origin says a copy must not be kept ({@code Cache-Control:
   *     no-store, no-cache or private}): the replica serves it once and asks again next time
   * @param unreachable null when the origin answered (any status); else why it did not, in words
   *     ({@code status} 502: refused or reset; 504: no answer in time)
   */
  record Result(
      int status,
      byte[] body,
      String contentType,
      long lastModifiedMillis,
      boolean cacheable,
      String unreachable) {
    Result(
        int status, byte[] body, String contentType, long lastModifiedMillis, boolean cacheable) {
      this(status, body, contentType, lastModifiedMillis, cacheable, null);
    }

    Result(int status, byte[] body, String contentType, long lastModifiedMillis) {
      this(status, body, contentType, lastModifiedMillis, false, null);
    }

    static Result unreachableWith(int status, String why) {
      return new Result(status, null, null, 0, false, why);
    }
  }

  /** What Cache-Control forbids a shared cache to keep (RFC 9111, 5.2.2). */
  static boolean cacheable(String cacheControl) {
    if (cacheControl == null) {
      return true;
    }
    for (String d : cacheControl.toLowerCase(java.util.Locale.ROOT).split(",")) {
      String directive = d.strip();
      int eq = directive.indexOf('=');
      String name = eq < 0 ? directive : directive.substring(0, eq).strip();
      if (name.equals("no-store") || name.equals("no-cache") || name.equals("private")) {
        return false;
      }
    }
    return true;
  }

  private final HttpClient http;
  private final URI base;
  private final Duration timeout;
  private final long maxBytes;

  OriginFetcher(URI base, Duration timeout, long maxBytes) {
    this.base = base;
    this.timeout = timeout;
    this.maxBytes = maxBytes;
    Duration connect =
        timeout.compareTo(Duration.ofSeconds(2)) < 0 ? timeout : Duration.ofSeconds(2);
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(connect)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  Result fetch(String path) {
    URI uri;
    try {
      uri = new URI(base.getScheme(), null, base.getHost(), base.getPort(), path, null, null);
    } catch (URISyntaxException e) {
      return new Result(502, null, null, 0);
    }
    HttpRequest req = HttpRequest.newBuilder(uri).timeout(timeout).GET().build();
    try {
      HttpResponse<InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream in = r.body()) {
        if (r.statusCode() == 404) {
          return new Result(404, null, null, 0);
        }
        if (r.statusCode() != 200) {
          return new Result(502, null, null, 0);
        }
        long declared = r.headers().firstValueAsLong("Content-Length").orElse(-1);
        if (declared > maxBytes) {
          return new Result(502, null, null, 0);
        }
        byte[] body = in.readNBytes((int) maxBytes + 1);
        if (body.length > maxBytes) {
          return new Result(502, null, null, 0);
        }
        String type = r.headers().firstValue("Content-Type").orElse("application/octet-stream");
        long modified =
            r.headers()
                .firstValue("Last-Modified")
                .map(OriginFetcher::httpDate)
                .orElse(System.currentTimeMillis());
        String control = String.join(",", r.headers().allValues("Cache-Control"));
        return new Result(200, body, type, modified, cacheable(control.isEmpty() ? null : control));
      }
    } catch (IOException e) {
      return unreachable(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(503, null, null, 0);
    }
  }

  /**
   * Asks the origin for an answer, any answer: {@code HEAD /} within the fetch timeout. Any HTTP
   * status is a 200 result (it answered); otherwise as {@link #fetch} fails.
   */
  Result probe() {
    HttpRequest req =
        HttpRequest.newBuilder(base.resolve("/"))
            .timeout(timeout)
            .method("HEAD", HttpRequest.BodyPublishers.noBody())
            .build();
    try {
      http.send(req, HttpResponse.BodyHandlers.discarding());
      return new Result(200, null, null, 0);
    } catch (IOException e) {
      return unreachable(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(503, null, null, 0);
    }
  }

  /** A failed exchange: 504 when nothing came in time, else 502; why, in words. */
  private Result unreachable(IOException e) {
    if (e instanceof HttpConnectTimeoutException) {
      return Result.unreachableWith(504, "connect timed out");
    }
    if (e instanceof HttpTimeoutException) {
      return Result.unreachableWith(504, "no answer within " + timeout.toMillis() + " ms");
    }
    if (e instanceof ConnectException) {
      return Result.unreachableWith(502, "connection refused");
    }
    String why = e.getMessage();
    return Result.unreachableWith(
        502, why == null || why.isBlank() ? e.getClass().getSimpleName() : why);
  }

  private static long httpDate(String v) {
    try {
      return ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME)
          .toInstant()
          .toEpochMilli();
    } catch (DateTimeParseException e) {
      return System.currentTimeMillis();
    }
  }
}
