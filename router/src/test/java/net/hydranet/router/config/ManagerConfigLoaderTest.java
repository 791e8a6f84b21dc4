package net.hydranet.router.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import net.hydranet.control.auth.Keys;
import net.hydranet.hydraweb.manager.ManagerConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManagerConfigLoaderTest {
  @TempDir Path dir;

  @BeforeEach
  void files() throws Exception {
    Files.createDirectories(dir.resolve("keys"));
    Keys.write(Keys.generate(), dir.resolve("keys/origin"));
    Keys.write(Keys.generate(), dir.resolve("keys/hostserver1"));
    Files.createDirectories(dir.resolve("site"));
    Files.write(dir.resolve("hydraweb-bundle.jar"), new byte[] {1});
    Files.write(dir.resolve("hydraweb-bundle.jar.sig"), new byte[64]);
  }

  private Path config(String text) throws Exception {
    Path p = dir.resolve("manager.yaml");
    Files.writeString(p, text);
    return p;
  }

  /** The shipped example, with its document root pointed at the temporary site. */
  private String example() throws Exception {
    return Files.readString(Path.of("../config/hydraweb-manager.yaml"))
        .replace("documentRoot: /var/www/html", "documentRoot: site");
  }

  @Test
  void anIpv6ManagerReachesIpv6HostServersFromAddress6() throws Exception {
    String text =
        example()
            .replace(
                "address: 198.18.2.100", "address: 198.18.2.100\naddress6: \"2001:2:0:2::100\"")
            .replace(
                "  - { address: 198.18.1.20, key: keys/hostserver1.pub }",
                "  - { address: 198.18.1.20, key: keys/hostserver1.pub }\n"
                    + "  - { address: \"2001:2:0:3::2\", key: keys/hostserver1.pub }");
    ManagerConfig c = ManagerConfigLoader.load(config(text));
    assertEquals(java.net.InetAddress.getByName("2001:2:0:2::100"), c.managerAddress6());
    assertEquals(2, c.hostServers().size());
    java.net.InetSocketAddress v6 = c.hostServers().get(1).address();
    assertEquals(java.net.InetAddress.getByName("2001:2:0:3::2"), v6.getAddress());
    assertEquals(6227, v6.getPort());
    assertEquals(c.managerAddress6(), c.managerAddressFor(v6));
    assertEquals(c.managerAddress(), c.managerAddressFor(c.hostServers().get(0).address()));
    assertEquals("198.18.2.100 and 2001:2:0:2::100", c.managerAddressesText());
    String only6 =
        text.replace("address: 198.18.2.100\n", "")
            .replace("  - { address: 198.18.1.20, key: keys/hostserver1.pub }\n", "");
    ManagerConfig c6 = ManagerConfigLoader.load(config(only6));
    assertEquals(null, c6.managerAddress(), "an IPv6-only manager");
    assertEquals("2001:2:0:2::100", c6.managerAddressesText());
  }

  @Test
  void theShippedExampleLoads() throws Exception {
    ManagerConfig c = ManagerConfigLoader.load(config(example()));
    assertEquals("198.18.2.100", c.managerAddress().getHostAddress());
    assertEquals(dir.resolve("site"), c.docroot());
    assertEquals(1, c.hostServers().size());
    assertEquals(6227, c.hostServers().get(0).address().getPort());
    assertEquals("http://198.18.2.10/nginx_status", c.loadStatus().toString());
    assertEquals(200, c.placement().installAbove());
    assertEquals(Duration.ofSeconds(3), c.placement().installAfter());
    assertEquals(5000, c.drainMillis());
    assertEquals(64L << 20, c.preheatBytes());
    assertTrue(c.accessRules().contains("deny 198.18.1.0/24 /private/"));
    assertEquals(2, c.slots().get("banner").size());
    assertEquals(java.util.List.of("**/*.shtml", "/ads/**"), c.templates());
    assertEquals(Duration.ofSeconds(5), c.fetchTimeout());
    assertEquals(Duration.ofSeconds(2), c.originProbeInterval());
  }

  @Test
  void anIpv6OriginsWebServerLoadsInBrackets() throws Exception {
    String text =
        example()
            .replace("webServer: http://198.18.2.10:80", "webServer: http://[2001:2:0:2::10]:80")
            .replace(
                "loadUrl: http://198.18.2.10/nginx_status",
                "loadUrl: http://[2001:2:0:2::10]/nginx_status");
    ManagerConfig c = ManagerConfigLoader.load(config(text));
    assertEquals("[2001:2:0:2::10]", c.webServer().getHost());
    assertEquals(80, c.webServer().getPort());
    assertEquals("[2001:2:0:2::10]", c.loadStatus().getHost());
  }

  @Test
  void withoutPlacementThereIsNoLoadSource() throws Exception {
    String text = example();
    text = text.substring(0, text.indexOf("placement:")) + text.substring(text.indexOf("drain"));
    assertNull(ManagerConfigLoader.load(config(text)).loadStatus());
  }

  @Test
  void mistakesAreOneLineNamingTheField() throws Exception {
    String[][] cases = {
      {"address: 198.18.2.100", "address: 198.18.2", "address"},
      {"webServer: http://198.18.2.10:80", "webServer: ftp://x", "webServer"},
      {"  jar: hydraweb-bundle.jar", "  jar: missing.jar", "bundle"},
      {"installAbove: 200", "installAbove: -1", "placement.installAbove"},
      {"drainSeconds: 5", "drainSeconds: 99999", "drainSeconds"},
      {"originProbeMillis: 2000", "originProbeMillis: 10", "originProbeMillis"},
      {"namePrefix: hydraweb", "namePrefx: hydraweb", "namePrefx"},
      {"key: keys/origin.key", "key: keys/nothing.key", "key"},
      {"templates: [\"**/*.shtml\"", "templates: [\"[a-\"", "templates[0]: '[a-' is not a glob"},
      {"templates: [\"**/*.shtml\"", "templates: [3", "templates[0]"},
      {"  banner: [", "  ban ner: [", "'ban ner' is not a slot name"},
      {
        "webServer: http://198.18.2.10:80",
        "webServer: http://2001:2:0:2::10:80",
        "webServer: 'http://2001:2:0:2::10:80' is not an http:// URL (an IPv6 address goes in"
            + " brackets"
      },
      {
        "address: 198.18.2.100",
        "address: \"2001:2:0:2::100\"",
        "address: '2001:2:0:2::100' is IPv6: the manager's IPv6 address goes in address6"
      },
      {
        "  - { address: 198.18.1.20",
        "  - { address: \"2001:2:0:1::20\"",
        "host server 2001:2:0:1::20 is IPv6: the manager needs an IPv6 address (address6)"
      },
      {
        "address: 198.18.2.100",
        "address6: \"fe80::1\"",
        "address6: 'fe80::1' is not a unicast IPv6 address"
      },
      {
        "address: 198.18.2.100",
        "address6: \"2001:2:0:2::100\"",
        "host server 198.18.1.20 is IPv4: the manager needs an IPv4 address (address)"
      },
    };
    for (String[] c : cases) {
      String text = example().replace(c[0], c[1]);
      ConfigException e =
          assertThrows(ConfigException.class, () -> ManagerConfigLoader.load(config(text)), c[1]);
      assertTrue(e.getMessage().contains(c[2]), c[1] + " -> " + e.getMessage());
      assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }
  }
}
