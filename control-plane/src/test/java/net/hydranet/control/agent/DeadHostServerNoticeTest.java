package net.hydranet.control.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import net.hydranet.control.auth.Signer;
import net.hydranet.control.rib.Rib;
import net.hydranet.control.wire.Addresses;
import net.hydranet.control.wire.Entry;
import net.hydranet.control.wire.Message;
import org.junit.jupiter.api.Test;

/**
 * The redirector tells its table writer that a host server is dead when its hold time expires —
 * just before the writes that take it out of its services, so every flow pinned to it is released
 * and counted however the forwarding thread interleaves the two — and not when it says goodbye
 * (issue 20, item 4). Real agents over UDP on loopback addresses of their own (127.0.68.0/24, port
 * 16268).
 */
class DeadHostServerNoticeTest {
  private static final int PORT = 16268;
  private static final Rib.Settings RIB = new Rib.Settings(15_000_000_000L, 30_000_000_000L, 20, 8);

  private final Nodes nodes = new Nodes();
  private final int r1 = nodes.add("127.0.68.1", Message.ROLE_REDIRECTOR);
  private final int hs = nodes.add("127.0.68.3", Message.ROLE_HOST_SERVER);
  private final int origin = Addresses.parse("198.18.2.10");

  private RedirectorAgent redirector(RecordingWriter w) throws Exception {
    RedirectorAgent a =
        new RedirectorAgent(
            ControlAgent.Settings.defaults(r1).withPort(PORT).withHold(500),
            new Signer(nodes.keys.get(r1).getPrivate()),
            nodes.gatekeeper(r1, Map.of(hs, 1), Nodes.allow(origin, hs)),
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
  void shouldDeclareAHostServerDeadAfterItsHoldTimeJustBeforeTheTableWrites() throws Exception {
    RecordingWriter w = new RecordingWriter();
    try (RedirectorAgent a = redirector(w)) {
      HostServerAgent h = hostServer();
      try {
        h.portBound(origin, 17, 53);
        h.portBound(origin, 6, 80);
        await(() -> w.get(origin, 17, 53) != null && w.get(origin, 6, 80) != null, 2000);
      } finally {
        h.close(); // no goodbye: like SIGKILL
      }
      long declared = await(() -> w.calls.contains("dead " + hs), 3000);
      assertTrue(declared >= 300, "declared after " + declared + " ms, before its 500 ms hold");
      List<String> calls = w.calls;
      int dead = calls.indexOf("dead " + hs);
      assertTrue(
          calls.indexOf("remove " + Entry.service(origin, 17, 53)) > dead
              && calls.indexOf("remove " + Entry.service(origin, 6, 80)) > dead,
          "the notice first, then the table: " + calls);
      assertEquals(1, calls.stream().filter(c -> c.startsWith("dead ")).count(), calls.toString());
      assertEquals(1, a.counters().get(ControlCounter.HOST_SERVERS_LOST));
    }
  }

  @Test
  void shouldNotDeclareAHostServerThatSaidGoodbyeDead() throws Exception {
    RecordingWriter w = new RecordingWriter();
    try (RedirectorAgent a = redirector(w)) {
      HostServerAgent h = hostServer();
      h.portBound(origin, 17, 53);
      await(() -> w.get(origin, 17, 53) != null, 2000);
      try {
        h.drainAndLeave(100);
      } finally {
        h.close(); // silent from the goodbye on, as a host server that has left
      }
      await(() -> w.get(origin, 17, 53) == null, 2000);
      Thread.sleep(700); // past its hold time: a goodbye leaves nothing to expire
      assertTrue(w.calls.stream().noneMatch(c -> c.startsWith("dead ")), w.calls.toString());
      assertEquals(0, a.counters().get(ControlCounter.HOST_SERVERS_LOST));
    }
  }
}
