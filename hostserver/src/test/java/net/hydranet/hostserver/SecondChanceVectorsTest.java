package net.hydranet.hostserver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.element.GueEncap;
import net.hydranet.forwarding.element.IpipEncap;
import net.hydranet.forwarding.element.PacketContext;
import net.hydranet.forwarding.element.TunnelToOrigin;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.wire.Ipv4Header;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * The byte-exact vectors of SECOND-CHANCE.md ("Test vectors"), read from the document itself and
 * written there by an independent Python implementation of its rules: the Java redirector, host
 * servers and loop guard must produce and accept exactly those bytes.
 */
class SecondChanceVectorsTest {
  static final int CLIENT = Ipv4Header.parseAddress("198.18.0.10");
  static final int ORIGIN = Ipv4Header.parseAddress("198.18.2.10");
  static final int REDIRECTOR = Ipv4Header.parseAddress("198.18.1.1");
  static final int H1 = Ipv4Header.parseAddress("198.18.1.20");
  static final int H2 = Ipv4Header.parseAddress("198.18.1.21");
  static final int H3 = Ipv4Header.parseAddress("198.18.1.22");

  private final Map<String, byte[]> vectors = documented();

  SecondChanceVectorsTest() throws IOException {}

  /** The vectors written in SECOND-CHANCE.md: a fenced block whose first line is "vector: NAME". */
  static Map<String, byte[]> documented() throws IOException {
    Path doc = Path.of("SECOND-CHANCE.md");
    if (!Files.exists(doc)) {
      doc = Path.of("hostserver", "SECOND-CHANCE.md");
    }
    Matcher m =
        Pattern.compile("```\\nvector: ([\\w-]+)\\n(.*?)```", Pattern.DOTALL)
            .matcher(Files.readString(doc));
    Map<String, byte[]> out = new LinkedHashMap<>();
    while (m.find()) {
      out.put(m.group(1), HexFormat.of().parseHex(m.group(2).replaceAll("\\s", "")));
    }
    return out;
  }

  /** H1 the consistent choice of every flow (the only weight above 0), H2 and H3 draining. */
  static RedirectorTable table() {
    RedirectorTable t = new RedirectorTable(4, 4);
    t.put(ORIGIN, Ipv4Header.PROTOCOL_TCP, 80, new int[] {H1, H2, H3}, new int[] {1, 0, 0}, 3);
    return t;
  }

  @Test
  void shouldDocumentEveryVector() {
    assertEquals(
        List.of(
            "inner",
            "redirect",
            "pass-on-1",
            "pass-on-2",
            "pass-on-origin",
            "ipip",
            "ipip-to-origin",
            "walk-1",
            "walk-1-back",
            "walk-2",
            "walk-2-back"),
        new ArrayList<>(vectors.keySet()));
  }

  @Test
  void shouldWriteTheRedirectorsTunnelWithItsHopList() {
    RedirectorTable t = table();
    byte[] inner = vectors.get("inner");
    UnsafeBuffer b = new UnsafeBuffer(new byte[256]);
    b.putBytes(128, inner);
    int[] hops = new int[4];
    int count =
        GueEncap.chooseHops(
            t,
            t.lookup(ORIGIN, Ipv4Header.PROTOCOL_TCP, 80),
            H1,
            GueEncap.addressHash(b, 128),
            hops,
            new long[GueEncap.MAX_CANDIDATES]);
    hops[count++] = REDIRECTOR;
    GueEncap encap = new GueEncap(new Counters(), null, t, 64, false, 1);
    int outer =
        encap.encapsulate(b, 128, REDIRECTOR, H1, GueEncap.addressHash(b, 128), hops, count);
    assertArrayEquals(vectors.get("redirect"), bytes(b, outer, 128 + inner.length - outer));
  }

  @Test
  void shouldPassOnAlongTheListAndBackToTheRedirector() {
    byte[] first = passOn(H1, vectors.get("redirect"));
    assertArrayEquals(vectors.get("pass-on-1"), first);
    byte[] second = passOn(H3, first);
    assertArrayEquals(vectors.get("pass-on-2"), second);
    byte[] last = passOn(H2, second);
    assertArrayEquals(vectors.get("pass-on-origin"), last);
  }

  @Test
  void shouldSendAnIpipSegmentWithoutSocketBackToItsSender() {
    assertArrayEquals(vectors.get("ipip-to-origin"), passOn(H1, vectors.get("ipip")));
  }

