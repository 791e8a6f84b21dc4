package net.hydranet.router.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.regex.Pattern;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.forwarding.config.RouterAddress6;
import net.hydranet.forwarding.io.TxPort;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import org.agrona.DirectBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The IPv6 side of a redirector's config: addresses, routes, neighbours and services. */
class ConfigLoader6Test {
  private static final String GOOD =
      "interfaces:\n"
          + "  - { name: eth0, mac: \"02:00:00:00:00:01\", address: 198.18.0.1/24,"
          + " address6: \"2001:2:0:1::1/64\" }\n"
          + "  - { name: eth1, mac: \"02:00:00:00:00:02\", address: 198.18.1.1/24,"
          + " address6: \"2001:2:0:2::1/64\" }\n"
          + "routes:\n  - { prefix: \"2001:2:1::/48\", via: \"2001:2:0:2::fe\" }\n"
          + "neighbours:\n  - { address: \"2001:2:0:2::fe\", mac: \"02:00:00:00:02:fe\" }\n"
          + "redirects:\n  - service: \"[2001:2:1::10]:80/tcp\"\n"
          + "    hostServers: [ { address: 198.18.0.20, weight: 3 },"
          + " { address: \"2001:2:0:1::20\" } ]\n";

  private static long[] v6(String text) {
    return Ipv6Header.parseAddress(text);
  }

  @Test
  void shouldParseTheIpv6SideOfEveryField() throws Exception {
    RedirectorConfig c = ConfigLoader.parse("t.yaml", GOOD, null);

    RouterAddress6 a = c.context().address6(1);
    assertEquals(v6("2001:2:0:2::1")[0], a.high());
    assertEquals(1, a.low());
    assertEquals(64, a.prefixLength());
    RedirectorConfig.Route6 r = c.routes6().get(0);
    assertEquals(v6("2001:2:1::")[0], r.prefixHigh());
    assertEquals(48, r.length());
    assertEquals(0xFE, r.nextHopLow());
    assertEquals(1, r.interfaceIndex(), "egress follows the next hop's prefix");
    assertEquals(1, c.neighbours6().get(0).interfaceIndex());
    assertEquals(0x0200_0000_02FEL, c.neighbours6().get(0).mac());
    RedirectorConfig.Redirect6 s = c.redirects6().get(0);
    assertEquals("[2001:2:1::10]:80/tcp", s.service());
    assertEquals(Ipv4Header.parseAddress("198.18.0.20"), s.hostServers().get(0).ipv4());
    assertEquals(3, s.hostServers().get(0).weight());
    assertTrue(s.hostServers().get(1).isIpv6());
    assertEquals(0x20, s.hostServers().get(1).ipv6Low());
    assertEquals(1, s.hostServers().get(1).weight(), "weight defaults to 1");
    assertTrue(c.routes().isEmpty() && c.redirects().isEmpty(), "nothing IPv4 added");
  }

  @Test
  void shouldLoadTheSampleWithTheIssuesIpv6Side() throws Exception {
    Path root = Path.of("").toAbsolutePath().getParent();
    RedirectorConfig c = ConfigLoader.load(root.resolve("config/replay-sample.yaml"));
    assertEquals(3, c.context().addresses6().size());
    for (int i = 0; i < 3; i++) {
      RouterAddress6 a = c.context().address6(i);
      assertEquals(v6("2001:2:0:" + (i + 1) + "::1")[0], a.high());
      assertEquals(64, a.prefixLength());
      assertEquals(1500, c.context().interfaces().get(i).mtu(), "MTUs unchanged");
    }
    assertEquals(3, c.neighbours6().size());
    assertEquals(0x0200_0000_030_2L, c.neighbours6().get(2).mac(), "hs0's .2 twin's MAC");
    assertEquals(2, c.neighbours6().get(2).interfaceIndex());
    RedirectorConfig.Redirect6 s = c.redirects6().get(0);
    assertEquals("[2001:2:0:2::10]:80/tcp", s.service());
    assertEquals(v6("2001:2:0:3::2")[1], s.hostServers().get(0).ipv6Low());
    assertTrue(s.hostServers().get(0).isIpv6(), "the issue's IPv6 host server: IPv6-in-IPv6");
  }

