package net.hydranet.control.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.function.BooleanSupplier;
import net.hydranet.control.auth.Signer;
import net.hydranet.control.rib.Rib;
import net.hydranet.control.wire.Addresses;
import net.hydranet.control.wire.Message;
import org.junit.jupiter.api.Test;

/**
 * Agents talking over real UDP sockets on loopback addresses: a host server's announcement reaches
 * a redirector's table and a second redirector's through the first; a host server that stops is
 * removed after its hold time; a graceful one drains first.
 */
class AgentLoopbackTest {
  private static final int PORT = 16226;
  private static final Rib.Settings RIB = new Rib.Settings(15_000_000_000L, 30_000_000_000L, 20, 8);

  private final Nodes nodes = new Nodes();
  private final int r1 = nodes.add("127.0.61.1", Message.ROLE_REDIRECTOR);
  private final int r2 = nodes.add("127.0.61.2", Message.ROLE_REDIRECTOR);
  private final int hs = nodes.add("127.0.61.3", Message.ROLE_HOST_SERVER);
  private final int origin = Addresses.parse("198.18.2.10");

  private RedirectorAgent redirector(int self, Map<Integer, Integer> trust, RecordingWriter w)
      throws Exception {
    RedirectorAgent a =
        new RedirectorAgent(
            ControlAgent.Settings.defaults(self).withPort(PORT).withHold(500),
            new Signer(nodes.keys.get(self).getPrivate()),
            nodes.gatekeeper(self, trust, Nodes.allow(origin, hs)),
            RIB,
            w);
    a.start();
    return a;
  }

  private HostServerAgent hostServer() throws Exception {
    HostServerAgent a =
        new HostServerAgent(
            ControlAgent.Settings.defaults(hs).withPort(PORT).withHold(500),
            new Signer(nodes.keys.get(hs).getPrivate()),
            nodes.gatekeeper(hs, Map.of(r1, 1), Nodes.allow(origin, hs)),
            100,
            () -> 10);
    a.start();
    return a;
  }

  private static long await(BooleanSupplier condition, long timeoutMillis) throws Exception {
    long start = System.nanoTime();
    while (!condition.getAsBoolean()) {
      assertTrue(
          System.nanoTime() - start < timeoutMillis * 1_000_000L,
          "condition not met within " + timeoutMillis + " ms");
      Thread.sleep(5);
    }
    return (System.nanoTime() - start) / 1_000_000L;
  }

  @Test
  void announcementReachesTwoRedirectorsAndFailureRemovesIt() throws Exception {
    RecordingWriter w1 = new RecordingWriter();
    RecordingWriter w2 = new RecordingWriter();
    try (RedirectorAgent a1 = redirector(r1, Map.of(hs, 1, r2, 1), w1);
        RedirectorAgent a2 = redirector(r2, Map.of(r1, 1), w2)) {
      HostServerAgent h = hostServer();
      try {
        h.portBound(origin, 6, 80);
        long first = await(() -> w1.get(origin, 6, 80) != null, 2000);
        long second = await(() -> w2.get(origin, 6, 80) != null, 2000);
        assertEquals("[" + hs + "][100]", w1.get(origin, 6, 80));
        assertEquals("[" + hs + "][100]", w2.get(origin, 6, 80));
        assertTrue(first < 1000 && second < 1000, first + " / " + second + " ms");
        assertTrue(a2.show("table").contains("via redirector 127.0.61.1"), a2.show("table"));
        assertTrue(a1.show("table").contains("distance 1"), a1.show("table"));
        assertTrue(a2.show("table").contains("distance 2"), a2.show("table"));
      } finally {
        h.close(); // stops without goodbye: like SIGKILL
      }
      long gone = await(() -> w1.get(origin, 6, 80) == null, 3000);
      await(() -> w2.get(origin, 6, 80) == null, 3000);
      assertTrue(gone >= 300, "removed after " + gone + " ms, before its 500 ms hold time");
      assertEquals(1, a1.counters().get(ControlCounter.HOST_SERVERS_LOST));
    }
  }

