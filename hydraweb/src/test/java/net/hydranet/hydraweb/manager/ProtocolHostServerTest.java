package net.hydranet.hydraweb.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import net.hydranet.replica.Body;
import net.hydranet.replica.Frame;
import net.hydranet.replica.ReplicaSession;
import net.hydranet.replica.RmType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The manager through the real {@link ReplicaClientLink} (signed frames, HELLO, sequence numbers)
 * against a host server that speaks the protocol on loopback and runs its replicas in-process.
 */
class ProtocolHostServerTest {
  private static final int LOOPBACK = 0x7f000001;

  @TempDir Path tmp;

  @Test
  void shouldInstallPreheatServeAndRemoveOverTheReplicaManagementProtocol() throws Exception {
    KeyPair origin = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    KeyPair hostKey = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    Path docroot = Files.createDirectories(tmp.resolve("www"));
    Files.writeString(docroot.resolve("index.html"), "home");
    InMemoryHostServer replicas =
        new InMemoryHostServer(Files.createDirectories(tmp.resolve("hs")), 300);
    try (ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        FakeNginx nginx = new FakeNginx(docroot)) {
      Thread host = serve(listener, origin, hostKey, replicas);
      ManagerConfig config =
          ManagerConfig.builder()
              .managerAddress(InetAddress.getLoopbackAddress())
              .originKey(origin.getPrivate())
              .docroot(docroot)
              .webServer(nginx.base())
              .hostServer(
                  new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()),
                  hostKey.getPublic())
              .bundle(
                  Files.write(tmp.resolve("b.jar"), new byte[] {1}),
                  Files.write(tmp.resolve("b.sig"), new byte[64]))
              .placement(
                  new PlacementPolicy.Settings(
                      1e9, Duration.ZERO, 0, Duration.ZERO, Duration.ZERO, 1, 1))
              .drainMillis(100)
              .build();
      ReplicaManager manager = ReplicaManager.create(config).start();
      try {
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (!(manager.replicaNames().size() == 1
            && manager.isPreheated(manager.replicaNames().get(0)))) {
          assertTrue(System.nanoTime() < deadline, "pre-heated in time: " + manager.snapshot());
          Thread.sleep(20);
        }
        String name = manager.replicaNames().get(0);
        int port = replicas.replica(name).server.localAddress().getPort();
        HttpResponse<String> r =
            HttpClient.newHttpClient()
                .send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/")).build(),
                    HttpResponse.BodyHandlers.ofString());
        assertEquals("home", r.body());
      } finally {
        manager.close(); // removes the replica over the protocol
      }
      assertEquals(1, replicas.removed.size());
      host.join(5000);
    } finally {
      replicas.closeAll();
    }
  }

  /** One connection: INSTALL/REMOVE go to the in-memory host server, APP both ways. */
  private static Thread serve(
      ServerSocket listener, KeyPair manager, KeyPair hostKey, InMemoryHostServer replicas) {
    Thread t =
        new Thread(
            () -> {
              try (Socket s = listener.accept()) {
                ReplicaSession session =
                    ReplicaSession.open(
                        s,
                        ReplicaSession.ROLE_HOST_SERVER,
                        LOOPBACK,
                        hostKey.getPrivate(),
                        (a, role, remote) -> manager.getPublic(),
                        64 << 20);
                HostServerLink local =
                    replicas.connect(
                        null,
                        new HostServerLink.Listener() {
                          @Override
                          public void onApp(String replica, byte[] payload) {
                            try {
                              session.send(
                                  RmType.APP,
                                  new Body.Writer().str(replica).bytes(payload).toByteArray());
                            } catch (IOException e) {
                              // the manager went away
                            }
                          }

                          @Override
                          public void onEvent(String replica, String state, String text) {}
                        });
                while (true) {
                  Frame f = session.receive();
                  Body.Reader r = f.reader();
                  switch (f.type()) {
                    case INSTALL -> {
                      String name = r.str();
                      byte[] sig = r.raw(64);
                      HostServerLink.Reply reply =
                          local.install(name, r.bytes(), sig, Duration.ofSeconds(5));
                      session.send(
                          RmType.OK,
                          new Body.Writer().u64(f.sequence()).str(reply.text()).toByteArray());
                    }
                    case REMOVE -> {
                      HostServerLink.Reply reply =
                          local.remove(r.str(), r.u32(), Duration.ofSeconds(5));
                      session.send(
                          RmType.OK,
                          new Body.Writer().u64(f.sequence()).str(reply.text()).toByteArray());
                    }
                    case APP -> local.sendApp(r.str(), r.bytes());
                    default -> throw new IOException("unexpected " + f.type());
                  }
                }
              } catch (IOException e) {
                // the manager closed
              }
            });
    t.setDaemon(true);
    t.start();
    return t;
  }
}