  @Test
  void shouldPutIpv6ServicesIntoThePlaneWithIdsForIpv6HostServers() throws Exception {
    RedirectorConfig c = ConfigLoader.parse("t.yaml", GOOD, null);
    TxPort none =
        new TxPort() {
          @Override
          public boolean send(DirectBuffer buffer, int offset, int length, long timestamp) {
            return true;
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    try (ForwardingPlane plane = new ForwardingPlane(c.context(), new TxPort[] {none, none})) {
      c.applyTo(plane);
      RedirectorTable t = plane.redirects();
      long[] service = v6("2001:2:1::10");
      int s = t.lookup6(service[0], service[1], 6, 80);
      assertTrue(s != RedirectorTable.NOT_FOUND, plane.lastCommandError());
      assertEquals(Ipv4Header.parseAddress("198.18.0.20"), t.hostServer(s, 0));
      int id = t.hostServer(s, 1);
      assertTrue(ForwardingPlane.isIpv6HostServer(id));
      assertFalse(ForwardingPlane.isIpv6HostServer(t.hostServer(s, 0)));
      long[] host = v6("2001:2:0:1::20");
      assertEquals(id, plane.ipv6HostServer(host[0], host[1]), "one id per address");
      assertEquals(host[1], plane.path().ipv6().hostServers().low(id));
      assertTrue(plane.routes6().lookup(service[0], service[1]) >= 0, "the /48 route");
      assertEquals(0x0200_0000_02FEL, plane.neighbours6().macOf(v6("2001:2:0:2::fe")[0], 0xFE));
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "address6 without prefix|2001:2:0:1::1/64|2001:2:0:1::1|interfaces[0].address6",
        "address6 not an address|2001:2:0:1::1/64|2001:2:0:1:::1/64|interfaces[0].address6",
        "address6 link-local|2001:2:0:1::1/64|fe80::1/64|interfaces[0].address6",
        "next hop on no prefix|via: \"2001:2:0:2::fe\"|via: \"2001:2:9::fe\"|routes[0].via",
        "neighbour on no prefix|address: \"2001:2:0:2::fe\"|address: \"2001:9::fe\"|neighbours[0]",
        "service not global|[2001:2:1::10]|[ff02::10]|redirects[0].service",
        "service without bracket|[2001:2:1::10]:80|[2001:2:1::10:80|redirects[0].service",
        "service bad protocol|80/tcp|80/sctp|redirects[0].service",
        "host server multicast|\"2001:2:0:1::20\"|\"ff05::20\"|hostServers[1].address",
      })
  void shouldNameTheFileAndFieldOfEveryIpv6Error(
      String description, String from, String to, String field) {
    String text = GOOD.replaceFirst(Pattern.quote(from), to);
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigLoader.parse("t.yaml", text, null));
    assertTrue(e.getMessage().startsWith("t.yaml: "), e.getMessage());
    assertTrue(e.getMessage().contains(field), description + ": " + e.getMessage());
    assertEquals(1, e.getMessage().lines().count(), "one line: " + e.getMessage());
  }

  @Test
  void shouldRefuseAnIpv6HostServerForAnIpv4Service() {
    String text =
        "interfaces:\n"
            + "  - { name: eth0, mac: \"02:00:00:00:00:01\", address: 198.18.0.1/24 }\n"
            + "redirects:\n  - service: 198.18.0.10:80/tcp\n"
            + "    hostServers: [ { address: \"2001:2::20\" } ]\n";
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigLoader.parse("t.yaml", text, null));
    assertTrue(e.getMessage().contains("redirects[0].hostServers[0].address"), e.getMessage());
  }
}
