package net.hydranet.harness.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.lab.netns.EcmpNetwork;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The example BIRD configs of {@code config/bird/} are what BIRD 2 itself accepts ({@code bird -p},
 * parse only: no daemon, no socket), and a broken copy is refused, so the check can fail.
 */
class BirdConfigsTest {
  private static final Path DIR = RedirectorUnderTest.repositoryRoot().resolve("config/bird");

  private static String parse(Path file) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(EcmpNetwork.bird().orElseThrow(), "-p", "-c", file.toString())
            .redirectErrorStream(true)
            .start();
    assertTrue(p.waitFor(10, TimeUnit.SECONDS), "bird -p answers");
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return (p.exitValue() + " " + out).strip();
  }

  @ParameterizedTest
  @ValueSource(strings = {"bird-upstream.conf", "bird-redirector.conf"})
  void shouldBeAcceptedByBird(String name) throws Exception {
    assumeTrue(EcmpNetwork.bird().isPresent(), "BIRD 2 is not installed (bird2; bin/setup)");
    Path file = DIR.resolve(name);
    assertEquals("0", parse(file), name);

    Path broken = Files.createTempFile("bird-", ".conf");
    try {
      Files.writeString(
          broken, Files.readString(file).replace("protocol device", "protocol dvice"));
      String result = parse(broken);
      assertTrue(!result.startsWith("0") && result.contains("syntax error"), result);
    } finally {
      Files.delete(broken);
    }
  }
}
