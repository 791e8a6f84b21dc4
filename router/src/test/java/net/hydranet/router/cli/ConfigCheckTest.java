package net.hydranet.router.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.hydranet.router.config.ConfigLoader;
import net.hydranet.router.config.RedirectorConfig;
import net.hydranet.router.daemon.redirector.ConfigReload;
import net.hydranet.router.metrics.ConfigReloads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --check} on each daemon's config, and what a reload counts. */
class ConfigCheckTest {
  private static final Path ROOT = Path.of("").toAbsolutePath().getParent();
  @TempDir Path dir;

  private record Run(int code, String out, String err) {}

  private static synchronized Run hydranet(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      int code = HydraNetCommand.execute(args);
      return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  @Test
  void shouldPrintOneLineAndExitZeroForAValidRedirectorConfig() {
    Path sample = ROOT.resolve("config/replay-sample.yaml");

    Run r =
        hydranet(
            "redirector",
            "--check",
            "--config",
            sample.toString(),
            "--control",
            ROOT.resolve("config/control-redirector.yaml").toString());

    assertEquals(0, r.code(), r.err());
    assertEquals(1, r.out().lines().count(), r.out());
    assertTrue(r.out().startsWith(sample + ": valid ("), r.out());
    assertTrue(r.out().contains("control " + ROOT.resolve("config/control-redirector.yaml")));
  }

  @Test
  void shouldPrintOneLineAndExitTwoForAnInvalidConfig() throws Exception {
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(
        bad,
        Files.readString(ROOT.resolve("config/replay-sample.yaml"))
            .replaceFirst("mtu: 1500", "mtu: banana"));

    Run r = hydranet("redirector", "--check", "--config", bad.toString());

    assertEquals(2, r.code(), r.out() + r.err());
    assertEquals("", r.out());
    assertEquals(1, r.err().lines().count(), r.err());
    assertTrue(r.err().startsWith("hydranet: "), r.err());
  }

  @Test
  void shouldCheckTheManagerAndHostServerConfigs() throws Exception {
    Path keys = Files.createDirectories(dir.resolve("keys"));
    for (String stem : new String[] {"origin", "hostserver1", "hostserver2"}) {
      assertEquals(0, hydranet("keygen", keys.resolve(stem).toString()).code());
    }
    Files.writeString(dir.resolve("hydraweb-bundle.jar"), ""); // checked for, not opened
    Files.writeString(dir.resolve("hydraweb-bundle.jar.sig"), "");
    Path managerConfig = dir.resolve("manager.yaml");
    Files.copy(ROOT.resolve("config/hydraweb-manager.yaml"), managerConfig);
    Run manager = hydranet("manager", "--check", "--config", managerConfig.toString());
    Run hostServer =
        hydranet(
            "hostserver",
            "--check",
            "--interface",
            "lo",
            "--address",
            "198.18.1.20",
            "--control",
            ROOT.resolve("config/control-hostserver.yaml").toString());
    Run negative =
        hydranet(
            "hostserver",
            "--check",
            "--interface",
            "lo",
            "--address",
            "198.18.1.20",
            "--inline-burst",
            "-1");
    Path empty = dir.resolve("empty.yaml");
    Files.writeString(empty, "nonsense: [\n");
    Run bad = hydranet("manager", "--check", "--config", empty.toString());

    assertEquals(0, manager.code(), manager.err());
    assertTrue(manager.out().contains(": valid ("), manager.out());
    assertEquals(0, hostServer.code(), hostServer.err());
    assertEquals(
        "host server 198.18.1.20: valid (" + ROOT.resolve("config/control-hostserver.yaml") + ")\n",
        hostServer.out());
    assertEquals(2, bad.code());
    assertEquals(2, negative.code(), negative.out());
    assertTrue(
        negative.err().contains("--inline-burst: must not be negative, was -1"), negative.err());
  }

  @Test
  void shouldNameTheSectionsThatNeedARestart() throws Exception {
    String text = Files.readString(ROOT.resolve("config/replay-sample.yaml"));
    RedirectorConfig running = ConfigLoader.load(ROOT.resolve("config/replay-sample.yaml"));
    Path redirectsOnly = dir.resolve("redirects.yaml");
    Files.writeString(redirectsOnly, text);

    assertEquals(List.of(), ConfigReload.needRestart(running, ConfigLoader.load(redirectsOnly)));
    Path mtu = dir.resolve("mtu.yaml");
    Files.writeString(mtu, text.replaceFirst("mtu: 1500", "mtu: 1400"));
    assertEquals(List.of("interfaces"), ConfigReload.needRestart(running, ConfigLoader.load(mtu)));
  }

  @Test
  void shouldCountReloadsAsPrometheusDoes() {
    ConfigReloads reloads = new ConfigReloads();
    assertTrue(reloads.lastSuccessful(), "the start is the first success");

    reloads.failed();
    assertEquals(false, reloads.lastSuccessful());
    reloads.restartNeeded(List.of("routes", "interfaces"));
    reloads.succeeded();

    assertTrue(reloads.lastSuccessful());
    assertEquals(2, reloads.restartsNeeded());
    assertEquals(1, reloads.failures());
  }
}
