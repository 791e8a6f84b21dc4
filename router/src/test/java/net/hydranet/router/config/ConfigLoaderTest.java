package net.hydranet.router.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import net.hydranet.forwarding.config.ForwardingContext;
import net.hydranet.forwarding.config.PipelineFeed;
import net.hydranet.forwarding.wire.Ipv4Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigLoaderTest {
  private static final String GOOD =
      "interfaces:\n"
          + "  - { name: eth0, mac: \"02:00:00:00:00:01\", address: 198.18.0.1/24, mtu: 1500 }\n"
          + "  - { name: eth1, mac: \"02:00:00:00:00:02\", address: 198.18.1.1/24 }\n"
          + "routes:\n  - { prefix: 198.19.0.0/16, via: 198.18.1.254 }\n"
          + "redirects:\n  - service: 198.18.1.10:80/tcp\n"
          + "    hostServers: [ { address: 198.18.0.20, weight: 3 } ]\n";

  @Test
  void shouldLoadTheShippedExampleConfigs() throws Exception {
    Path root = Path.of("").toAbsolutePath().getParent();
    RedirectorConfig sample = ConfigLoader.load(root.resolve("config/replay-sample.yaml"));
    assertEquals(3, sample.context().interfaces().size());
    assertEquals(2, sample.redirects().size());
    RedirectorConfig twoNics =
        ConfigLoader.load(root.resolve("config/redirector.yaml"), name -> 0x0200_0000_0000L);
    assertEquals(2, twoNics.context().interfaces().size());
    assertEquals(1, twoNics.redirects().size());
    assertTrue(twoNics.context().dropTransit());
  }

  @Test
  void transitDropCanBeTurnedOff() throws Exception {
    String off = GOOD + "options:\n  dropTransit: false\n";

    assertFalse(ConfigLoader.parse("t.yaml", off, null).context().dropTransit());
    assertTrue(ConfigLoader.parse("t.yaml", GOOD, null).context().dropTransit(), "on by default");
  }

  @Test
  void shouldReadTheNewFlowBudget() throws Exception {
    RedirectorConfig defaults = ConfigLoader.parse("t.yaml", GOOD, null);
    assertEquals(
        net.hydranet.forwarding.config.ForwardingContext.DEFAULT_NEW_FLOW_RATE,
        defaults.context().newFlowRate());
    RedirectorConfig set =
        ConfigLoader.parse(
            "t.yaml", GOOD + "limits:\n  newFlowsPerSecond: 200\n  newFlowBurst: 20\n", null);
    assertEquals(200, set.context().newFlowRate());
    assertEquals(20, set.context().newFlowBurst());
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> ConfigLoader.parse("t.yaml", GOOD + "limits:\n  newFlowsPerSecond: -1\n", null));
    assertTrue(e.getMessage().contains("newFlowsPerSecond"), e.getMessage());
  }

  @Test
  void pipelinesAreFedByFlowUnlessTheConfigSaysByInterface() throws Exception {
    assertEquals(
        PipelineFeed.FLOW, ConfigLoader.parse("t.yaml", GOOD, null).context().pipelineFeed());
    ForwardingContext split =
        ConfigLoader.parse(
                "t.yaml", GOOD + "limits:\n  pipelines: 2\n  pipelineFeed: interface\n", null)
            .context();
    assertEquals(PipelineFeed.INTERFACE, split.pipelineFeed());
    assertEquals(2, split.pipelines());

    ConfigException unknown =
        assertThrows(
            ConfigException.class,
            () -> ConfigLoader.parse("t.yaml", GOOD + "limits:\n  pipelineFeed: rss\n", null));
    assertTrue(unknown.getMessage().contains("limits.pipelineFeed"), unknown.getMessage());
    assertTrue(unknown.getMessage().contains("'rss'"), unknown.getMessage());
    ConfigException idle =
        assertThrows(
            ConfigException.class,
            () ->
                ConfigLoader.parse(
                    "t.yaml", GOOD + "limits:\n  pipelines: 3\n  pipelineFeed: interface\n", null));
    assertTrue(
        idle.getMessage().contains("at most one per interface (2), was 3"), idle.getMessage());
  }

  @Test
  void shouldParseEveryField() throws Exception {
    RedirectorConfig c = ConfigLoader.parse("t.yaml", GOOD, null);
    assertEquals(1500, c.context().interfaces().get(1).mtu(), "mtu defaults to 1500");
    assertEquals(1, c.routes().get(0).interfaceIndex(), "egress follows the next hop's network");
    RedirectorConfig.Redirect r = c.redirects().get(0);
    assertEquals(Ipv4Header.parseAddress("198.18.1.10"), r.address());
    assertEquals(6, r.protocol());
    assertEquals(80, r.port());
    assertEquals(3, r.weights()[0]);
  }

  @Test
  void shouldTakeAnInterfacesMtuFromItsLinkWhenTheConfigLeavesItOut() throws Exception {
    RedirectorConfig c = ConfigLoader.parse("t.yaml", GOOD, links(1400));
    assertEquals(1500, c.context().interfaces().get(0).mtu(), "eth0's, as configured");
    assertEquals(1400, c.context().interfaces().get(1).mtu(), "eth1's link's");
    RedirectorConfig lo = ConfigLoader.parse("t.yaml", GOOD, links(65536));
    assertEquals(9000, lo.context().interfaces().get(1).mtu(), "no more than a ring slot holds");
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigLoader.parse("t.yaml", GOOD, links(-1)));
    assertTrue(e.getMessage().startsWith("t.yaml: interfaces[1].mtu: "), e.getMessage());
  }

  /** Links whose MTU is {@code mtu}, or that cannot be read when it is negative. */
  private static ConfigLoader.MacResolver links(int mtu) {
    return new ConfigLoader.MacResolver() {
      @Override
      public long mac(String name) {
        return 0x0200_0000_0009L;
      }

      @Override
      public int mtu(String name) {
        if (mtu < 0) {
          throw new IllegalArgumentException("cannot read the MTU of '" + name + "'");
        }
        return mtu;
      }
    };
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "mtu out of range|mtu: 1500 }|mtu: 99 }|mtu",
        "address without prefix|198.18.0.1/24|198.18.0.1|interfaces[0].address",
        "not an address|198.18.0.1/24|198.18.0.300/24|interfaces[0].address",
        "bad MAC|02:00:00:00:00:01|02:00:00:00:00|interfaces[0].mac",
        "unknown field|mtu: 1500 }|mtu: 1500, speed: 10 }|interfaces[0].speed",
        "bad protocol|80/tcp|80/sctp|redirects[0].service",
        "bad port|:80/tcp|:0/tcp|redirects[0].service",
        "negative weight|weight: 3|weight: -1|weight",
        "next hop on no network|via: 198.18.1.254|via: 198.18.9.254|routes[0].via",
        "not YAML|interfaces:|interfaces: [|line",
      })
  void shouldNameTheFileAndFieldOfEveryError(
      String description, String from, String to, String field) {
    String text = GOOD.replaceFirst(java.util.regex.Pattern.quote(from), to);
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigLoader.parse("t.yaml", text, null));
    assertTrue(e.getMessage().startsWith("t.yaml: "), e.getMessage());
    assertTrue(e.getMessage().contains(field), description + ": " + e.getMessage());
    assertEquals(1, e.getMessage().lines().count(), "one line: " + e.getMessage());
  }

  @Test
  void shouldRefuseAnOuterTtlThatWouldMarkAPassOn() throws Exception {
    // Above 191 a host server takes the redirector's IP-in-IP for another host server's pass-on
    // and never passes it back (SECOND-CHANCE.md): refused, not silently half-working.
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> ConfigLoader.parse("t.yaml", GOOD + "options:\n  outerTtl: 192\n", null));
    assertTrue(e.getMessage().contains("outerTtl"), e.getMessage());
    assertEquals(
        191,
        ConfigLoader.parse("t.yaml", GOOD + "options:\n  outerTtl: 191\n", null)
            .context()
            .outerTtl());
  }

  @Test
  void shouldSayWhenTheFileIsMissing() {
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigLoader.load(Path.of("/no/such.yaml")));
    assertEquals("/no/such.yaml: no such file", e.getMessage());
  }
}
