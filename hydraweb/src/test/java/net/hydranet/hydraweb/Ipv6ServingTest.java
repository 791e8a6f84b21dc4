package net.hydranet.hydraweb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The replica over IPv6 (issue 21): it listens on an IPv6 address, serves and enforces the origin's
 * IPv6 access rules for IPv6 clients, and names them {@code [address]:port}; {@code --listen} takes
 * IPv6 in brackets only.
 */
class Ipv6ServingTest {
  private HydraWebServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private static InetAddress loopback6() throws IOException {
    InetAddress a = InetAddress.getByName("::1");
    try (ServerSocket probe = new ServerSocket()) {
      probe.bind(new InetSocketAddress(a, 0));
    } catch (IOException e) {
      assumeTrue(false, "no IPv6 loopback here: " + e.getMessage());
    }
    return a;
  }

  private HydraWebServer start(InetAddress address) throws IOException {
    server =
        new HydraWebServer(
                new HydraWebServer.Config()
                    .listen(new InetSocketAddress(address, 0))
                    .missTimeoutMillis(2_000))
            .start();
    return server;
  }

  @Test
  void shouldServeAnIpv6ClientOnAnIpv6Address() throws Exception {
    start(loopback6());
    assertTrue(server.localAddress().getAddress() instanceof Inet6Address);
    byte[] page = "page over IPv6\n".getBytes(StandardCharsets.UTF_8);
    server.cache().put(WebObject.of("/page.html", page, "text/html", 784111777L, 1));
    try (RawClient c = new RawClient(server.localAddress())) {
      // The Host a browser sends for http://[::1]:PORT/ (RFC 9110 §7.2: the URI's host, brackets
      // and all).
      int port = server.localAddress().getPort();
      RawClient.Response r =
          c.send("GET /page.html HTTP/1.1\r\nHost: [::1]:" + port + "\r\n\r\n").read();
      assertEquals(200, r.status());
      assertArrayEquals(page, r.body());
    }
    assertEquals(1, server.cache().hits("/page.html"));
  }

  @Test
  void shouldNameAnIpv6ClientOfAMissInBrackets() throws Exception {
    start(loopback6());
    CompletableFuture<String> client = new CompletableFuture<>();
    server.setMissHandler(
        m -> {
          client.complete(m.client());
          m.notFound();
        });
    try (RawClient c = new RawClient(server.localAddress())) {
      assertEquals(404, c.send(RawClient.get("/absent")).read().status());
    }
    String text = client.get(5, TimeUnit.SECONDS);
    assertTrue(text.matches("\\[::1\\]:\\d+"), text);
  }

  @Test
  void shouldEnforceIpv6AccessRulesAndKeepIpv4OnesOffIpv6Clients() throws Exception {
    start(loopback6());
    server.cache().put(WebObject.of("/private/a", new byte[] {1}, "text/plain", 784111777L, 1));
    server.cache().put(WebObject.of("/other/a", new byte[] {1}, "text/plain", 784111777L, 1));
    server.setAccessRules(AccessRules.parse("deny 127.0.0.0/8 /other/\ndeny ::1/128 /private/\n"));
    try (RawClient c = new RawClient(server.localAddress())) {
      assertEquals(403, c.send(RawClient.get("/private/a")).read().status());
      assertEquals(200, c.send(RawClient.get("/other/a")).read().status());
    }
  }

  @Test
  void shouldTakeIpv6ListenAddressesInBracketsOnly() {
    InetSocketAddress a = HydraWebMain.address("[2001:2:0:2::10]:80");
    assertEquals("2001:2:0:2:0:0:0:10", a.getAddress().getHostAddress());
    assertEquals(80, a.getPort());
    assertTrue(HydraWebMain.address("[::]:8080").getAddress().isAnyLocalAddress());
    assertEquals("198.18.2.10", HydraWebMain.address("198.18.2.10:80").getHostString());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> HydraWebMain.address("2001:2::10:80"));
    assertTrue(e.getMessage().contains("in brackets"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> HydraWebMain.address("[2001:2::zz]:80"));
    assertThrows(IllegalArgumentException.class, () -> HydraWebMain.address("[fe80::1%eth0]:80"));
    assertThrows(IllegalArgumentException.class, () -> HydraWebMain.address("[2001:2::10]:x"));
  }
}