  @Test
  void gracefulShutdownDrainsThenWithdraws() throws Exception {
    RecordingWriter w1 = new RecordingWriter();
    try (RedirectorAgent a1 = redirector(r1, Map.of(hs, 1), w1)) {
      HostServerAgent h = hostServer();
      try {
        h.portBound(origin, 17, 53);
        await(() -> w1.get(origin, 17, 53) != null, 2000);
        Thread drain =
            new Thread(
                () -> {
                  try {
                    h.drainAndLeave(600);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
        drain.start();
        await(() -> ("[" + hs + "][0]").equals(w1.get(origin, 17, 53)), 2000);
        drain.join(5000);
        await(() -> w1.get(origin, 17, 53) == null, 1000);
        assertEquals(0, a1.counters().get(ControlCounter.HOST_SERVERS_LOST));
      } finally {
        h.close();
      }
      assertNull(w1.get(origin, 17, 53));
    }
  }

  @Test
  void drainedServiceStaysAtWeightZeroEvenWhenBoundAgain() throws Exception {
    RecordingWriter w1 = new RecordingWriter();
    try (RedirectorAgent a1 = redirector(r1, Map.of(hs, 1), w1);
        HostServerAgent h = hostServer()) {
      h.portBound(origin, 6, 80);
      h.portBound(origin, 6, 81);
      await(() -> ("[" + hs + "][100]").equals(w1.get(origin, 6, 80)), 2000);
      h.drainService(origin, 6, 80);
      await(() -> ("[" + hs + "][0]").equals(w1.get(origin, 6, 80)), 2000);
      h.portBound(origin, 6, 80); // the replica being removed binds again: still drained
      h.portBound(origin, 6, 82);
      await(() -> w1.get(origin, 6, 82) != null, 2000);
      assertEquals("[" + hs + "][0]", w1.get(origin, 6, 80));
      assertEquals("[" + hs + "][100]", w1.get(origin, 6, 81), "other services keep their weight");
      // The replica is gone but its port not yet withdrawn: still weight 0, never full weight
      // for a virtual host that is going away.
      h.undrainService(origin, 6, 80);
      h.portBound(origin, 6, 83);
      await(() -> w1.get(origin, 6, 83) != null, 2000);
      assertEquals("[" + hs + "][0]", w1.get(origin, 6, 80), "undrained while still bound");
      h.portClosed(origin, 6, 80);
      await(() -> w1.get(origin, 6, 80) == null, 2000);
      h.portBound(origin, 6, 80); // a new replica of the service
      await(() -> ("[" + hs + "][100]").equals(w1.get(origin, 6, 80)), 2000);
      assertTrue(a1.isRunning());
    }
  }

  @Test
  void portClosedIsWithdrawnAtOnce() throws Exception {
    RecordingWriter w1 = new RecordingWriter();
    try (RedirectorAgent a1 = redirector(r1, Map.of(hs, 1), w1);
        HostServerAgent h = hostServer()) {
      h.portBound(origin, 6, 8080);
      await(() -> w1.get(origin, 6, 8080) != null, 2000);
      h.portClosed(origin, 6, 8080);
      long t = await(() -> w1.get(origin, 6, 8080) == null, 1000);
      assertTrue(t < 500, "withdrawn after " + t + " ms");
      assertTrue(a1.isRunning());
    }
  }

  @Test
  void twoRedirectorsExchangeHellosOnceNotForever() throws Exception {
    RecordingWriter w1 = new RecordingWriter();
    RecordingWriter w2 = new RecordingWriter();
    try (RedirectorAgent a1 = redirector(r1, Map.of(r2, 1), w1);
        RedirectorAgent a2 = redirector(r2, Map.of(r1, 1), w2)) {
      Thread.sleep(1000);
      // Per second: HELLO and REQUEST at start, a KEEPALIVE every hold/3 (166 ms), a few replies.
      long sent = a1.counters().get(ControlCounter.SENT) + a2.counters().get(ControlCounter.SENT);
      assertTrue(
          sent < 40,
          a1.show("counters")
              + a2.show("counters")
              + sent
              + " messages in one second between two idle redirectors");
      assertTrue(a1.show("peers").contains("127.0.61.2"), a1.show("peers"));
      assertTrue(a2.show("peers").contains("127.0.61.1"), a2.show("peers"));
    }
  }
}
