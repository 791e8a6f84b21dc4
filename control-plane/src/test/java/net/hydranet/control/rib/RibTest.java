package net.hydranet.control.rib;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.hydranet.control.rib.Rib.Candidate;
import net.hydranet.control.rib.Rib.RouteKey;
import net.hydranet.control.wire.Addresses;
import net.hydranet.control.wire.Codec;
import net.hydranet.control.wire.Entry;
import net.hydranet.control.wire.Service;
import org.junit.jupiter.api.Test;

/**
 * The RIB on its own, with a clock in the test's hands: the nearest-replica choice, what is
 * installed through the {@link TableWriter}, what is advertised to each peer (split horizon),
 * expiry and flap damping.
 */
class RibTest {
  private static final long SECOND = 1_000_000_000L;
  private static final int HOLD = 3000;

  private final int origin = Addresses.parse("198.18.2.10");
  private final Service service = Entry.service(origin, 6, 80);
  private final int a = Addresses.parse("10.0.1.1");
  private final int b = Addresses.parse("10.0.2.1");
  private final int c = Addresses.parse("10.0.3.1");
  private final int peer1 = Addresses.parse("10.9.0.1");
  private final int peer2 = Addresses.parse("10.9.0.2");

  private final Writer writer = new Writer();
  private Rib rib = new Rib(new Rib.Settings(15 * SECOND, 30 * SECOND, 20), writer);
  private long now = 1000 * SECOND;

  /** Records every put and remove, and the table they leave. */
  private static final class Writer implements TableWriter {
    final Map<Service, String> table = new HashMap<>();
    final List<String> log = new ArrayList<>();

    @Override
    public void put(int origin, int protocol, int port, int[] hostServers, int[] weights) {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < hostServers.length; i++) {
        sb.append(i == 0 ? "" : " ")
            .append(Addresses.format(hostServers[i]))
            .append('=')
            .append(weights[i]);
      }
      table.put(Entry.service(origin, protocol, port), sb.toString());
      log.add("put " + sb);
    }

    @Override
    public void remove(int origin, int protocol, int port) {
      table.remove(Entry.service(origin, protocol, port));
      log.add("remove " + Addresses.format(origin) + ":" + port);
    }

