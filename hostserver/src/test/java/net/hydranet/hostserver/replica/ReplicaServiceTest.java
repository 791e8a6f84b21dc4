package net.hydranet.hostserver.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import net.hydranet.control.auth.Keys;
import net.hydranet.hostserver.replica.fixture.ListenerReplica;
import net.hydranet.replica.Bundle;
import net.hydranet.replica.OriginAddress;
import net.hydranet.replica.Refusal;
import net.hydranet.replica.ReplicaClient;
import net.hydranet.replica.ReplicaStatus;
import net.hydranet.replica.Resources;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The replica service's refusals and its handling of hostile managers, with a launcher that starts
 * nothing real and a cgroup tree in a temporary directory: no root needed for the refusals, and
 * nothing of a refused bundle is written.
 */
class ReplicaServiceTest {
  private static final int HOST_SERVER = 0x7f000001; // 127.0.0.1
  private static final int MANAGER = 0x7f000002; // 127.0.0.2
  private static final int OTHER_MANAGER = 0x7f000003;
  private static final Duration T = Duration.ofSeconds(10);

  @TempDir Path tmp;
  private final KeyPair hostKey = Keys.generate();
  private final KeyPair originKey = Keys.generate();
  private final KeyPair otherKey = Keys.generate();
  private final AtomicInteger launches = new AtomicInteger();
  private final List<String> launchedOrigins = new CopyOnWriteArrayList<>();
  private final List<List<String>> launchedArgv = new CopyOnWriteArrayList<>();
  private final List<String> drains = new CopyOnWriteArrayList<>();
  private final List<Process> started = new ArrayList<>();
  private ReplicaService service;

  @BeforeEach
  void start() throws IOException {
    Files.createDirectories(tmp.resolve("cgroup"));
    for (String c : List.of("memory", "cpu", "pids")) {
      Files.createDirectories(tmp.resolve("cgroup").resolve(c));
    }
    service =
        new ReplicaService(
                new ReplicaService.Context()
                    .address(HOST_SERVER)
                    .port(0)
                    .key(hostKey.getPrivate())
                    .stateDir(tmp.resolve("state"))
                    .cgroupRoot(tmp.resolve("cgroup"))
                    .helloTimeoutMillis(1000)
                    .killWaitMillis(1000)
                    .origins(
                        List.of(
                            new Origin(
                                MANAGER,
                                originKey.getPublic(),
                                0xc6120200, // 198.18.2.0/24
                                24,
                                new Resources(128L << 20, 1000, 64, 1024),
                                1),
                            new Origin(
                                OTHER_MANAGER,
                                otherKey.getPublic(),
                                List.of(
                                    OriginAddress.Prefix.parse("198.18.3.0/24"),
                                    OriginAddress.Prefix.parse("2001:2:0:2::/64")),
                                new Resources(128L << 20, 1000, 64, 1024),
                                2)))
                    .drainer(
                        (origin, ports) ->
                            drains.add("drain " + OriginAddress.text(origin) + " " + ports))
                    .launcher(
                        (origin, argv) -> {
                          launches.incrementAndGet();
                          launchedOrigins.add(origin);
                          launchedArgv.add(List.copyOf(argv));
                          Process p = new ProcessBuilder("sleep", "30").start();
                          started.add(p);
                          return p;
                        }))
            .start();
  }

  @AfterEach
  void stop() {
    service.removeAll();
    service.close();
    started.forEach(Process::destroyForcibly);
  }

  private ReplicaClient connect(int self, KeyPair key) throws IOException {
    return ReplicaClient.connect(
        new InetSocketAddress("127.0.0.1", service.port()),
        self,
        key.getPrivate(),
        hostKey.getPublic(),
        (r, p) -> {},
        (r, s, t) -> {});
  }

  private static byte[] jar(Map<String, String> m) throws IOException {
    return TestBundles.jar(m, ListenerReplica.class);
  }

  private static Map<String, String> good() {
    return TestBundles.manifest(ListenerReplica.class, "198.18.2.10", "tcp/80", "80");
  }

