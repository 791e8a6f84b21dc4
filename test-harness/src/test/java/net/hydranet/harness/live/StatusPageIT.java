package net.hydranet.harness.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.lab.netns.ExecResult;
import net.hydranet.lab.netns.PaperNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The redirector's status page in a real browser: Debian's headless Chromium loads /status from a
 * running redirector in the paper's namespace topology while traffic flows, and the rendered DOM
 * shows the table entry with its source and counters that move between two loads; a screenshot is
 * kept in target/status-page/. The same redirector then takes a real SIGHUP: it keeps running and
 * counts a successful reload; an invalid config is refused and counted.
 */
class StatusPageIT {
  private static final String URL = "http://127.0.0.1:9464/status";
  private static final Pattern RX = Pattern.compile("<span id=\"rx\">(\\d+)</span>");
  private static final Pattern PACKETS = Pattern.compile("<td class=\"n packets\">(\\d+)</td>");

  @Test
  @Timeout(240)
  void shouldShowTheTableAndMovingCountersInChromiumAndReloadOnSighup() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
    assumeTrue(
        new ProcessBuilder("chromium", "--version").start().waitFor() == 0,
        "needs Debian's chromium (bin/setup installs it)");
    Path root = RedirectorUnderTest.repositoryRoot();
    Path jar = root.resolve("router/target/hydranet.jar");
    assumeTrue(Files.exists(jar), "router/target/hydranet.jar is built by mvn package");
    Path artifacts =
        Files.createDirectories(root.resolve("test-harness/target/status-page").toAbsolutePath());
    String java = ProcessHandle.current().info().command().orElse("java");
    // C1 only and one GC thread: the daemons start within the topology's 30 s on a loaded
    // machine (at a load of 30 on two cores the default JVM took longer, loading classes).
    // SIGHUP back to its default for the daemons: a test run started under nohup passes SIGHUP
    // down ignored, and a JVM that starts with it ignored never installs a handler (Hangup).
    List<String> hydranet =
        List.of(
            "env",
            "--default-signal=HUP",
            java,
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-jar",
            jar.toString());
    try (PaperNetwork net = new PaperNetwork("h7sp", hydranet)) {
      net.start();
      net.installWebReplica("served by the REPLICA\n");
      net.redirect(80, "tcp");
      for (int i = 0; i < 5; i++) {
        assertTrue(net.curl(80).stdout().contains("REPLICA"));
      }
      Thread.sleep(1_500); // one sample after the traffic

      String first = chromium(net, "--dump-dom", URL);
      for (int i = 0; i < 5; i++) {
        assertTrue(net.curl(80).stdout().contains("REPLICA"));
      }
      Thread.sleep(1_500);
      String second = chromium(net, "--dump-dom", URL);
      Files.writeString(artifacts.resolve("first.html"), first);
      Files.writeString(artifacts.resolve("second.html"), second);

      assertTrue(
          second.contains(
              "<td>"
                  + PaperNetwork.ORIGIN
                  + ":80/tcp</td><td>"
                  + PaperNetwork.HOST_SERVER
                  + "</td>"),
          "the table entry: " + second);
      assertTrue(second.contains("static (config file)"), "its source: " + second);
      assertTrue(second.contains("<polyline id=\"rx-line\""), "the plot: " + second);
      long rx1 = number(RX, first);
      long rx2 = number(RX, second);
      long packets1 = number(PACKETS, first);
      long packets2 = number(PACKETS, second);
      assertTrue(rx2 > rx1, "received frames move: " + rx1 + " then " + rx2);
      assertTrue(
          packets1 > 0 && packets2 > packets1,
          "packets to the host server move: " + packets1 + " then " + packets2);

      Path png = artifacts.resolve("status.png");
      chromium(net, "--screenshot=" + png, "--window-size=1000,1100", URL);
      assertTrue(Files.size(png) > 10_000, "screenshot " + png + ": " + Files.size(png) + " bytes");

      // A real SIGHUP to the running redirector: before, the JVM exited on it.
      // The redirect above was itself a reload (the file changed): count from here on, and wait
      // for the SIGHUP's own line, or the check races the signal.
      long pid = redirectorPid(net);
      double reloadsBefore = metric(net, "hydranet_config_reloads_total{result=\"success\",}");
      // Signalled again every 3 s while unanswered: in one full run (after the nspawn test) the
      // first signal was not followed by a reload within 30 s, and one run could not tell why.
      // Each attempt is printed, so a lost signal shows in the test's output.
      long[] sent = {0};
      net.await(
          "a reload on SIGHUP counted",
          () -> {
            if (sent[0] == 0 || System.nanoTime() - sent[0] > 3_000_000_000L) {
              sent[0] = System.nanoTime();
              hangup(pid);
            }
            return metric(net, "hydranet_config_reloads_total{result=\"success\",}") > reloadsBefore
                && net.logs().contains("(SIGHUP)");
          });
      assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "still running");
      assertEquals(1, metric(net, "hydranet_config_last_reload_successful"));
      assertTrue(net.logs().contains("(SIGHUP)"), net.logs());

