package net.hydranet.replica;

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
import java.net.Socket;
import java.security.KeyPair;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Version 2 over a real IPv6 socket pair on {@code ::1}: both ends say HELLO with their IPv6
 * address, authenticate each other and carry frames; the manager's client refuses to speak from an
 * address of the other family than the host server's, before it connects.
 */
class ReplicaSessionIpv6Test {
  private final KeyPair manager = TestKeys.generate();
  private final KeyPair hostServer = TestKeys.generate();
  private InetAddress loopback6;
  private ServerSocket listener;
  private ExecutorService pool;

  @BeforeEach
  void listen() throws IOException {
    loopback6 = InetAddress.getByName("::1");
    try {
      listener = new ServerSocket(0, 8, loopback6);
    } catch (IOException e) {
      assumeTrue(false, "no IPv6 loopback here: " + e.getMessage());
    }
    pool = Executors.newCachedThreadPool();
  }

  @AfterEach
  void close() throws Exception {
    listener.close();
    pool.shutdownNow();
    assertTrue(pool.awaitTermination(5, TimeUnit.SECONDS), "a session thread hung");
  }

  @Test
  void shouldHandshakeInVersionTwoAndCarryFramesOverIpv6() throws Exception {
    Future<ReplicaSession> server =
        pool.submit(
            () -> {
              Socket s = listener.accept();
              s.setSoTimeout(3000);
              return ReplicaSession.open(
                  s,
                  ReplicaSession.ROLE_HOST_SERVER,
                  s.getLocalAddress(),
                  hostServer.getPrivate(),
                  (address, role, remote) -> {
                    if (!address.equals(remote)) {
                      throw new ProtocolException("says " + address + ", from " + remote);
                    }
                    return manager.getPublic();
                  },
                  1 << 20);
            });
    Socket s = new Socket();
    s.bind(new InetSocketAddress(loopback6, 0));
    s.connect(listener.getLocalSocketAddress());
    s.setSoTimeout(3000);
    try (ReplicaSession m =
            ReplicaSession.open(
                s,
                ReplicaSession.ROLE_MANAGER,
                loopback6,
                manager.getPrivate(),
                (address, role, remote) -> hostServer.getPublic(),
                1 << 20);
        ReplicaSession h = server.get(5, TimeUnit.SECONDS)) {
      assertEquals(2, h.peerVersion());
      assertTrue(h.peerAddress() instanceof Inet6Address);
      assertEquals(loopback6, h.peerAddress());
      assertEquals(2, m.peerVersion());
      assertEquals(loopback6, m.peerAddress());
      byte[] body = new Body.Writer().str("web-6").u32(0).toByteArray();
      m.send(RmType.REMOVE, body);
      Frame f = h.receive();
      assertEquals(RmType.REMOVE, f.type());
      assertArrayEquals(body, f.body());
    }
  }

  @Test
  void shouldRefuseAManagerAddressOfTheOtherFamilyBeforeConnecting() {
    IOException e =
        assertThrows(
            IOException.class,
            () ->
                ReplicaClient.connect(
                    (InetSocketAddress) listener.getLocalSocketAddress(),
                    0x7f000001,
                    manager.getPrivate(),
                    hostServer.getPublic(),
                    (r, p) -> {},
                    (r, st, t) -> {}));
    assertTrue(
        e.getMessage().contains("is IPv6 but the manager address 127.0.0.1 is IPv4"),
        e.getMessage());
  }
}