  private void assertNothingWritten() throws IOException {
    try (Stream<Path> s = Files.list(service.replicasDir())) {
      assertEquals(List.of(), s.toList());
    }
    assertEquals(0, launches.get());
  }

  private void assertRefused(Refusal why, String text, ReplicaClient.Reply reply) {
    assertFalse(reply.ok(), reply.toString());
    assertEquals(why, reply.refusal(), reply.toString());
    assertTrue(reply.text().contains(text), reply.toString());
  }

  @Test
  void shouldRefuseBundlesInTheSpecifiedOrder() throws Exception {
    try (ReplicaClient c = connect(MANAGER, originKey)) {
      byte[] jar = jar(good());
      assertRefused(
          Refusal.BAD_SIGNATURE,
          "signature",
          c.install("web", jar, Bundle.sign(jar, otherKey.getPrivate()), T));
      byte[] tampered = jar.clone();
      tampered[tampered.length - 30] ^= 1;
      assertRefused(
          Refusal.BAD_SIGNATURE,
          "signature",
          c.install("web", tampered, Bundle.sign(jar, originKey.getPrivate()), T));
      Map<String, String> noMemory = good();
      noMemory.remove("HydraNet-Memory");
      byte[] j2 = jar(noMemory);
      assertRefused(
          Refusal.BAD_MANIFEST,
          "HydraNet-Memory",
          c.install("web", j2, Bundle.sign(j2, originKey.getPrivate()), T));
      Map<String, String> outside = good();
      outside.put("HydraNet-Origin", "198.18.3.10"); // the other origin's prefix
      outside.put("HydraNet-Memory", "1g"); // also over the grant: the origin is checked first
      byte[] j3 = jar(outside);
      assertRefused(
          Refusal.WRONG_ORIGIN,
          "198.18.3.10 is outside 198.18.2.0/24",
          c.install("web", j3, Bundle.sign(j3, originKey.getPrivate()), T));
      Map<String, String> big = good();
      big.put("HydraNet-Memory", "129m");
      byte[] j4 = jar(big);
      assertRefused(
          Refusal.EXCEEDS_GRANT,
          "memory 129m > granted 128m",
          c.install("web", j4, Bundle.sign(j4, originKey.getPrivate()), T));
      Map<String, String> pids = good();
      pids.put("HydraNet-Pids", "65");
      byte[] j5 = jar(pids);
      assertRefused(
          Refusal.EXCEEDS_GRANT,
          "pids 65 > granted 64",
          c.install("web", j5, Bundle.sign(j5, originKey.getPrivate()), T));
      assertRefused(
          Refusal.MALFORMED,
          "name",
          c.install("../etc", jar, Bundle.sign(jar, originKey.getPrivate()), T));
      assertRefused(Refusal.NO_SUCH_REPLICA, "web", c.remove("web", 0, T));
      assertNothingWritten();
      ReplicaCounters n = service.counters();
      assertEquals(2, n.refusals(Refusal.BAD_SIGNATURE));
      assertEquals(1, n.refusals(Refusal.BAD_MANIFEST));
      assertEquals(1, n.refusals(Refusal.WRONG_ORIGIN));
      assertEquals(2, n.refusals(Refusal.EXCEEDS_GRANT));
      assertEquals(1, n.refusals(Refusal.MALFORMED));
      assertEquals(1, n.refusals(Refusal.NO_SUCH_REPLICA));
      assertEquals(0, n.get(ReplicaCounter.INSTALLS));
    }
  }

