package net.hydranet.hostserver.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import net.hydranet.control.auth.Keys;
import net.hydranet.hostserver.replica.fixture.ListenerReplica;
import net.hydranet.replica.Bundle;
import net.hydranet.replica.OriginAddress;
import net.hydranet.replica.ReplicaClient;
import net.hydranet.replica.ReplicaSession;
import net.hydranet.replica.Resources;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The replica service of a host server whose only manager is IPv6: it listens on its IPv6 address
 * alone (here {@code ::1}; the namespace test in router uses 2001:2::/48), nothing on IPv4, speaks
 * HELLO version 2, and counts a HELLO of an unknown version apart from other failures.
 */
class ReplicaServiceIpv6Test {
  private static final Duration T = Duration.ofSeconds(10);

  @TempDir Path tmp;
  private final KeyPair hostKey = Keys.generate();
  private final KeyPair originKey = Keys.generate();
  private final List<Process> started = new ArrayList<>();
  private InetAddress loopback6;
  private ReplicaService service;

  private ReplicaService.Context context() throws IOException {
    return new ReplicaService.Context()
        .address6(loopback6)
        .port(0)
        .key(hostKey.getPrivate())
        .stateDir(tmp.resolve("state"))
        .cgroupRoot(tmp.resolve("cgroup"))
        .helloTimeoutMillis(2000)
        .killWaitMillis(1000)
        .origins(
            List.of(
                new Origin(
                    loopback6,
                    originKey.getPublic(),
                    List.of(OriginAddress.Prefix.parse("2001:2:0:2::/64")),
                    new Resources(128L << 20, 1000, 64, 1024),
                    1)))
        .launcher(
            (origin, argv) -> {
              Process p = new ProcessBuilder("sleep", "30").start();
              started.add(p);
              return p;
            });
  }

  @BeforeEach
  void start() throws IOException {
    loopback6 = InetAddress.getByName("::1");
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, loopback6)) {
      Assumptions.assumeTrue(probe.isBound());
    } catch (IOException e) {
      Assumptions.assumeTrue(false, "no IPv6 loopback here: " + e.getMessage());
    }
    for (String c : List.of("memory", "cpu", "pids")) {
      Files.createDirectories(tmp.resolve("cgroup").resolve(c));
    }
    service = new ReplicaService(context()).start();
  }

  @AfterEach
  void stop() {
    if (service != null) {
      service.removeAll();
      service.close();
    }
    started.forEach(Process::destroyForcibly);
  }

  private ReplicaClient connect() throws IOException {
    return ReplicaClient.connect(
        new InetSocketAddress(loopback6, service.port()),
        loopback6,
        originKey.getPrivate(),
        hostKey.getPublic(),
        (r, p) -> {},
        (r, s, t) -> {});
  }

  @Test
  void shouldServeAnIpv6ManagerOverIpv6AndListenOnNoIpv4Address() throws Exception {
    try (ReplicaClient c = connect()) {
      assertEquals(List.of(), c.status("", T));
    }
    assertEquals(1, service.counters().get(ReplicaCounter.CONNECTIONS));
    // No IPv4 manager, so no IPv4 listener: not on 127.0.0.1, and not on a wildcard either.
    assertThrows(
        java.net.ConnectException.class,
        () -> new Socket().connect(new InetSocketAddress("127.0.0.1", service.port()), 2000));
  }

  @Test
  void shouldInstallAnIpv6OriginsReplicaForAnIpv6Manager() throws Exception {
    Assumptions.assumeTrue(
        "root".equals(System.getProperty("user.name")), "chown of the replica's files needs root");
    try (ReplicaClient c = connect()) {
      byte[] jar =
          TestBundles.jar(
              TestBundles.manifest(ListenerReplica.class, "2001:2:0:2::10", "tcp/80", "80"),
              ListenerReplica.class);
      ReplicaClient.Reply r = c.install("web6", jar, Bundle.sign(jar, originKey.getPrivate()), T);
      assertTrue(r.ok(), r.toString());
      assertEquals("web6", c.status("", T).get(0).name());
    }
    assertEquals(1, service.counters().get(ReplicaCounter.INSTALLS));
  }

  @Test
  void shouldCountAHelloOfAnUnknownVersionApartAndServeTheNextManager() throws Exception {
    for (int[] hello : new int[][] {{3, 1}, {2, 1, 5}}) {
      try (Socket s = new Socket()) {
        s.bind(new InetSocketAddress(loopback6, 0));
        s.connect(new InetSocketAddress(loopback6, service.port()), 2000);
        s.setSoTimeout(5000);
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        int body = hello.length + 16 + 16;
        out.writeInt(1 + 8 + body + ReplicaSession.SIGNATURE);
        out.write(new byte[9]); // HELLO, sequence 0
        for (int b : hello) {
          out.write(b);
        }
        out.write(new byte[body - hello.length + ReplicaSession.SIGNATURE]);
        out.flush();
        var in = s.getInputStream();
        byte[] b = new byte[4096];
        while (in.read(b) >= 0) {
          // the host server's HELLO, then its close
        }
      }
    }
    try (ReplicaClient c = connect()) {
      assertEquals(List.of(), c.status("", T));
    }
    ReplicaCounters n = service.counters();
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (n.get(ReplicaCounter.HANDSHAKE_UNSUPPORTED) < 2 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertEquals(2, n.get(ReplicaCounter.HANDSHAKE_UNSUPPORTED), "version 3, and family 5");
    assertEquals(0, n.get(ReplicaCounter.HANDSHAKE_FAILURES), "counted apart");
  }

  @Test
  void shouldSayWhichAddressAFamilyOfManagersLacks() throws Exception {
    IllegalArgumentException noAddress6 =
        assertThrows(
            IllegalArgumentException.class, () -> new ReplicaService(context().address6(null)));
    assertTrue(
        noAddress6
            .getMessage()
            .contains("origin manager ::1 is IPv6, so the service needs address6"),
        noAddress6.getMessage());
    IllegalArgumentException unused =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new ReplicaService(
                    context()
                        .address(0x7f000001)
                        .origins(
                            List.of(
                                new Origin(
                                    0x7f000002,
                                    originKey.getPublic(),
                                    0xc6120200,
                                    24,
                                    new Resources(128L << 20, 1000, 64, 1024),
                                    1)))));
    assertTrue(
        unused.getMessage().contains("no origin's manager is IPv6: nothing would connect to it"),
        unused.getMessage());
  }
}
