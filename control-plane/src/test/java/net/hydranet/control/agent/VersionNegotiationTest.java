package net.hydranet.control.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import net.hydranet.control.auth.Authorisations;
import net.hydranet.control.auth.SessionTags;
import net.hydranet.control.auth.Signer;
import net.hydranet.control.rib.Rib;
import net.hydranet.control.wire.Addresses;
import net.hydranet.control.wire.Codec;
import net.hydranet.control.wire.Message;
import net.hydranet.control.wire.MessageType;
import net.hydranet.control.wire.Service;
import org.junit.jupiter.api.Test;

/**
 * Protocol versions between real agents on loopback (IPV6.md §2): two version-2 nodes learn each
 * other's version from their HELLOs and an IPv6 service reaches the redirector's table; a version-1
 * node (played here by a socket that speaks version 1 exactly) is sent only version-1 messages with
 * the IPv6 entries withheld and counted; a datagram of an unknown version is refused and counted.
 */
class VersionNegotiationTest {
  private static final int PORT = 16236;
  private static final Rib.Settings RIB = new Rib.Settings(15_000_000_000L, 30_000_000_000L, 20, 8);

  private final Nodes nodes = new Nodes();
  private final int r1 = nodes.add("127.0.62.1", Message.ROLE_REDIRECTOR);
  private final int old = nodes.add("127.0.62.2", Message.ROLE_REDIRECTOR);
  private final int hs = nodes.add("127.0.62.3", Message.ROLE_HOST_SERVER);
  private final int origin = Addresses.parse("198.18.2.10");
  private final long[] origin6 = Addresses.parseIpv6("2001:2::10");
  private final Service web6 = Service.ipv6(origin6[0], origin6[1], 6, 80);
  private final Authorisations auth =
      new Authorisations(
          List.of(new Authorisations.Rule(origin, 32, Set.of(hs))),
          List.of(new Authorisations.Rule6(origin6[0], origin6[1], 128, Set.of(hs))));

  private RedirectorAgent redirector(RecordingWriter w, Map<Integer, Integer> trust)
      throws Exception {
    RedirectorAgent a =
        new RedirectorAgent(
            ControlAgent.Settings.defaults(r1).withPort(PORT).withHold(500),
            new Signer(nodes.keys.get(r1).getPrivate()),
            nodes.gatekeeper(r1, trust, auth),
            RIB,
            w);
    a.start();
    return a;
  }

  private HostServerAgent hostServer(Map<Integer, Integer> trust) throws Exception {
    HostServerAgent a =
        new HostServerAgent(
            ControlAgent.Settings.defaults(hs).withPort(PORT).withHold(500),
            new Signer(nodes.keys.get(hs).getPrivate()),
            nodes.gatekeeper(hs, trust, auth),
            100,
            () -> 10);
    a.start();
    return a;
  }

