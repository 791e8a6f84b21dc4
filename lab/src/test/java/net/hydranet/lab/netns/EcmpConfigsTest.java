package net.hydranet.lab.netns;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.lab.netns.EcmpNetwork.Replica;
import net.hydranet.router.config.ConfigLoader;
import net.hydranet.router.config.RedirectorConfig;
import org.junit.jupiter.api.Test;

/**
 * What {@link EcmpNetwork}'s daemons are given: each redirector's config as hydranet's own loader
 * reads it (the same table everywhere, in an order of the redirector's own), and each BIRD config
 * as BIRD 2 parses it ({@code bird -p}, where BIRD is installed).
 */
class EcmpConfigsTest {
  private static final int HS1 = Ipv4Header.parseAddress(EcmpNetwork.HS1);
  private static final int HS2 = Ipv4Header.parseAddress(EcmpNetwork.HS2);

  private static RedirectorConfig load(int n, List<Replica> replicas, boolean gue)
      throws Exception {
    // The live redirector asks its links for their MACs; any will do here.
    return ConfigLoader.parse(
        "r" + n + ".yaml",
        EcmpConfigs.redirectorConfig(n, replicas, gue),
        name -> 0x02_00_00_00_00_01L);
  }

  @Test
  void shouldGiveEveryRedirectorTheSameTableInAnOrderOfItsOwn() throws Exception {
    List<Replica> replicas =
        List.of(new Replica(EcmpNetwork.HS1, 1), new Replica(EcmpNetwork.HS2, 0));
    for (int n = 1; n <= EcmpNetwork.REDIRECTORS; n++) {
      RedirectorConfig c = load(n, replicas, true);
      assertEquals(2, c.redirects().size(), "ports 80 and 5201");
      for (RedirectorConfig.Redirect r : c.redirects()) {
        assertEquals(Ipv4Header.parseAddress(EcmpNetwork.ORIGIN), r.address());
        boolean odd = n % 2 == 1;
        assertArrayEquals(odd ? new int[] {HS1, HS2} : new int[] {HS2, HS1}, r.hostServers());
        assertArrayEquals(odd ? new int[] {1, 0} : new int[] {0, 1}, r.weights());
      }
      assertArrayEquals(new int[] {HS1, HS2}, c.context().gueHostServers());
    }
  }

  @Test
  void shouldServeFromTheOriginWithNoReplicaAndTunnelInIpipWithoutGue() throws Exception {
    RedirectorConfig c = load(3, List.of(), false);
    assertEquals(List.of(), c.redirects());
    assertArrayEquals(new int[0], c.context().gueHostServers());
  }

  @Test
  void shouldWriteBirdConfigsThatBirdAccepts() throws Exception {
    assumeTrue(EcmpNetwork.bird().isPresent(), "BIRD 2 is not installed (bird2; bin/setup)");
    assertEquals("0", birdParse(EcmpConfigs.upstreamBird()));
    for (int n = 1; n <= EcmpNetwork.REDIRECTORS; n++) {
      assertEquals("0", birdParse(EcmpConfigs.redirectorBird(n)), "r" + n);
    }
    String broken = EcmpConfigs.upstreamBird().replace("protocol device", "protocol dvice");
    String result = birdParse(broken);
    assertTrue(!result.startsWith("0") && result.contains("syntax error"), result);
  }

  /** {@code bird -p}: "0" if BIRD parses {@code text}, else its exit code and what it said. */
  private static String birdParse(String text) throws Exception {
    Path file = Files.createTempFile("ecmp-bird-", ".conf");
    try {
      Files.writeString(file, text);
      Process p =
          new ProcessBuilder(EcmpNetwork.bird().orElseThrow(), "-p", "-c", file.toString())
              .redirectErrorStream(true)
              .start();
      assertTrue(p.waitFor(10, TimeUnit.SECONDS), "bird -p answers");
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      return (p.exitValue() + " " + out).strip();
    } finally {
      Files.delete(file);
    }
  }
}
