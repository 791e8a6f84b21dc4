package net.hydranet.hostserver;

import static net.hydranet.hostserver.SecondChanceVectorsTest.H1;
import static net.hydranet.hostserver.SecondChanceVectorsTest.H2;
import static net.hydranet.hostserver.SecondChanceVectorsTest.ORIGIN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.GueHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.TcpHeader;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The host server's second-chance decisions, on the documented frames varied one field at a time.
 */
class SecondChanceTest {
  private static final long NOW = 5_000_000_000L;
  private static final int TCP_FLAGS = 20 + GueHeader.length(3) + 20 + TcpHeader.FLAGS_OFFSET;

  private final Map<String, byte[]> vectors = SecondChanceVectorsTest.documented();
  private final List<byte[]> injected = new ArrayList<>();
  private final List<byte[]> passed = new ArrayList<>();
  private final Counters counters = new Counters(HostServerCounter.count());
  private int answer = SocketTable.NOT_HELD;
  private int queries;
  private boolean passOnWorks = true;
  private HostServerPath path;
  private final UnsafeBuffer slot = new UnsafeBuffer(new byte[4096]);

  SecondChanceTest() throws IOException {}

  @BeforeEach
  void build() {
    path = newPath(H1, 2);
  }

  private HostServerPath newPath(int self, int checksPerSecond) {
    VirtualHostTable table = new VirtualHostTable();
    table.addVirtualHost(ORIGIN);
    SecondChance chance =
        new SecondChance(
            self,
            counters,
            (origin, originPort, client, clientPort) -> {
              queries++;
              return answer;
            },
            (buffer, offset, length) -> {
              if (!passOnWorks) {
                return false;
              }
              byte[] copy = new byte[length];
              buffer.getBytes(offset, copy);
              passed.add(copy);
              return true;
            },
            64,
            10_000_000_000L,
            checksPerSecond);
    return new HostServerPath(
        self, counters, table, SecondChanceVectorsTest.record(injected), 4, 1_000_000_000L, chance);
  }

  private void send(byte[] datagram, long now) {
    byte[] frame = new byte[14 + datagram.length];
    frame[12] = 0x08;
    System.arraycopy(datagram, 0, frame, 14, datagram.length);
    slot.putBytes(64, frame);
    path.tick(now);
    path.process(slot, 64, frame.length, 0);
  }

  private long count(HostServerCounter c) {
    return counters.get(c.id());
  }

  @Test
  void shouldInjectASynAndRememberItsConnectionWithoutAQuery() {
    byte[] syn = vectors.get("redirect").clone();
    syn[TCP_FLAGS] = TcpHeader.FLAG_SYN;
    send(syn, NOW);
    assertEquals(1, injected.size());
    send(vectors.get("redirect"), NOW + 1);
    assertEquals(2, injected.size());
    assertEquals(0, queries);
    assertEquals(1, count(HostServerCounter.SECOND_CHANCE_CACHE_HITS));
    assertEquals(List.of(), passed);
  }

  @Test
  void shouldInjectASegmentWhoseSocketIsHereAndAskOncePerCacheLifetime() {
    answer = SocketTable.HELD;
    send(vectors.get("redirect"), NOW);
    send(vectors.get("redirect"), NOW + 9_000_000_000L);
    assertEquals(1, queries);
    send(vectors.get("redirect"), NOW + 10_000_000_001L);
    assertEquals(2, queries);
    assertEquals(3, injected.size());
    assertEquals(3, count(HostServerCounter.INJECTED));
  }

  @Test
  void shouldPassOnEverySegmentOfAConnectionElsewhereWithOneQuery() {
    send(vectors.get("redirect"), NOW);
    send(vectors.get("redirect"), NOW + 1);
    assertEquals(1, queries);
    assertEquals(2, count(HostServerCounter.PASSED_ON_HOP_1));
    assertArrayEquals(vectors.get("pass-on-1"), passed.get(0));
    assertEquals(List.of(), injected);
    assertEquals(2, count(HostServerCounter.DECAPSULATED));
  }

  @Test
  void shouldTakeAUsedUpListHereAsTheLastResort() {
    byte[] used = vectors.get("redirect").clone();
    used[20 + GueHeader.NEXT_HOP_OFFSET] = 3;
    fixOuter(used);
    send(used, NOW);
    assertEquals(1, injected.size());
    assertEquals(1, count(HostServerCounter.SECOND_CHANCE_LAST_RESORT));
    assertEquals(List.of(), passed);
  }

  @Test
  void shouldRefuseAListThatNamesThisHostServerNext() {
    byte[] looped = vectors.get("redirect").clone();
    new UnsafeBuffer(looped).putInt(20 + GueHeader.HOPS_OFFSET, H1, java.nio.ByteOrder.BIG_ENDIAN);
    send(looped, NOW);
    assertEquals(1, count(HostServerCounter.PASS_ON_LOOPS_REFUSED));
    assertEquals(1, injected.size());
    assertEquals(List.of(), passed);
  }

  @Test
  void shouldRefuseAListThatDidNotComeTheWayItSays() {
    // From the redirector but not from the list's last hop.
    byte[] stranger = vectors.get("redirect").clone();
    new UnsafeBuffer(stranger).putInt(12, H2, java.nio.ByteOrder.BIG_ENDIAN);
    fixOuter(stranger);
    send(stranger, NOW);
    // At next hop 2 the sender must be hop 0 (H3), not H1.
    path = newPath(H2, 2);
    byte[] skipped = vectors.get("pass-on-2").clone();
    new UnsafeBuffer(skipped).putInt(12, H1, java.nio.ByteOrder.BIG_ENDIAN);
    fixOuter(skipped);
    send(skipped, NOW);
    assertEquals(2, count(HostServerCounter.PASS_ON_LOOPS_REFUSED));
    assertEquals(2, injected.size());
    assertEquals(List.of(), passed);
  }