  @Test
  void shouldInstallAReplicaOfAnIpv6OriginAndDrainItsIpv6Service() throws Exception {
    Assumptions.assumeTrue(
        "root".equals(System.getProperty("user.name")), "chown of the replica's files needs root");
    try (ReplicaClient c = connect(OTHER_MANAGER, otherKey)) {
      Map<String, String> outside =
          TestBundles.manifest(ListenerReplica.class, "2001:2:0:3::10", "tcp/80", "80");
      byte[] j1 = jar(outside);
      assertRefused(
          Refusal.WRONG_ORIGIN,
          "2001:2:0:3::10 is outside 198.18.3.0/24, 2001:2:0:2::/64",
          c.install("web6", j1, Bundle.sign(j1, otherKey.getPrivate()), T));
      Map<String, String> m =
          TestBundles.manifest(ListenerReplica.class, "2001:2:0:2:0:0:0:10", "tcp/80", "80");
      byte[] jar = jar(m);
      ReplicaClient.Reply installed =
          c.install("web6", jar, Bundle.sign(jar, otherKey.getPrivate()), T);
      assertTrue(installed.ok(), installed.toString());
      // The virtual host is asked for by the address's one spelling, as 'hydranet vhost' names it.
      assertEquals(List.of("2001:2:0:2::10"), launchedOrigins);
      assertTrue(
          launchedArgv.get(0).stream().noneMatch(a -> a.contains("preferIPv4Stack")),
          "an IPv6 origin's replica keeps its IPv6 stack: " + launchedArgv.get(0));
      // One virtual host per address, whatever the spelling of the second bundle's origin.
      Map<String, String> again =
          TestBundles.manifest(ListenerReplica.class, "2001:2:0:2::0:10", "tcp/80", "80");
      byte[] j2 = jar(again);
      assertRefused(
          Refusal.START_FAILED,
          "virtual host 2001:2:0:2::10 is replica 'web6' here",
          c.install("web6b", j2, Bundle.sign(j2, otherKey.getPrivate()), T));
      ReplicaClient.Reply removed = c.remove("web6", 0, T);
      assertTrue(removed.ok(), removed.toString());
      assertEquals(List.of("drain 2001:2:0:2::10 [tcp/80]"), drains);
    }
  }

  @Test
  void shouldRefuseTooManyReplicasAndANameInUse() throws Exception {
    Assumptions.assumeTrue(
        "root".equals(System.getProperty("user.name")), "chown of the replica's files needs root");
    try (ReplicaClient c = connect(MANAGER, originKey);
        ReplicaClient other = connect(OTHER_MANAGER, otherKey)) {
      byte[] jar = jar(good());
      byte[] sig = Bundle.sign(jar, originKey.getPrivate());
      ReplicaClient.Reply first = c.install("web-1", jar, sig, T);
      assertTrue(first.ok(), first.toString());
      assertRefused(Refusal.TOO_MANY_REPLICAS, "1 of its 1", c.install("web-2", jar, sig, T));
      Map<String, String> same = good();
      same.put("HydraNet-Origin", "198.18.3.10");
      byte[] j0 = jar(same);
      assertTrue(other.install("other-1", j0, Bundle.sign(j0, otherKey.getPrivate()), T).ok());
      assertRefused(
          Refusal.START_FAILED,
          "virtual host 198.18.3.10 is replica 'other-1' here",
          other.install("other-2", j0, Bundle.sign(j0, otherKey.getPrivate()), T));
      Map<String, String> m = good();
      m.put("HydraNet-Origin", "198.18.3.11");
      byte[] j2 = jar(m);
      assertRefused(
          Refusal.NAME_IN_USE,
          "web-1",
          other.install("web-1", j2, Bundle.sign(j2, otherKey.getPrivate()), T));
      // Another origin can neither see, remove nor message this origin's replica.
      assertEquals(
          List.of("other-1"), other.status("", T).stream().map(ReplicaStatus::name).toList());
      assertRefused(Refusal.NO_SUCH_REPLICA, "web-1", other.remove("web-1", 0, T));
      List<ReplicaStatus> mine = c.status("", T);
      assertEquals(1, mine.size());
      assertEquals("web-1", mine.get(0).name());
      assertEquals("tcp/80", mine.get(0).ports());
      assertEquals(128L << 20, mine.get(0).memoryLimit());
      Path dir = service.replicasDir().resolve("web-1");
      assertTrue(Files.isRegularFile(dir.resolve("bundle.jar")));
      assertEquals("128m".length(), 4);
      assertEquals(
          Long.toString(128L << 20),
          Files.readString(tmp.resolve("cgroup/memory/hydranet/web-1/memory.limit_in_bytes")));
      assertEquals(
          "50000", Files.readString(tmp.resolve("cgroup/cpu/hydranet/web-1/cpu.cfs_quota_us")));
      assertEquals("64", Files.readString(tmp.resolve("cgroup/pids/hydranet/web-1/pids.max")));
      ReplicaClient.Reply removed = c.remove("web-1", 0, T);
      assertTrue(removed.ok(), removed.toString());
      assertFalse(Files.exists(dir));
      assertTrue(c.install("web-2", jar, sig, T).ok(), "the slot is free again");
    }
  }