  private static void await(BooleanSupplier condition, long timeoutMillis) throws Exception {
    long end = System.nanoTime() + timeoutMillis * 1_000_000L;
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < end, "condition not met within " + timeoutMillis + " ms");
      Thread.sleep(5);
    }
  }

  @Test
  void shouldCarryAnIpv6ServiceBetweenTwoVersion2Nodes() throws Exception {
    RecordingWriter w = new RecordingWriter();
    try (RedirectorAgent r = redirector(w, Map.of(hs, 1));
        HostServerAgent h = hostServer(Map.of(r1, 1))) {
      h.portBound(origin, 6, 80);
      h.portBound(web6);
      await(() -> w.get(web6) != null && w.get(origin, 6, 80) != null, 3000);
      assertEquals("[" + hs + "][100]", w.get(web6));
      assertTrue(r.show("peers").contains("reads v2"), r.show("peers"));
      assertTrue(h.show().contains("reads version 2"), h.show());
      assertTrue(r.show("table").contains("[2001:2::10]:80/tcp"), r.show("table"));
      // (An announcement on the host server's first tick, before the redirector's HELLO told
      // it the version, may have held the IPv6 entry back: counted, then sent once known.)
      h.portClosed(web6);
      await(() -> w.get(web6) == null, 2000);
      assertTrue(w.get(origin, 6, 80) != null, "the IPv4 service stays");
    }
  }

  /** A version-1 redirector: it signs and sends version 1 exactly as the old code did. */
  private final class OldRedirector implements AutoCloseable {
    final DatagramSocket socket;
    final Signer signer = new Signer(nodes.keys.get(old).getPrivate());
    long timestamp = System.currentTimeMillis() * 1000;

    OldRedirector() throws Exception {
      socket = new DatagramSocket(new InetSocketAddress(address(old), PORT));
      socket.setSoTimeout(100);
    }

    void send(Message m, int to) throws Exception {
      byte[] d = signer.sign(Codec.encodeUnsigned(m));
      socket.send(new DatagramPacket(d, d.length, new InetSocketAddress(address(to), PORT)));
    }

    void send(MessageType type, int role, int to) throws Exception {
      send(new Message(type, old, ++timestamp, 3000, role, List.of()), to);
    }

    /** What arrived within {@code millis}, decoded, the tag stripped. */
    List<Message> receive(long millis) throws Exception {
      List<Message> out = new ArrayList<>();
      byte[] buffer = new byte[2048];
      long end = System.nanoTime() + millis * 1_000_000L;
      while (System.nanoTime() < end) {
        DatagramPacket p = new DatagramPacket(buffer, buffer.length);
        try {
          socket.receive(p);
        } catch (SocketTimeoutException e) {
          continue;
        }
        byte[] d = Arrays.copyOf(p.getData(), p.getLength());
        int length = SessionTags.tagged(d, d.length) ? d.length - SessionTags.TAG : d.length;
        out.add(Codec.decode(d, length));
      }
      return out;
    }

    @Override
    public void close() {
      socket.close();
    }
  }

  private static InetAddress address(int a) throws Exception {
    return InetAddress.getByName(Addresses.format(a));
  }

  @Test
  void shouldSendAVersion1NodeOnlyVersion1AndCountTheIpv6EntriesWithheld() throws Exception {
    try (OldRedirector r = new OldRedirector();
        HostServerAgent h = hostServer(Map.of(old, 1))) {
      h.portBound(origin, 6, 80);
      h.portBound(web6);
      r.send(MessageType.HELLO, Message.ROLE_REDIRECTOR, hs); // reads octet 0: version 1
      List<Message> got = r.receive(1500);
      List<Message> announces = new ArrayList<>();
      for (Message m : got) {
        assertEquals(Codec.VERSION, m.version(), "a version-1 node gets version 1 only: " + m);
        if (m.type() == MessageType.ANNOUNCE) {
          announces.add(m);
        }
      }
      assertFalse(announces.isEmpty(), "announced: " + got);
      Message last = announces.get(announces.size() - 1);
      assertEquals(1, last.entries().size(), last.toString());
      assertTrue(last.entries().get(0).isIpv4());
      // Counted for every message it was held back from (announcements sent before the IPv6
      // service was bound had none to hold back).
      assertTrue(h.counters().get(ControlCounter.IPV6_ENTRIES_WITHHELD) > 0, h.show());
      assertTrue(h.show().contains("127.0.62.2 (reads version 1)"), h.show());
    }
  }

  @Test
  void shouldRefuseAndCountAnUnknownVersion() throws Exception {
    RecordingWriter w = new RecordingWriter();
    try (OldRedirector r = new OldRedirector();
        RedirectorAgent a = redirector(w, Map.of(old, 1))) {
      byte[] d =
          r.signer.sign(
              Codec.encodeUnsigned(
                  new Message(MessageType.KEEPALIVE, old, ++r.timestamp, 3000, 0, List.of())));
      d[2] = 3; // a version this node does not read (the signature no longer matters)
      for (int i = 0; i < 3; i++) {
        r.socket.send(new DatagramPacket(d, d.length, new InetSocketAddress(address(r1), PORT)));
      }
      await(() -> a.counters().get(ControlCounter.REFUSED_BAD_VERSION) == 3, 2000);
      assertTrue(a.isRunning());
    }
  }
}
