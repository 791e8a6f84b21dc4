package net.hydranet.hostserver.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import net.hydranet.replica.Resources;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What of the host server's own settings reaches a replica's cleared environment. */
class ConfinementEnvironmentTest {
  @AfterEach
  void clear() {
    System.clearProperty("hydranet.log.format");
    System.clearProperty("hydranet.log.level");
  }

  @Test
  void shouldPassTheHostServersLogFormatAndLevelToTheReplica() {
    System.setProperty("hydranet.log.format", "json");
    System.setProperty("hydranet.log.level", "debug");
    List<String> argv =
        new Confinement(
                Path.of("/nonexistent-cgroup"),
                "hydranet",
                "web-1",
                61000,
                Path.of("/run/hn/web-1"),
                new Resources(64L << 20, 500, 64, 256))
            .argv(List.of("java", "-cp", "bundle.jar", "Main"), Path.of("/run/hn/web-1/c.sock"));
    int env = argv.indexOf("-i");
    int java = argv.lastIndexOf("java");
    assertTrue(env > 0 && argv.get(env - 1).equals("env"), argv.toString());
    List<String> environment = argv.subList(env + 1, java);
    assertTrue(environment.contains("HYDRANET_LOG_FORMAT=json"), environment.toString());
    assertTrue(environment.contains("HYDRANET_LOG_LEVEL=debug"), environment.toString());
    assertTrue(
        environment.contains("HYDRANET_CHANNEL=/run/hn/web-1/c.sock"), environment.toString());
  }

  @Test
  void shouldPassOnlyAPlainWord() {
    System.setProperty("hydranet.log.format", "json MALICIOUS=1");
    List<String> env = Confinement.logEnvironment();
    assertFalse(env.stream().anyMatch(e -> e.startsWith("HYDRANET_LOG_FORMAT")), env.toString());
    System.setProperty("hydranet.log.format", "logfmt");
    assertEquals("HYDRANET_LOG_FORMAT=logfmt", Confinement.logEnvironment().get(0));
  }
}