  @Test
  void shouldSurviveHostileConnections() throws Exception {
    // Garbage, a forged HELLO, a stranger, a silent connection: each is closed and counted, and
    // a real manager is served afterwards.
    try (Socket garbage = from(MANAGER)) {
      garbage.getOutputStream().write(new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff});
      garbage.setSoTimeout(5000);
      assertThrows(IOException.class, () -> drain(garbage));
    }
    // The host server says HELLO first, so this connects, and then finds the connection closed.
    try (ReplicaClient forged = connect(MANAGER, Keys.generate())) {
      assertThrows(IOException.class, () -> forged.status("", T));
    }
    // An address that is no manager's is closed at accept: it never even gets our HELLO.
    assertThrows(IOException.class, () -> connect(0x7f000009, originKey));
    try (Socket silent = from(MANAGER)) {
      silent.setSoTimeout(5000);
      assertThrows(IOException.class, () -> drain(silent), "the HELLO deadline closes it");
    }
    try (ReplicaClient c = connect(MANAGER, originKey)) {
      assertEquals(List.of(), c.status("", T));
      assertRefused(Refusal.NO_SUCH_REPLICA, "nope", c.remove("nope", 0, T));
    }
    ReplicaCounters n = service.counters();
    assertEquals(2, n.get(ReplicaCounter.HANDSHAKE_FAILURES), "garbage and the forged key");
    assertEquals(1, n.get(ReplicaCounter.HANDSHAKE_TIMEOUTS), "the silent one");
    assertEquals(1, n.get(ReplicaCounter.REFUSED_UNKNOWN_SOURCE), "the stranger");
  }

  /**
   * Slowloris: a HELLO sent a byte every 300 ms never lets one read wait the 1 s timeout, and took
   * 30 s under a per-read timeout; the whole HELLO's deadline cuts it at 1 s.
   */
  @Test
  void shouldCutATricklingHelloAtTheDeadline() throws Exception {
    try (Socket slow = from(MANAGER)) {
      slow.setSoTimeout(10_000);
      AtomicInteger sent = new AtomicInteger();
      Thread trickle =
          new Thread(
              () -> {
                byte[] hello = new byte[4 + 95];
                hello[3] = 95; // a well-formed length: the host server waits for the rest
                try {
                  for (byte b : hello) {
                    slow.getOutputStream().write(b);
                    slow.getOutputStream().flush();
                    sent.incrementAndGet();
                    Thread.sleep(300);
                  }
                } catch (IOException | InterruptedException e) {
                  // cut
                }
              });
      trickle.setDaemon(true);
      long t0 = System.nanoTime();
      trickle.start();
      assertThrows(IOException.class, () -> drain(slow), "closed by the host server");
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ms >= 900 && ms < 4000, "cut after " + ms + " ms");
      assertTrue(sent.get() >= 3 && sent.get() < 99, sent.get() + " bytes sent before the cut");
    }
    ReplicaCounters n = service.counters();
    assertEquals(1, n.get(ReplicaCounter.HANDSHAKE_TIMEOUTS));
    assertEquals(0, n.get(ReplicaCounter.HANDSHAKE_FAILURES));
  }

  /**
   * 70 idle connections from a stranger's address and 70 trickling HELLOs from the manager's own
   * address (more than the 64 connections the service takes in all): the manager is admitted at
   * every one of 20 tries, each made after the attacker opened 4 more.
   */
  @Test
  void shouldAdmitTheManagerPastManyIdleAndSlowConnections() throws Exception {
    List<Socket> attack = new ArrayList<>();
    try {
      for (int i = 0; i < 70; i++) {
        attack.add(from(0x7f000009));
        attack.add(slowHello(MANAGER));
      }
      int admitted = 0;
      for (int i = 0; i < 20; i++) {
        for (int j = 0; j < 4; j++) {
          attack.add(slowHello(MANAGER));
        }
        try (ReplicaClient c = connect(MANAGER, originKey)) {
          if (c.status("", T).isEmpty()) {
            admitted++;
          }
        } catch (IOException e) {
          // not admitted
        }
      }
      assertEquals(20, admitted, "the manager admitted at every try");
    } finally {
      attack.forEach(ReplicaServiceTest::closeQuietly);
    }
    ReplicaCounters n = service.counters();
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (n.get(ReplicaCounter.REFUSED_UNKNOWN_SOURCE) < 70 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertEquals(70, n.get(ReplicaCounter.REFUSED_UNKNOWN_SOURCE));
    // Each trickling HELLO beyond the 4 in progress evicts the oldest (unless its 1 s ran out).
    assertTrue(
        n.get(ReplicaCounter.HANDSHAKES_EVICTED) >= 50,
        "evicted " + n.get(ReplicaCounter.HANDSHAKES_EVICTED));
    assertEquals(0, n.get(ReplicaCounter.CONNECTIONS_OVER_LIMIT));
    assertEquals(0, n.get(ReplicaCounter.HANDSHAKES_OVER_LIMIT));
  }

  /** A connection from {@code self} (on lo) to the service. */
  private Socket from(int self) throws IOException {
    Socket s = new Socket();
    s.bind(new InetSocketAddress(ReplicaService.inet(self), 0));
    s.connect(new InetSocketAddress("127.0.0.1", service.port()), 2000);
    return s;
  }

  /** A connection from {@code self} that starts a HELLO and sends nothing more. */
  private Socket slowHello(int self) throws IOException {
    Socket s = from(self);
    s.getOutputStream().write(new byte[] {0, 0});
    return s;
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // closing
    }
  }

  @Test
  void shouldLimitConnectionsPerOrigin() throws Exception {
    List<ReplicaClient> open = new ArrayList<>();
    try {
      for (int i = 0; i < 8; i++) {
        ReplicaClient c = connect(MANAGER, originKey);
        open.add(c);
        assertEquals(List.of(), c.status("", T)); // served
      }
      try (ReplicaClient ninth = connect(MANAGER, originKey)) {
        assertThrows(IOException.class, () -> ninth.status("", T), "the ninth is closed");
      }
      try (ReplicaClient other = connect(OTHER_MANAGER, otherKey)) {
        assertEquals(List.of(), other.status("", T), "another origin is still served");
      }
      assertEquals(1, service.counters().get(ReplicaCounter.ORIGIN_OVER_LIMIT));
      open.remove(0).close();
      long deadline = System.nanoTime() + 5_000_000_000L;
      boolean served = false;
      while (!served && System.nanoTime() < deadline) {
        try (ReplicaClient again = connect(MANAGER, originKey)) {
          served = again.status("", T).isEmpty();
        } catch (IOException e) {
          Thread.sleep(50); // the closed one's slot is freed when its reader sees the close
        }
      }
      assertTrue(served, "a slot freed by a closed connection is used again");
    } finally {
      open.forEach(ReplicaClient::close);
    }
  }

  /** Reads until the peer closes; an EOF becomes an IOException for assertThrows. */
  private static void drain(Socket s) throws IOException {
    var in = s.getInputStream();
    byte[] b = new byte[4096];
    while (in.read(b) >= 0) {
      // the host server's HELLO
    }
    throw new IOException("closed by the host server");
  }

  @Test
  void shouldBindTheControlAddressOnly() throws Exception {
    // 127.0.0.2 is on lo too: the service must not answer there.
    Socket s = new Socket();
    try (s) {
      assertThrows(
          IOException.class,
          () -> s.connect(new InetSocketAddress("127.0.0.2", service.port()), 2000));
    }
    try (Socket ok = new Socket()) {
      ok.connect(new InetSocketAddress("127.0.0.1", service.port()), 2000);
      new DataOutputStream(ok.getOutputStream()).writeInt(0);
    }
  }
}
