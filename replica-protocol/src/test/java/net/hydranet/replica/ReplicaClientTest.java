package net.hydranet.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The manager's client against a scripted host server on loopback. */
class ReplicaClientTest {
  private static final int LOOPBACK = 0x7f000001;
  private final KeyPair origin = TestKeys.generate();
  private final KeyPair hostServer = TestKeys.generate();

  /** A host server that answers INSTALL with OK, echoes APP, and answers STATUS with one row. */
  private Thread serve(ServerSocket listener, KeyPair managerKey) {
    Thread t =
        new Thread(
            () -> {
              try (Socket s = listener.accept()) {
                s.setSoTimeout(5000);
                ReplicaSession session =
                    ReplicaSession.open(
                        s,
                        ReplicaSession.ROLE_HOST_SERVER,
                        LOOPBACK,
                        hostServer.getPrivate(),
                        (a, role, remote) -> managerKey.getPublic(),
                        1 << 20);
                while (true) {
                  Frame f = session.receive();
                  Body.Reader r = f.reader();
                  switch (f.type()) {
                    case INSTALL -> {
                      String name = r.str();
                      session.send(
                          RmType.OK, new Body.Writer().u64(f.sequence()).str(name).toByteArray());
                    }
                    case REMOVE ->
                        session.send(
                            RmType.REFUSED,
                            new Body.Writer()
                                .u64(f.sequence())
                                .u8(Refusal.NO_SUCH_REPLICA.code)
                                .str(r.str())
                                .toByteArray());
                    case STATUS -> {
                      Body.Writer w = new Body.Writer().u64(f.sequence()).u16(1);
                      new ReplicaStatus(
                              "web-1", "running", 42, 1 << 20, 64 << 20, 5, 3, 0, 0, "tcp/80")
                          .encode(w);
                      session.send(RmType.STATUS_REPLY, w.toByteArray());
                    }
                    case APP -> session.send(RmType.APP, f.body());
                    default -> throw new ProtocolException("unexpected " + f.type());
                  }
                }
              } catch (IOException e) {
                // the client closed, or the test's forged client was refused
              }
            });
    t.setDaemon(true);
    t.start();
    return t;
  }

  @Test
  void installRemoveStatusAndAppRoundTrip() throws Exception {
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      serve(listener, origin);
      BlockingQueue<String> apps = new ArrayBlockingQueue<>(4);
      try (ReplicaClient c =
          ReplicaClient.connect(
              new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()),
              LOOPBACK,
              origin.getPrivate(),
              hostServer.getPublic(),
              (replica, payload) ->
                  apps.add(replica + ":" + new String(payload, StandardCharsets.UTF_8)),
              (replica, state, text) -> {})) {
        ReplicaClient.Reply ok =
            c.install("web-1", new byte[] {1, 2, 3}, new byte[64], Duration.ofSeconds(5));
        assertTrue(ok.ok(), ok.toString());
        assertEquals("web-1", ok.text());
        ReplicaClient.Reply no = c.remove("web-9", 0, Duration.ofSeconds(5));
        assertFalse(no.ok());
        assertEquals(Refusal.NO_SUCH_REPLICA, no.refusal());
        List<ReplicaStatus> st = c.status("", Duration.ofSeconds(5));
        assertEquals(1, st.size());
        assertEquals(42, st.get(0).pid());
        assertEquals("tcp/80", st.get(0).ports());
        c.sendApp("web-1", "hello".getBytes(StandardCharsets.UTF_8));
        assertEquals("web-1:hello", apps.poll(5, TimeUnit.SECONDS));
      }
    }
  }

  @Test
  void aHostServerWithAnotherKeyIsRefusedAtHello() throws Exception {
    KeyPair impostor = TestKeys.generate();
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      serve(listener, origin);
      assertThrows(
          ProtocolException.class,
          () ->
              ReplicaClient.connect(
                  new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()),
                  LOOPBACK,
                  origin.getPrivate(),
                  impostor.getPublic(),
                  (r, p) -> {},
                  (r, s, t) -> {}));
    }
  }
}
