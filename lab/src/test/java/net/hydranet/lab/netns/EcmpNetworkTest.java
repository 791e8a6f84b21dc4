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

  /**
   * iperf3 3.12's client output, lines from a run of EcmpIT (the near path's stream, which ended
   * cut off; a summary block added from another of its streams).
   */
  private static final String IPERF =
      String.join(
          "\n",
          "Connecting to host 198.18.2.10, port 5201",
          "[  5] local 198.18.1.10 port 59548 connected to 198.18.2.10 port 5201",
          "[ ID] Interval           Transfer     Bitrate         Retr  Cwnd",
          "[  5]   0.00-1.01   sec   115 KBytes   937 Kbits/sec   21   21.9 KBytes       ",
          "[  5]   1.01-2.01   sec   118 KBytes   960 Kbits/sec    0   27.4 KBytes       ",
          "[  5]  67.04-68.03  sec   640 KBytes  5.29 Mbits/sec    0    167 KBytes       ",
          "[  5]  68.03-69.01  sec   384 KBytes  3.22 Mbits/sec    0    162 KBytes       ",
          "[  5]  69.01-70.01  sec  0.00 Bytes  0.00 bits/sec    1   1.37 KBytes       ",
          "[  5]  70.01-71.05  sec  0.00 Bytes  0.00 bits/sec    1   1.37 KBytes       ",
          "[  5]  71.05-72.01  sec  0.00 Bytes  0.00 bits/sec    0   1.37 KBytes       ",
          "- - - - - - - - - - - - - - - - - - - - - - - - -",
          "[ ID] Interval           Transfer     Bitrate         Retr",
          "[  5]   0.00-300.06 sec   358 MBytes  10.0 Mbits/sec  2418             sender",
          "[  5]   0.00-300.21 sec   358 MBytes  9.99 Mbits/sec                  receiver",
          "iperf3: error - unable to write to stream socket: Connection timed out");

  @Test
  void shouldReadAnIperfStreamsRatePerIntervalAndItsError() {
    EcmpNetwork.Stream s = EcmpNetwork.iperfStream(IPERF);
    assertEquals(List.of(0.937, 0.96, 5.29, 3.22, 0.0, 0.0, 0.0), s.mbps());
    assertEquals(3, s.longestStall());
    assertEquals(
        "iperf3: error - unable to write to stream socket: Connection timed out", s.error());
    assertFalse(s.flowing(1));
    EcmpNetwork.Stream flowing =
        EcmpNetwork.iperfStream(IPERF.substring(0, IPERF.indexOf("[  5]  69.01")));
    assertTrue(flowing.flowing(2));
    assertEquals("", flowing.error());
  }
}
