package net.hydranet.harness.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fast check of config/systemd's units: {@code systemd-analyze verify} finds no error, and
 * {@code systemd-analyze security} rates each no worse than its budget. The paths the package
 * installs (/usr/bin/hydranet, /usr/lib/hydranet/…) are pointed at stubs, as verify wants every
 * command to exist; {@link PackageUnitsIT} runs the real ones under systemd.
 */
class SystemdUnitsTest {
  /** The highest exposure allowed per unit (systemd-analyze's 0–10 scale, measured 2.0/1.3/6.7). */
  private static final Map<String, Double> BUDGET =
      Map.of(
          "hydranet-redirector.service", 2.5,
          "hydranet-manager.service", 2.0,
          // Root with namespaces, mounts and setuid for its confined replicas.
          "hydranet-hostserver.service", 7.0);

  @TempDir static Path dir;

  @BeforeAll
  static void stubs() throws Exception {
    assumeTrue(
        new ProcessBuilder("sh", "-c", "command -v systemd-analyze").start().waitFor() == 0,
        "systemd-analyze is not installed (Debian: systemd)");
    for (String stub : List.of("hydranet", "redirector-prepare")) {
      Path p = dir.resolve(stub);
      Files.writeString(p, "#!/bin/sh\n");
      p.toFile().setExecutable(true);
    }
  }

  private static Path unit(String name) throws Exception {
    Path source = Path.of(System.getProperty("user.dir")).resolve("../config/systemd/" + name);
    String text =
        Files.readString(source)
            .replace("/usr/bin/hydranet", dir.resolve("hydranet").toString())
            .replace("/usr/lib/hydranet/", dir + "/");
    Path out = dir.resolve(name);
    Files.writeString(out, text);
    return out;
  }

  private static String[] run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "systemd-analyze timed out");
    return new String[] {Integer.toString(p.exitValue()), out};
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "hydranet-redirector.service",
        "hydranet-hostserver.service",
        "hydranet-manager.service"
      })
  void shouldPassSystemdAnalyzeVerify(String name) throws Exception {
    String[] r = run("systemd-analyze", "verify", "--man=no", unit(name).toString());
    assertEquals("", r[1].strip(), "systemd-analyze verify " + name);
    assertEquals("0", r[0], r[1]);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "hydranet-redirector.service",
        "hydranet-hostserver.service",
        "hydranet-manager.service"
      })
  void shouldStayWithinItsSecurityExposureBudget(String name) throws Exception {
    String[] r =
        run("systemd-analyze", "security", "--offline=yes", "--no-pager", unit(name).toString());
    Matcher m = Pattern.compile("Overall exposure level for \\S+: (\\d+\\.\\d)").matcher(r[1]);
    assertTrue(m.find(), r[1]);
    double exposure = Double.parseDouble(m.group(1));
    assertTrue(
        exposure <= BUDGET.get(name),
        name + " exposure " + exposure + " above its budget " + BUDGET.get(name) + ":\n" + r[1]);
  }
}