      Path config = net.workDir().resolve("redirector.yaml");
      String good = Files.readString(config);
      Files.writeString(config, good.replace("mtu: 1500", "mtu: banana"));
      assertEquals(0, new ProcessBuilder("kill", "-HUP", Long.toString(pid)).start().waitFor());
      net.await(
          "a refused reload", () -> metric(net, "hydranet_config_last_reload_successful") == 0);
      Files.writeString(config, good.replaceFirst("mtu: 1500", "mtu: 1400"));
      assertEquals(0, new ProcessBuilder("kill", "-HUP", Long.toString(pid)).start().waitFor());
      net.await(
          "a change needing a restart",
          () -> metric(net, "hydranet_config_restart_needed_total") >= 1);
      assertEquals(1, metric(net, "hydranet_config_last_reload_successful"));
      assertTrue(net.curl(80).stdout().contains("REPLICA"), "still redirecting");
    }
  }

  private static String chromium(PaperNetwork net, String... args) throws Exception {
    Path profile = Files.createTempDirectory("h7-chromium");
    try {
      String[] cmd =
          new String[] {
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--user-data-dir=" + profile
          };
      String[] all = new String[cmd.length + args.length];
      System.arraycopy(cmd, 0, all, 0, cmd.length);
      System.arraycopy(args, 0, all, cmd.length, args.length);
      ExecResult r = net.topology().exec("redir", Duration.ofSeconds(60), all);
      assertTrue(r.ok(), "chromium: " + r);
      return r.stdout();
    } finally {
      new ProcessBuilder("rm", "-rf", profile.toString()).start().waitFor();
    }
  }

  private static long number(Pattern p, String html) {
    Matcher m = p.matcher(html);
    assertTrue(m.find(), p + " in " + html);
    return Long.parseLong(m.group(1));
  }

  private static void hangup(long pid) {
    System.out.println("status-page: SIGHUP to " + pid);
    try {
      assertEquals(0, new ProcessBuilder("kill", "-HUP", Long.toString(pid)).start().waitFor());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static long redirectorPid(PaperNetwork net) throws Exception {
    ExecResult pids =
        net.topology().exec(null, "ip", "netns", "pids", net.topology().nsName("redir"));
    for (String line : pids.stdout().split("\\s+")) {
      if (line.isBlank()) {
        continue;
      }
      long pid = Long.parseLong(line.strip());
      String cmd = ProcessHandle.of(pid).flatMap(h -> h.info().commandLine()).orElse("");
      if (cmd.contains("hydranet.jar") && cmd.contains(" redirector ")) {
        return pid;
      }
    }
    throw new AssertionError("no redirector among " + pids.stdout());
  }

  private static double metric(PaperNetwork net, String series) {
    ExecResult r = net.topology().exec("redir", "curl", "-s", "http://127.0.0.1:9464/metrics");
    for (String line : r.stdout().split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).strip());
      }
    }
    return Double.NaN;
  }
}
