package net.hydranet.hydraweb.manager;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.atomic.AtomicLong;

/** A tiny stand-in for the origin's nginx (unit tests only): the docroot and a stub_status. */
final class FakeNginx implements AutoCloseable {
  final HttpServer http;
  final AtomicLong fetches = new AtomicLong();

  /** Added to the stub_status "requests" counter on each status read. */
  volatile long requestsPerRead;

  /** How long each page takes. */
  volatile long delayMillis;

  private long requests;

  FakeNginx(Path docroot) throws IOException {
    this(docroot, 0);
  }

  /** On {@code port} of 127.0.0.1 (0: any), e.g. the port of one stopped before: back again. */
  FakeNginx(Path docroot, int port) throws IOException {
    http = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 16);
    http.createContext(
        "/nginx_status",
        ex -> {
          String page;
          synchronized (this) {
            requests += requestsPerRead;
            page =
                "Active connections: 1 \nserver accepts handled requests\n 7 7 "
                    + requests
                    + " \nReading: 0 Writing: 1 Waiting: 0 \n";
          }
          byte[] b = page.getBytes(StandardCharsets.US_ASCII);
          ex.sendResponseHeaders(200, b.length);
          try (OutputStream o = ex.getResponseBody()) {
            o.write(b);
          }
        });
    http.createContext(
        "/",
        ex -> {
          if (ex.getRequestMethod().equals("GET")) {
            fetches.incrementAndGet(); // the fetches of misses, not the manager's probes (HEAD)
          }
          try {
            Thread.sleep(delayMillis);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          String p = ex.getRequestURI().getPath();
          Path f = docroot.resolve(p.substring(1) + (p.endsWith("/") ? "index.html" : ""));
          if (!ex.getRequestMethod().equals("GET") || !Files.isRegularFile(f)) {
            ex.sendResponseHeaders(404, -1);
            ex.close();
            return;
          }
          byte[] b = Files.readAllBytes(f);
          ex.getResponseHeaders().set("Content-Type", "text/html");
          ex.getResponseHeaders()
              .set(
                  "Last-Modified",
                  DateTimeFormatter.RFC_1123_DATE_TIME.format(
                      Instant.ofEpochMilli(Files.getLastModifiedTime(f).toMillis())
                          .atOffset(ZoneOffset.UTC)));
          ex.sendResponseHeaders(200, b.length);
          try (OutputStream o = ex.getResponseBody()) {
            o.write(b);
          }
        });
    http.start();
  }

  URI base() {
    return URI.create("http://127.0.0.1:" + http.getAddress().getPort());
  }

  URI status() {
    return base().resolve("/nginx_status");
  }

  @Override
  public void close() {
    http.stop(0);
  }
}
