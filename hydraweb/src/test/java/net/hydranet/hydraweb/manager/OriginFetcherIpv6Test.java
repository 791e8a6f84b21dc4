package net.hydranet.hydraweb.manager;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A miss fetched from an origin web server on an IPv6 address ({@code webServer:
 * http://[2001:2::10]:80}): the request goes over IPv6 to that address, with the bracketed host in
 * its request's {@code Host:} header (RFC 9110 §7.2, RFC 3986 §3.2.2), and the answer is relayed.
 */
class OriginFetcherIpv6Test {
  /** A one-request web server on [::1]: the request head it got, and a fixed answer. */
  private static final class OneShot implements AutoCloseable {
    final ServerSocket socket;
    final CompletableFuture<String> head = new CompletableFuture<>();
    final CompletableFuture<InetAddress> peer = new CompletableFuture<>();

    OneShot(byte[] body) throws IOException {
      socket = new ServerSocket();
      try {
        socket.bind(new InetSocketAddress(InetAddress.getByName("::1"), 0));
      } catch (IOException e) {
        socket.close();
        assumeTrue(false, "no IPv6 loopback here: " + e.getMessage());
      }
      Thread t =
          new Thread(
              () -> {
                try (Socket s = socket.accept()) {
                  peer.complete(s.getInetAddress());
                  InputStream in = s.getInputStream();
                  ByteArrayOutputStream b = new ByteArrayOutputStream();
                  while (!b.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                    int c = in.read();
                    if (c < 0) {
                      break;
                    }
                    b.write(c);
                  }
                  head.complete(b.toString(StandardCharsets.ISO_8859_1));
                  OutputStream out = s.getOutputStream();
                  out.write(
                      ("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: "
                              + body.length
                              + "\r\nConnection: close\r\n\r\n")
                          .getBytes(StandardCharsets.ISO_8859_1));
                  out.write(body);
                } catch (IOException e) {
                  head.completeExceptionally(e);
                }
              },
              "one-shot-origin");
      t.setDaemon(true);
      t.start();
    }

    int port() {
      return socket.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  @Test
  void shouldFetchFromAnIpv6OriginWithABracketedHostHeader() throws Exception {
    byte[] page = "<h1>page over IPv6</h1>\n".getBytes(StandardCharsets.UTF_8);
    try (OneShot origin = new OneShot(page)) {
      URI base = URI.create("http://[::1]:" + origin.port());
      OriginFetcher.Result r =
          new OriginFetcher(base, Duration.ofSeconds(5), 1 << 20).fetch("/dir/page one.html");
      assertEquals(200, r.status(), String.valueOf(r.unreachable()));
      assertArrayEquals(page, r.body());
      String head = origin.head.get(5, TimeUnit.SECONDS);
      assertTrue(head.startsWith("GET /dir/page%20one.html HTTP/1.1\r\n"), head);
      assertTrue(
          head.toLowerCase(java.util.Locale.ROOT)
              .contains("\r\nhost: [::1]:" + origin.port() + "\r\n"),
          head);
      assertEquals(InetAddress.getByName("::1"), origin.peer.get(5, TimeUnit.SECONDS));
    }
  }
}