  @Test
  void shouldTakeTheSegmentHereWhenTheQueryBudgetIsSpent() {
    byte[] other = vectors.get("redirect").clone();
    for (int port = 1; port <= 3; port++) {
      other[20 + GueHeader.length(3) + 20 + 1] = (byte) port; // another client port each time
      send(other, NOW);
    }
    assertEquals(2, queries);
    assertEquals(1, count(HostServerCounter.SECOND_CHANCE_UNKNOWN));
    assertEquals(1, injected.size());
    assertEquals(2, passed.size());
    other[20 + GueHeader.length(3) + 20 + 1] = 9;
    send(other, NOW + 1_000_000_000L); // a new second, a new budget
    assertEquals(3, queries);
  }

  @Test
  void shouldCountAPassOnTheStackRefused() {
    passOnWorks = false;
    send(vectors.get("redirect"), NOW);
    assertEquals(1, count(HostServerCounter.DROP_PASS_ON_FAILED));
    assertEquals(0, count(HostServerCounter.PASSED_ON_HOP_1));
    assertEquals(List.of(), injected);
  }

  @Test
  void shouldDropUdpToTheTunnelPortThatIsNotOurGue() {
    byte[] bad = vectors.get("redirect").clone();
    bad[20 + GueHeader.PROTO_OFFSET] = 41; // IPv6 inside: not ours (yet)
    send(bad, NOW);
    byte[] tooMany = vectors.get("redirect").clone();
    tooMany[20 + GueHeader.HOP_COUNT_OFFSET] = 5;
    send(tooMany, NOW);
    assertEquals(2, count(HostServerCounter.DROP_BAD_GUE));
    assertEquals(0, count(HostServerCounter.DECAPSULATED));
    assertEquals(List.of(), injected);
    assertEquals(List.of(), passed);
  }

  @Test
  void shouldInjectUdpAndNeverAskAboutIt() {
    byte[] udp = vectors.get("ipip").clone();
    udp[20 + Ipv4Header.PROTOCOL_OFFSET] = Ipv4Header.PROTOCOL_UDP;
    fixInner(udp, 20);
    send(udp, NOW);
    assertEquals(1, injected.size());
    assertEquals(0, queries);
  }

  @Test
  void shouldNeverPassOnWhatCameFromItself() {
    byte[] fromSelf = vectors.get("ipip").clone();
    new UnsafeBuffer(fromSelf).putInt(12, H1, java.nio.ByteOrder.BIG_ENDIAN);
    fixOuter(fromSelf);
    send(fromSelf, NOW);
    assertEquals(1, count(HostServerCounter.PASS_ON_LOOPS_REFUSED));
    assertEquals(1, injected.size());
  }

  @Test
  void shouldPassAnIpipSegmentBackInIpipAndNeverAPassOnAgain() {
    // From a redirector (outer TTL up to 191): back to it, IP-in-IP, outer TTL 255.
    byte[] redirect = vectors.get("ipip").clone();
    redirect[Ipv4Header.TTL_OFFSET] = (byte) 191;
    fixOuter(redirect);
    send(redirect, NOW);
    assertEquals(1, passed.size());
    assertEquals(Ipv4Header.PROTOCOL_IPIP, passed.get(0)[Ipv4Header.PROTOCOL_OFFSET]);
    assertEquals(255, passed.get(0)[Ipv4Header.TTL_OFFSET] & 0xFF);
    assertEquals(redirect.length, passed.get(0).length); // no byte more than it came with
    assertEquals(1, count(HostServerCounter.PASSED_ON_ORIGIN_NO_LIST));
    // Another host server's pass-on, addressed to us (a forged sender, or a host server on a
    // redirector's address): taken here, never passed back, so two cannot bounce it for ever.
    byte[] passOn = vectors.get("ipip").clone();
    passOn[Ipv4Header.TTL_OFFSET] = (byte) 192;
    new UnsafeBuffer(passOn).putInt(12, H2, java.nio.ByteOrder.BIG_ENDIAN);
    fixOuter(passOn);
    send(passOn, NOW + 1);
    assertEquals(1, passed.size());
    assertEquals(1, injected.size());
    assertEquals(1, count(HostServerCounter.PASS_ON_LOOPS_REFUSED));
  }

  @Test
  void shouldRememberNoMoreFlowsThanItsSlots() {
    KnownFlows known = new KnownFlows(64);
    for (int i = 0; i < 10_000; i++) {
      known.put(KnownFlows.hi(i, ORIGIN), KnownFlows.lo(i, 80), KnownFlows.HERE, NOW + 10, NOW);
    }
    assertEquals(64, known.live(NOW));
    assertEquals(
        KnownFlows.HERE, known.get(KnownFlows.hi(9_999, ORIGIN), KnownFlows.lo(9_999, 80), NOW));
    assertEquals(
        KnownFlows.UNKNOWN,
        known.get(KnownFlows.hi(9_999, ORIGIN), KnownFlows.lo(9_999, 80), NOW + 10));
    assertEquals(0, known.live(NOW + 10));
  }

  private static void fixOuter(byte[] datagram) {
    UnsafeBuffer b = new UnsafeBuffer(datagram);
    Ipv4Header.updateChecksum(b, 0);
  }

  private static void fixInner(byte[] datagram, int inner) {
    UnsafeBuffer b = new UnsafeBuffer(datagram);
    Ipv4Header.updateChecksum(b, inner);
  }
}