    @Override
    public void putIpv6(
        long high, long low, int protocol, int port, int[] hostServers, int[] weights) {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < hostServers.length; i++) {
        sb.append(i == 0 ? "" : " ")
            .append(Addresses.format(hostServers[i]))
            .append('=')
            .append(weights[i]);
      }
      table.put(Service.ipv6(high, low, protocol, port), sb.toString());
      log.add("put6 " + sb);
    }

    @Override
    public void removeIpv6(long high, long low, int protocol, int port) {
      table.remove(Service.ipv6(high, low, protocol, port));
      log.add("remove6 " + Service.ipv6(high, low, protocol, port));
    }
  }

  private Entry entry(int hs, int weight, int load) {
    return new Entry(origin, 6, 80, hs, weight, load, 0);
  }

  private Entry route(int hs, int weight, int load, int distance) {
    return new Entry(origin, 6, 80, hs, weight, load, distance);
  }

  private void direct(int hs, int cost, Entry... set) {
    rib.hostServerHeard(hs, cost, HOLD, now);
    rib.hostServerAnnounce(hs, List.of(set));
  }

  private void fromPeer(int peer, int cost, Entry... routes) {
    rib.peerHeard(peer, cost, HOLD, now);
    rib.peerUpdate(peer, List.of(routes), now);
  }

  private String table() {
    return writer.table.get(service);
  }

  private Candidate candidate(int hs) {
    for (Candidate x : rib.view().get(service)) {
      if (x.hostServer() == hs) {
        return x;
      }
    }
    throw new AssertionError(Addresses.format(hs) + " is no candidate: " + rib.view());
  }

  @Test
  void shouldChooseTheNearestReplicaAndKeepTheFartherOneForItsFlows() {
    direct(a, 1, entry(a, 100, 0));
    fromPeer(peer1, 1, route(b, 100, 0, 1));
    rib.commit(now);
    // b stays with weight 0: flows already pinned to it finish there.
    assertEquals("10.0.1.1=100 10.0.2.1=0", table());
    assertEquals(new Candidate(a, 1, 0, 100, 0, true), candidate(a));
    assertEquals(new Candidate(b, 2, peer1, 100, 0, false), candidate(b));
  }

  @Test
  void shouldShareByWeightAmongReplicasAtTheSameDistance() {
    direct(a, 2, entry(a, 100, 0));
    fromPeer(peer1, 1, route(b, 50, 0, 1));
    rib.commit(now);
    assertEquals("10.0.1.1=100 10.0.2.1=50", table());
  }

  @Test
  void shouldBreakTiesByLoadOutsideTheBand() {
    direct(a, 1, entry(a, 100, 10));
    direct(b, 1, entry(b, 100, 31));
    rib.commit(now);
    assertEquals("10.0.1.1=100 10.0.2.1=0", table(), "31 is more than 20 points above 10");
    direct(b, 1, entry(b, 100, 30));
    rib.commit(now);
    assertEquals("10.0.1.1=100 10.0.2.1=100", table(), "30 is within the band");
  }

  @Test
  void shouldNotLetABusyNearReplicaLoseToAFarIdleOne() {
    direct(a, 1, entry(a, 100, 90));
    fromPeer(peer1, 1, route(b, 100, 0, 1));
    rib.commit(now);
    assertEquals("10.0.1.1=100 10.0.2.1=0", table(), "distance first, load only among equals");
  }

  @Test
  void shouldKeepADrainingReplicaWithWeightZeroWhileOthersTakeNewFlows() {
    direct(a, 1, entry(a, 100, 0));
    direct(b, 1, entry(b, 100, 0));
    rib.commit(now);
    direct(a, 1, entry(a, 0, 0));
    rib.commit(now);
    assertEquals("10.0.1.1=0 10.0.2.1=100", table());
    assertFalse(candidate(a).selected());
    assertTrue(candidate(b).selected());
  }

  @Test
  void shouldPreferANearReplicaToAFartherOneWhenTheNearOneDrains() {
    direct(a, 1, entry(a, 0, 0));
    fromPeer(peer1, 1, route(b, 100, 0, 1));
    rib.commit(now);
    assertEquals("10.0.1.1=0 10.0.2.1=100", table(), "new flows go to the only one not draining");
  }

  @Test
  void shouldKeepAServiceWhoseOnlyReplicaDrainsSoItsFlowsFinish() {
    direct(a, 1, entry(a, 0, 0));
    rib.commit(now);
    assertEquals("10.0.1.1=0", table(), "new flows go to the origin, pinned ones stay");
  }

  @Test
  void shouldRemoveTheServiceWhenNoReplicaIsLeft() {
    direct(a, 1, entry(a, 100, 0));
    direct(b, 1, entry(b, 100, 0));
    rib.commit(now);
    rib.hostServerWithdraw(a, List.of(entry(a, 100, 0)));
    rib.commit(now);
    assertEquals("10.0.2.1=100", table());
    rib.hostServerLeft(b);
    rib.commit(now);
    assertNull(table());
    assertEquals("remove 198.18.2.10:80", writer.log.get(writer.log.size() - 1));
    assertTrue(rib.installed().isEmpty());
  }

  @Test
  void shouldTreatAnAnnouncementAsTheCompleteSet() {
    Entry other = new Entry(origin, 17, 53, a, 100, 0, 0);
    direct(a, 1, entry(a, 100, 0), other);
    rib.commit(now);
    direct(a, 1, other);
    rib.commit(now);
    assertNull(table(), "what the set no longer lists is withdrawn");
    assertEquals("10.0.1.1=100", writer.table.get(other.service()));
  }

  @Test
  void shouldAddTheLinkCostToAPeersDistance() {
    fromPeer(peer1, 3, route(b, 100, 0, 2));
    Set<RouteKey> changed = rib.commit(now);
    assertEquals(5, candidate(b).distance());
    assertEquals(List.of(route(b, 100, 0, 5)), rib.updateFor(peer2, changed));
  }

  @Test
  void shouldTakeTheNearerOfTwoPeersRoutesToOneReplica() {
    fromPeer(peer1, 1, route(b, 100, 0, 4));
    fromPeer(peer2, 2, route(b, 100, 0, 1));
    rib.commit(now);
    assertEquals(new Candidate(b, 3, peer2, 100, 0, true), candidate(b));
  }

  @Test
  void shouldNotInstallARouteAtOrBeyondTheMaximumDistance() {
    int max = Rib.Settings.DEFAULT_MAX_DISTANCE;
    fromPeer(peer1, 5, route(b, 100, 0, max - 5));
    rib.commit(now);
    assertNull(table());
    fromPeer(peer1, 5, route(b, 100, 0, max - 6));
    rib.commit(now);
    assertEquals("10.0.2.1=100", table());
    fromPeer(peer1, 5, route(b, 100, 0, Codec.INFINITY));
    rib.commit(now);
    assertNull(table(), "distance 255 withdraws");
  }

  @Test
  void shouldPreferItsOwnHostServerToAPeersRouteToIt() {
    direct(a, 7, entry(a, 100, 0));
    fromPeer(peer1, 1, route(a, 100, 0, 1));
    rib.commit(now);
    assertEquals(new Candidate(a, 7, 0, 100, 0, true), candidate(a));
  }

  @Test
  void shouldNeverAdvertiseARouteBackToThePeerItCameFrom() {
    direct(a, 1, entry(a, 100, 0));
    fromPeer(peer1, 1, route(b, 100, 0, 1));
    Set<RouteKey> changed = rib.commit(now);

    assertEquals(Set.of(route(a, 100, 0, 1)), Set.copyOf(rib.fullDumpFor(peer1)));
    assertEquals(
        Set.of(route(a, 100, 0, 1), route(b, 100, 0, 2)), Set.copyOf(rib.fullDumpFor(peer2)));
    // Triggered: to the peer it came from, the route is poisoned (distance 255).
    assertEquals(
        Set.of(route(a, 100, 0, 1), route(b, 100, 0, Codec.INFINITY)),
        Set.copyOf(rib.updateFor(peer1, changed)));
    assertEquals(
        Set.of(route(a, 100, 0, 1), route(b, 100, 0, 2)),
        Set.copyOf(rib.updateFor(peer2, changed)));

    // The route is withdrawn: both peers hear distance 255, and only for what changed.
    rib.peerUpdate(peer1, List.of(route(b, 100, 0, Codec.INFINITY)), now);
    changed = rib.commit(now);
    assertEquals(Set.of(new RouteKey(service, b)), changed);
    assertEquals(List.of(route(b, 100, 0, Codec.INFINITY)), rib.updateFor(peer2, changed));
    assertEquals(List.of(route(b, 100, 0, Codec.INFINITY)), rib.updateFor(peer1, changed));
    assertEquals(List.of(route(a, 100, 0, 1)), rib.fullDumpFor(peer2));
  }

  @Test
  void shouldReportNothingChangedWhenNothingDid() {
    direct(a, 1, entry(a, 100, 0));
    assertFalse(rib.commit(now).isEmpty());
    int writes = writer.log.size();
    direct(a, 1, entry(a, 100, 0));
    assertTrue(rib.commit(now).isEmpty());
    assertEquals(writes, writer.log.size(), "an unchanged service is not written again");
  }

  @Test
  void shouldForgetAPeerRouteNotRefreshedWithinTheRouteTimeout() {
    fromPeer(peer1, 1, route(b, 100, 0, 1));
    rib.commit(now);
    long learned = now;
    now = learned + 14 * SECOND;
    rib.peerHeard(peer1, 1, HOLD, now); // keepalives, but no update of the route
    assertFalse(rib.expire(now));
    now = learned + 16 * SECOND;
    rib.peerHeard(peer1, 1, HOLD, now);
    assertTrue(rib.expire(now));
    rib.commit(now);
    assertNull(table());
    assertTrue(rib.knowsPeer(peer1), "the peer itself is alive");
  }

  @Test
  void shouldDropAPeerAndItsRoutesAfterItsHoldTime() {
    fromPeer(peer1, 1, route(b, 100, 0, 1));
    rib.commit(now);
    long heard = now;
    assertFalse(rib.expire(heard + HOLD * 1_000_000L));
    assertTrue(rib.expire(heard + HOLD * 1_000_000L + 1));
    assertFalse(rib.knowsPeer(peer1));
    rib.commit(now);
    assertNull(table());
    assertEquals("peer-lost", rib.drainEvents().get(1).kind());
  }

  @Test
  void shouldRemoveAHostServerAfterItsHoldTime() {
    direct(a, 1, entry(a, 100, 0));
    rib.commit(now);
    long heard = now;
    assertFalse(rib.expire(heard + HOLD * 1_000_000L));
    assertEquals("10.0.1.1=100", table());
    assertTrue(rib.expire(heard + HOLD * 1_000_000L + 1));
    rib.commit(heard + HOLD * 1_000_000L + 1);
    assertNull(table());
    List<Rib.Event> events = rib.drainEvents();
    assertEquals(
        List.of("host-server-up", "host-server-lost"),
        events.stream().map(Rib.Event::kind).toList());
    assertFalse(rib.knowsHostServer(a));
  }

  @Test
  void shouldRemoveAHostServerThatSaidGoodbyeAtOnceWithoutDamping() {
    for (int i = 0; i < 5; i++) {
      direct(a, 1, entry(a, 100, 0));
      rib.commit(now);
      assertEquals("10.0.1.1=100", table());
      rib.hostServerLeft(a);
      rib.commit(now);
      assertNull(table());
      now += SECOND;
    }
  }

  /** Brings {@code a} up, announcing, then lets its hold time expire. */
  private void flap() {
    direct(a, 1, entry(a, 100, 0));
    rib.commit(now);
    now += HOLD * 1_000_000L + 1;
    rib.expire(now);
    rib.commit(now);
    now += SECOND;
  }

  @Test
  void shouldDampAHostServerOnItsThirdQuickFailureAndReleaseItLater() {
    flap();
    flap();
    direct(a, 1, entry(a, 100, 0));
    rib.commit(now);
    assertEquals("10.0.1.1=100", table(), "two failures are never damped");
    flap(); // the third
    direct(a, 1, entry(a, 100, 0));
    rib.commit(now);
    assertNull(table(), "damped: heard, but not installed");
    assertTrue(rib.hostServers(now).get(a).contains("DAMPED"), rib.hostServers(now).toString());

    // ~2740 of penalty (three failures 4 s apart) halves every 30 s: under 800 after ~53 s.
    long damped = now;
    for (now = damped; now < damped + 50 * SECOND; now += SECOND) {
      rib.hostServerHeard(a, 1, HOLD, now);
      rib.commit(now);
      assertNull(table(), "still damped after " + (now - damped) / SECOND + " s");
    }
    for (; table() == null; now += SECOND) {
      assertTrue(now < damped + 70 * SECOND, "not released after 70 s");
      rib.hostServerHeard(a, 1, HOLD, now);
      rib.commit(now);
    }
    assertEquals("10.0.1.1=100", table());
  }

  @Test
  void shouldWriteAnIpv6ServiceThroughItsOwnMethodsBesideTheIpv4One() {
    long[] o6 = Addresses.parseIpv6("2001:2::10");
    Service web6 = Service.ipv6(o6[0], o6[1], 6, 80);
    direct(a, 1, entry(a, 100, 0), new Entry(web6, a, 100, 0, 0));
    direct(b, 2, new Entry(web6, b, 100, 0, 0));
    rib.commit(now);
    assertEquals("10.0.1.1=100", table(), "the IPv4 service");
    assertEquals("10.0.1.1=100 10.0.2.1=0", writer.table.get(web6), "nearest first, as IPv4");
    assertTrue(writer.log.contains("put6 10.0.1.1=100 10.0.2.1=0"), writer.log.toString());
    assertEquals(List.of(service, web6), List.copyOf(rib.view().keySet()), "IPv4 listed first");
    direct(a, 1, entry(a, 100, 0)); // a no longer serves the IPv6 one
    rib.commit(now);
    assertEquals("10.0.2.1=100", writer.table.get(web6));
    direct(b, 2);
    rib.commit(now);
    assertNull(writer.table.get(web6));
    assertTrue(writer.log.contains("remove6 [2001:2::10]:80/tcp"), writer.log.toString());
    assertEquals("10.0.1.1=100", table(), "the IPv4 service untouched");
  }

  @Test
  void shouldLetAStaticServiceOverrideWhatIsLearned() {
    direct(a, 1, entry(a, 100, 0));
    rib.commit(now);
    rib.setStatic(List.of(new Rib.StaticService(service, new int[] {c}, new int[] {5})));
    rib.commit(now);
    assertEquals("10.0.3.1=5", table());
    assertEquals(List.of(new Candidate(c, 0, -1, 5, 0, true)), rib.view().get(service));
    rib.setStatic(List.of());
    rib.commit(now);
    assertEquals("10.0.1.1=100", table());
  }

  @Test
  void shouldNameAStaticIpv6HostServerByItsAddressNotThePlanesId() {
    long[] origin6 = Addresses.parseIpv6("2001:2::10");
    Service web6 = Service.ipv6(origin6[0], origin6[1], 6, 80);
    int id = 1; // the forwarding plane's id of an IPv6-in-IPv6 host server (0.0.0.0/8)
    rib.setStatic(
        List.of(
            new Rib.StaticService(
                web6,
                new int[] {id, c},
                new int[] {1, 2},
                new String[] {"2001:2::3:2", "10.0.3.1"})));
    rib.commit(now);
    assertEquals("0.0.0.1=1 10.0.3.1=2", writer.table.get(web6), "the plane gets the id");
    assertEquals(
        List.of(
            new Candidate(id, 0, -1, 1, 0, true, "2001:2::3:2"),
            new Candidate(c, 0, -1, 2, 0, true, "10.0.3.1")),
        rib.view().get(web6));
    assertEquals("2001:2::3:2", rib.hostServerText(web6, id));
    assertEquals("10.0.3.1", rib.hostServerText(web6, c));
    assertEquals("0.0.0.1", rib.hostServerText(service, id), "another service's id is not named");
  }

  @Test
  void shouldInstallAtMostMaxHostServersChosenOnesFirst() {
    rib = new Rib(new Rib.Settings(15 * SECOND, 30 * SECOND, 20, 2), writer);
    direct(a, 1, entry(a, 0, 0));
    fromPeer(peer1, 1, route(b, 100, 0, 1));
    direct(c, 1, entry(c, 100, 0));
    rib.commit(now);
    // c chosen (nearest, not draining); then a (distance 1) before b (distance 2).
    assertEquals("10.0.1.1=0 10.0.3.1=100", table());
  }

  @Test
  void shouldInstallHostServersInAddressOrderWhatEverTheOrderHeard() {
    int[] order = {c, a, b};
    for (int hs : order) {
      direct(hs, 1, entry(hs, 10, 0));
    }
    rib.commit(now);
    assertEquals("10.0.1.1=10 10.0.2.1=10 10.0.3.1=10", table());
    assertTrue(Arrays.stream(order).allMatch(rib::knowsHostServer));
  }

  /**
   * Three redirectors in a triangle, the host server on the first: when it leaves, a stale route
   * goes round the loop with growing distance (split horizon cannot stop a three-node loop) until
   * it reaches the maximum distance. Synchronous rounds of triggered updates; each round is one
   * control tick in the daemons. Measured here: the rounds until no redirector has a route.
   */
  @Test
  void shouldEndCountToInfinityInATriangleWithinMaxDistanceRounds() {
    int bounded = roundsToForgetInATriangle(Rib.Settings.DEFAULT_MAX_DISTANCE);
    int unbounded = roundsToForgetInATriangle(Codec.INFINITY);
    System.out.printf(
        "count to infinity in a triangle: %d rounds with maxDistance 16, %d with 255%n",
        bounded, unbounded);
    assertTrue(bounded <= Rib.Settings.DEFAULT_MAX_DISTANCE + 2, bounded + " rounds");
    assertTrue(unbounded > 100, "the bound is what ends it: " + unbounded + " rounds without");
  }

  private int roundsToForgetInATriangle(int maxDistance) {
    int[] ids = {peer1, peer2, Addresses.parse("10.9.0.3")};
    Writer[] writers = {new Writer(), new Writer(), new Writer()};
    Rib[] ribs = new Rib[3];
    for (int i = 0; i < 3; i++) {
      ribs[i] =
          new Rib(new Rib.Settings(1000 * SECOND, 30 * SECOND, 20, 8, maxDistance), writers[i]);
      for (int j = 0; j < 3; j++) {
        if (i != j) {
          ribs[i].peerHeard(ids[j], 1, 1_000_000, now);
        }
      }
    }
    ribs[0].hostServerHeard(a, 1, HOLD, now);
    ribs[0].hostServerAnnounce(a, List.of(entry(a, 100, 0)));
    exchange(ribs, ids, 10);
    for (Writer w : writers) {
      assertTrue(w.table.containsKey(service), "every redirector learned the replica");
    }
    ribs[0].hostServerLeft(a);
    int rounds = exchange(ribs, ids, 1000);
    for (Writer w : writers) {
      assertFalse(w.table.containsKey(service), "no redirector keeps a route to a gone host");
    }
    return rounds;
  }

  /** Rounds of updates until nothing changes (at most {@code max}); returns how many it took. */
  private int exchange(Rib[] ribs, int[] ids, int max) {
    for (int round = 1; round <= max; round++) {
      boolean any = false;
      List<Runnable> deliveries = new ArrayList<>();
      for (int i = 0; i < ribs.length; i++) {
        Set<RouteKey> changed = ribs[i].commit(now);
        for (int j = 0; j < ribs.length; j++) {
          if (i != j && !changed.isEmpty()) {
            List<Entry> update = ribs[i].updateFor(ids[j], changed);
            int from = ids[i];
            Rib to = ribs[j];
            any |= !update.isEmpty();
            deliveries.add(() -> to.peerUpdate(from, update, now));
          }
        }
      }
      deliveries.forEach(Runnable::run);
      now += SECOND / 50;
      if (!any) {
        return round;
      }
    }
    return max;
  }
}
