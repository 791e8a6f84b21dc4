package net.hydranet.router.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import net.hydranet.control.agent.ControlAgent;
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

  private String error(String yaml) throws Exception {
    Path f = dir.resolve("c.yaml");
    Files.writeString(f, yaml);
    String m = assertThrows(ConfigException.class, () -> ControlConfigLoader.load(f)).getMessage();
    assertFalse(m.contains("\n"), "one line: " + m);
    return m;
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