  @Test
  void shouldWalkAnIpipPassBackThroughTheCandidatesToTheOrigin() {
    Counters counters = new Counters();
    TunnelToOrigin guard = new TunnelToOrigin(counters, table());
    IpipEncap encap = new IpipEncap(counters, null, 64, false, 2);
    UnsafeBuffer b = new UnsafeBuffer(new byte[256]);
    byte[] back = vectors.get("ipip-to-origin");
    for (String step : List.of("walk-1", "walk-2")) {
      b.putBytes(128, back);
      PacketContext p = new PacketContext();
      p.reset(null, 128, back.length);
      p.l3 = 128;
      p.available = back.length;
      assertEquals(TunnelToOrigin.NEXT_CANDIDATE, guard.process(b, p), step);
      assertEquals(Ipv4Header.source(new UnsafeBuffer(back), 0), guard.sender(), step);
      // As ForwardingPath's walk sends it: the redirector's hop taken, IP-in-IP to the target.
      Ipv4Header.decrementTtl(b, p.l3);
      int outer = encap.encapsulate(b, p.l3, REDIRECTOR, p.target);
      assertArrayEquals(vectors.get(step), bytes(b, outer, back.length), step);
      back =
          passOn(Ipv4Header.destination(new UnsafeBuffer(vectors.get(step)), 0), vectors.get(step));
      assertArrayEquals(vectors.get(step + "-back"), back, step + "-back");
    }
    assertEquals(2, counters.get(Counter.PASSED_BACK_TO_NEXT_CANDIDATE));
    assertEquals(0, counters.get(Counter.TUNNELLED_TO_ORIGIN));
  }

  @Test
  void shouldForwardAUsedUpListToTheOriginWithoutRedirectingIt() {
    Counters counters = new Counters();
    TunnelToOrigin guard = new TunnelToOrigin(counters, table());
    for (String name : List.of("pass-on-origin", "walk-2-back")) {
      byte[] datagram = vectors.get(name);
      UnsafeBuffer b = new UnsafeBuffer(datagram.clone());
      assertTrue(TunnelToOrigin.isTunnel(b, 0, datagram.length), name);
      PacketContext p = new PacketContext();
      p.reset(null, 0, datagram.length);
      p.l3 = 0;
      p.available = datagram.length;
      assertEquals(TunnelToOrigin.FORWARD, guard.process(b, p), name);
      byte[] inner =
          name.equals("pass-on-origin")
              ? vectors.get("inner")
              : Arrays.copyOfRange(datagram, 20, datagram.length);
      assertArrayEquals(inner, bytes(b, p.l3, p.available), name);
      assertEquals(ORIGIN, p.destination);
      assertEquals(0, p.target);
    }
    assertEquals(2, counters.get(Counter.TUNNELLED_TO_ORIGIN));
    // The redirector's own first tunnel, or a hop of it, is no pass-on to the origin: refused.
    for (String name : List.of("redirect", "pass-on-1", "pass-on-2")) {
      byte[] datagram = vectors.get(name);
      UnsafeBuffer b = new UnsafeBuffer(datagram.clone());
      PacketContext p = new PacketContext();
      p.reset(null, 0, datagram.length);
      p.l3 = 0;
      p.available = datagram.length;
      assertEquals(TunnelToOrigin.REFUSED, guard.process(b, p), name);
    }
    assertEquals(3, counters.get(Counter.DROP_TUNNEL_REFUSED));
  }

  /** What host server {@code self}, holding no socket, passes on of {@code datagram}. */
  static byte[] passOn(int self, byte[] datagram) {
    List<byte[]> injected = new ArrayList<>();
    List<byte[]> passed = new ArrayList<>();
    Counters counters = new Counters(HostServerCounter.count());
    VirtualHostTable table = new VirtualHostTable();
    table.addVirtualHost(ORIGIN);
    SecondChance chance =
        new SecondChance(
            self,
            counters,
            (origin, originPort, client, clientPort) -> SocketTable.NOT_HELD,
            record(passed),
            64,
            1_000_000_000L,
            100);
    HostServerPath path =
        new HostServerPath(self, counters, table, record(injected), 4, 1_000_000_000L, chance);
    UnsafeBuffer slot = new UnsafeBuffer(new byte[4096]);
    byte[] frame = new byte[14 + datagram.length];
    frame[12] = 0x08;
    System.arraycopy(datagram, 0, frame, 14, datagram.length);
    slot.putBytes(64, frame);
    path.tick(1_000_000_000L);
    path.process(slot, 64, frame.length, 0);
    assertEquals(List.of(), injected);
    assertEquals(1, passed.size());
    assertEquals(1, counters.get(HostServerCounter.SECOND_CHANCE_SOCKET_CHECKS.id()));
    return passed.get(0);
  }

  static PacketSink record(List<byte[]> into) {
    return (buffer, offset, length) -> {
      byte[] copy = new byte[length];
      buffer.getBytes(offset, copy);
      into.add(copy);
      return true;
    };
  }

  static byte[] bytes(UnsafeBuffer b, int offset, int length) {
    byte[] out = new byte[length];
    b.getBytes(offset, out);
    return out;
  }
}
