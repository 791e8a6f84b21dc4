package net.hydranet.lab.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import net.hydranet.lab.netns.EcmpNetwork.RouteChange;
import org.junit.jupiter.api.Test;

/** How {@link EcmpNetwork} reads the upstream's routes; no privileges, no namespace. */
class EcmpNetworkTest {
  /**
   * {@code ip -ts monitor route} in the upstream namespace of a prototype of this network (BIRD
   * 2.0.12, two redirectors): one redirector's liveness link removed, then created again. The line
   * for 198.18.3.0/24 and the "Deleted" one are added by hand: another prefix, and a route that
   * goes entirely.
   */
  private static final String MONITOR =
      String.join(
          "\n",
          "[2026-12-06T07:54:24.223108] 198.18.2.10 via 198.18.12.1 dev u2 proto bird metric 32 ",
          "[2026-12-06T07:54:25.000000] 198.18.3.0/24 via 198.18.11.1 dev u1 proto bird metric 32 ",
          "[2026-12-06T07:54:27.137613] 198.18.2.10 proto bird metric 32 ",
          "\tnexthop via 198.18.11.1 dev u1 weight 1 ",
          "\tnexthop via 198.18.12.1 dev u2 weight 1 ",
          "[2026-12-06T07:54:28.000500] Deleted 198.18.2.10 proto bird metric 32 ",
          "\tnexthop via 198.18.11.1 dev u1 weight 1 ",
          "\tnexthop via 198.18.12.1 dev u2 weight 1 ");

  @Test
  void shouldReadEachChangeOfTheOriginsRouteWithItsNextHopsAndTime() {
    List<RouteChange> changes = EcmpNetwork.routeChangesIn(MONITOR);
    assertEquals(3, changes.size(), changes.toString());
    assertEquals(List.of("198.18.12.1"), changes.get(0).nexthops());
    assertEquals(List.of("198.18.11.1", "198.18.12.1"), changes.get(1).nexthops());
    assertEquals(2914, changes.get(1).epochMillis() - changes.get(0).epochMillis());
    assertFalse(changes.get(1).deleted());
    assertTrue(changes.get(2).deleted());
    assertEquals(863, changes.get(2).epochMillis() - changes.get(1).epochMillis());
  }

  @Test
  void shouldReadTheNextHopsOfIpRouteShow() {
    assertEquals(
        List.of("198.18.11.1", "198.18.13.1"),
        EcmpNetwork.nexthopsIn(
            "198.18.2.10 proto bird metric 32 \n\tnexthop via 198.18.11.1 dev u1 weight 1 \n"
                + "\tnexthop via 198.18.13.1 dev u3 weight 1 \n"));
    assertEquals(
        List.of("198.18.12.1"),
        EcmpNetwork.nexthopsIn("198.18.2.10 via 198.18.12.1 dev u2 proto bird metric 32 \n"));
    assertEquals(List.of(), EcmpNetwork.nexthopsIn(""));
  }
}
