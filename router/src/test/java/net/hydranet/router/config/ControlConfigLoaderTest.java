package net.hydranet.router.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.hydranet.control.agent.ControlAgent;
import net.hydranet.replica.OriginAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ControlConfigLoaderTest {
  @TempDir Path dir;

  private static Path repo(String file) {
    Path p = Path.of("").toAbsolutePath();
    while (!Files.exists(p.resolve("config"))) {
      p = p.getParent();
    }
    return p.resolve("config").resolve(file);
  }

  @Test
  void shouldLoadTheSampleRedirectorConfig() throws ConfigException {
    ControlConfig c = ControlConfigLoader.load(repo("control-redirector.yaml"));
    assertEquals(ControlAgent.PORT, c.port());
    assertEquals(2400, c.holdMillis());
    assertEquals(1, c.hostServers().size());
    assertEquals(1, c.redirectors().size());
    assertEquals(2, c.authorise().get(0).hostServers().size());
    assertTrue(c.key().isAbsolute(), "the key path is resolved against the config file");
  }

  @Test
  void shouldLoadTheSampleHostServerConfig() throws ConfigException {
    ControlConfig c = ControlConfigLoader.load(repo("control-hostserver.yaml"));
    assertEquals(100, c.weight());
    assertEquals(5000, c.drainMillis());
    assertEquals(ControlAgent.DEFAULT_HOLD_MILLIS, c.holdMillis());
  }

  private static final String HS = "address: 198.18.1.20\nkey: k\n";

  @Test
  void shouldLoadTheCommentedReplicasExample() throws Exception {
    // The sample's commented section, uncommented: it must stay a valid example.
    StringBuilder yaml = new StringBuilder();
    for (String line : Files.readAllLines(repo("control-hostserver.yaml"))) {
      yaml.append(
              line.startsWith("#replicas:") || line.startsWith("#  ") ? line.substring(1) : line)
          .append('\n');
    }
    Path f = dir.resolve("hs.yaml");
    Files.writeString(f, yaml.toString());
    ControlConfig c = ControlConfigLoader.load(f);
    ControlConfig.Replicas r = c.replicas();
    assertEquals(6227, r.port());
    assertEquals(61000, r.firstUid());
    assertEquals("hydranet", r.cgroupParent());
    assertEquals(8L << 20, r.logBytes());
    ControlConfig.ReplicaOrigin o = r.origins().get(0);
    assertEquals(java.net.InetAddress.getByName("198.18.2.1"), o.manager());
    assertEquals(null, r.address6(), "no IPv6 manager, no IPv6 listener");
    assertEquals(List.of(OriginAddress.Prefix.parse("198.18.2.0/24")), o.addresses());
    assertEquals(256L << 20, o.memoryBytes());
    assertEquals(500, o.milliCpus());
    assertEquals(64, o.pids());
    assertEquals(256, o.files());
    assertEquals(2, o.maxReplicas());
    assertEquals(dir.resolve("keys/origin1.pub").toString(), o.key(), "resolved against the file");
    assertEquals(null, ControlConfigLoader.load(repo("control-hostserver.yaml")).replicas());
  }

  @Test
  void shouldReadReplicaOriginAddressesOfBothFamilies() throws Exception {
    String yaml =
        HS
            + "replicas:\n  origins:\n    - {manager: 198.18.2.100, key: x, memory: 1g, cpus: 1,"
            + " addresses: [198.18.2.0/28, \"2001:2:0:2::/64\", \"2001:2:0:9::10\"]}\n";
    Path f = dir.resolve("hs6.yaml");
    Files.writeString(f, yaml);
    ControlConfig.ReplicaOrigin o = ControlConfigLoader.load(f).replicas().origins().get(0);
    assertEquals(
        List.of(
            OriginAddress.Prefix.parse("198.18.2.0/28"),
            OriginAddress.Prefix.parse("2001:2:0:2::/64"),
            OriginAddress.Prefix.parse("2001:2:0:9::10/128")),
        o.addresses());
    String origin = "  origins:\n    - {manager: 198.18.2.1, key: x, memory: 1g, cpus: 1, ";
    assertTrue(
        error(HS + "replicas:\n" + origin + "addresses: [198.18.2.0/24, \"2001:2::1/32\"]}\n")
            .contains("replicas.origins[0].addresses[1]: '2001:2::1/32' has bits set"));
    assertTrue(
        error(HS + "replicas:\n" + origin + "addresses: \"2001:2::zz/64\"}\n")
            .contains("replicas.origins[0].addresses"));
    assertTrue(
        error(HS + "replicas:\n" + origin + "addresses: []}\n")
            .contains("replicas.origins[0].addresses: must not be empty"));
  }

  @Test
  void shouldTakeAnIpv6ManagerWithTheServicesIpv6Address() throws Exception {
    String yaml =
        HS
            + "replicas:\n  address6: \"2001:2:0:3::2\"\n  origins:\n"
            + "    - {manager: \"2001:2:0:2::100\", key: x, memory: 1g, cpus: 1,"
            + " addresses: \"2001:2:0:2::/64\"}\n"
            + "    - {manager: 198.18.2.100, key: y, memory: 1g, cpus: 1, addresses: 198.18.2.0/24}\n";
    Path f = dir.resolve("hs-v6.yaml");
    Files.writeString(f, yaml);
    ControlConfig.Replicas r = ControlConfigLoader.load(f).replicas();
    assertEquals(java.net.InetAddress.getByName("2001:2:0:3::2"), r.address6());
    assertEquals(java.net.InetAddress.getByName("2001:2:0:2::100"), r.origins().get(0).manager());
    assertEquals(java.net.InetAddress.getByName("198.18.2.100"), r.origins().get(1).manager());
  }

  @Test
  void shouldSayWhatAnIpv6ManagerOrAddress6Lacks() throws Exception {
    String v6 =
        "    - {manager: \"2001:2:0:2::100\", key: x, memory: 1g, cpus: 1, addresses: \"2001:2::/48\"}\n";
    String v4 =
        "    - {manager: 198.18.2.100, key: x, memory: 1g, cpus: 1, addresses: 198.18.2.0/24}\n";
    String noAddress6 = error(HS + "replicas:\n  origins:\n" + v6);
    assertTrue(
        noAddress6.contains(
            "replicas.origins[0].manager: '2001:2:0:2::100' is IPv6: set replicas.address6"),
        noAddress6);
    String unused = error(HS + "replicas:\n  address6: \"2001:2:0:3::2\"\n  origins:\n" + v4);
    assertTrue(
        unused.contains("replicas.address6: no origin's manager is IPv6, so nothing would connect"),
        unused);
    for (String bad : new String[] {"::", "::1", "fe80::1", "ff02::1", "::ffff:c612:114"}) {
      String e = error(HS + "replicas:\n  address6: \"" + bad + "\"\n  origins:\n" + v6);
      assertTrue(e.contains("replicas.address6: '" + bad + "' is not a unicast IPv6"), e);
    }
    String self = error(HS + "replicas:\n  address6: \"2001:2:0:2::100\"\n  origins:\n" + v6);
    assertTrue(
        self.contains("replicas.origins[0].manager: is this host server's own address"), self);
    String twice = error(HS + "replicas:\n  address6: \"2001:2:0:3::2\"\n  origins:\n" + v6 + v6);
    assertTrue(twice.contains("replicas.origins[1].manager: listed twice"), twice);
  }

  @Test
  void shouldNameTheFieldOfEveryReplicasError() throws Exception {
    String origin = "  origins:\n    - {manager: 198.18.2.1, key: x, addresses: 198.18.2.0/24, ";
    assertTrue(error(HS + "replicas: {}\n").contains("replicas.origins: missing"));
    assertTrue(error(HS + "replicas:\n  origins: []\n").contains("must not be empty"));
    assertTrue(
        error(HS + "replicas:\n  port: 0\n" + origin + "memory: 1g, cpus: 1}\n")
            .contains("replicas.port"));
    assertTrue(
        error(HS + "replicas:\n  cgroupParent: ../x\n" + origin + "memory: 1g, cpus: 1}\n")
            .contains("replicas.cgroupParent: must be a plain name"));
    assertTrue(
        error(HS + "replicas:\n  logBytes: 10\n" + origin + "memory: 1g, cpus: 1}\n")
            .contains("replicas.logBytes: must be at least 1k"));
    assertTrue(
        error(HS + "replicas:\n  logBytes: much\n" + origin + "memory: 1g, cpus: 1}\n")
            .contains("replicas.logBytes: not a size: much"));
    assertTrue(
        error(HS + "replicas:\n" + origin + "memory: 1g}\n")
            .contains("replicas.origins[0].cpus: missing"));
    assertTrue(
        error(HS + "replicas:\n" + origin + "memory: lots, cpus: 1}\n")
            .contains("replicas.origins[0]: not a size: lots"));
    assertTrue(
        error(HS + "replicas:\n" + origin + "memory: 1m, cpus: 1}\n")
            .contains("memory below 16 MiB"));
    assertTrue(
        error(HS + "replicas:\n" + origin + "memory: 1g, cpus: 1, maxReplicas: 0}\n")
            .contains("maxReplicas"));
    assertTrue(
        error(HS + "replicas:\n" + origin + "memory: 1g, cpus: 1, colour: red}\n")
            .contains("unknown field"));
    assertTrue(
        error(
                HS
                    + "replicas:\n  origins:\n    - {manager: 198.18.2.1, key: x, addresses: 198.18.2.0,"
                    + " memory: 1g, cpus: 1}\n")
            .contains("needs a prefix length"));
    assertTrue(
        error(
                HS
                    + "replicas:\n"
                    + origin
                    + "memory: 1g, cpus: 1}\n    - {manager: 198.18.2.1, key: y, addresses:"
                    + " 198.18.3.0/24, memory: 1g, cpus: 1}\n")
            .contains("listed twice"));
  }

  @Test
  void shouldReadTtlSecurityPerNode() throws Exception {
    Path f = dir.resolve("ttl.yaml");
    Files.writeString(
        f,
        "address: 198.18.1.1\nkey: k\nhostServers:\n"
            + "  - { address: 198.18.1.20, key: MCowBQYDK2VwAyEA, ttlSecurity: true }\n"
            + "  - { address: 198.18.1.21, key: MCowBQYDK2VwAyEA }\n");
    ControlConfig c = ControlConfigLoader.load(f);
    assertTrue(c.hostServers().get(0).ttlSecurity());
    assertFalse(c.hostServers().get(1).ttlSecurity(), "off unless asked");
    assertTrue(
        error(
                "address: 198.18.1.1\nkey: k\nhostServers:\n"
                    + "  - { address: 198.18.1.20, key: x, ttlSecurity: 255 }\n")
            .contains("hostServers[0].ttlSecurity: expected true or false"));
  }

  private String error(String yaml) throws Exception {
    Path f = dir.resolve("c.yaml");
    Files.writeString(f, yaml);
    String m = assertThrows(ConfigException.class, () -> ControlConfigLoader.load(f)).getMessage();
    assertFalse(m.contains("\n"), "one line: " + m);
    return m;
  }

  @Test
  void shouldReadIpv6AuthorisationsBesideIpv4Ones() throws Exception {
    Path f = dir.resolve("v6.yaml");
    Files.writeString(
        f,
        "address: 198.18.1.1\nkey: k\nauthorise:\n"
            + "  - { origins: 198.18.2.0/24, hostServers: [198.18.1.20] }\n"
            + "  - { origins: \"2001:2::/48\", hostServers: [198.18.1.20, 198.18.1.21] }\n"
            + "  - { origins: \"2001:2::10\", hostServers: [198.18.1.21] }\n");
    ControlConfig c = ControlConfigLoader.load(f);
    assertFalse(c.authorise().get(0).ipv6());
    ControlConfig.Authorise v6 = c.authorise().get(1);
    assertTrue(v6.ipv6());
    assertEquals(0x2001_0002_0000_0000L, v6.high());
    assertEquals(0, v6.low());
    assertEquals(48, v6.length());
    assertEquals(2, v6.hostServers().size());
    assertEquals(128, c.authorise().get(2).length(), "one address: /128");
    assertTrue(
        error(
                "address: 198.18.1.1\nkey: k\nauthorise: [{origins: \"2001:2::1/48\", hostServers: []}]\n")
            .contains(
                "authorise[0].origins: '2001:2::1/48' has bits set beyond its prefix length"));
    assertTrue(
        error(
                "address: 198.18.1.1\nkey: k\nauthorise: [{origins: \"2001:2::/129\", hostServers: []}]\n")
            .contains("authorise[0].origins: prefix length 129"));
    assertTrue(
        error(
                "address: 198.18.1.1\nkey: k\nauthorise: [{origins: \"2001:zz::/48\", hostServers: []}]\n")
            .contains("authorise[0].origins"));
  }

  @Test
  void shouldNameTheFieldOfEveryError() throws Exception {
    assertTrue(error("address: 198.18.1.1\n").contains("key: missing"));
    assertTrue(error("address: 1.2.3\nkey: k\n").contains("address"));
    assertTrue(error("address: 198.18.1.1\nkey: k\nholdMillis: 5\n").contains("holdMillis"));
    assertTrue(error("address: 198.18.1.1\nkey: k\nholdmillis: 500\n").contains("unknown field"));
    assertTrue(
        error("address: 198.18.1.1\nkey: k\nredirectors: [{address: 198.18.1.1, key: x}]\n")
            .contains("itself"));
    assertTrue(
        error(
                "address: 198.18.1.1\nkey: k\nhostServers: [{address: 198.18.1.2, key: x, cost: 0}]\n")
            .contains("cost"));
    assertTrue(error("address: [\n").contains("not valid YAML"));
  }
}
