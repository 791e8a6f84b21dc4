package net.hydranet.harness.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's check for libpcap (issue 22): {@code ldconfig -p | grep -q 'libpcap\.so'} under
 * {@code pipefail} reports libpcap missing whenever grep exits at its first match before ldconfig
 * has written everything (ldconfig dies of SIGPIPE). A stub {@code ldconfig} that names libpcap
 * first and then writes far more than a pipe holds makes that race happen every time; a stub that
 * names no libpcap shows that {@code bin/hydranet} then says what is missing in one line and
 * installs nothing.
 */
class LauncherCheckTest {
  private static final Path ROOT = RedirectorUnderTest.repositoryRoot();

  @TempDir Path stubs;

  /** A stub {@code ldconfig -p}: libpcap's line first (if asked), then 1 MiB of other libraries. */
  private void ldconfig(boolean withLibpcap) throws IOException {
    String first =
        withLibpcap
            ? "echo '\tlibpcap.so.0.8 (libc6,x86-64) => /lib/x86_64-linux-gnu/libpcap.so.0.8'\n"
            : "";
    script(
        "ldconfig",
        "echo '1234 libs found in cache `/etc/ld.so.cache'\"'\"\n"
            + first
            + "i=0; while [ $i -lt 20000 ]; do"
            + " echo \"\tlibother$i.so.1 (libc6,x86-64) => /usr/lib/libother$i.so.1 padding\";"
            + " i=$((i+1)); done\n");
  }

  /** A stub that records being called: nothing may install packages at a daemon's start. */
  private void recorder(String name) throws IOException {
    script(name, "echo \"$0 $*\" >> '" + stubs.resolve("installs") + "'\nexit 0\n");
  }

  private void script(String name, String body) throws IOException {
    Path p = stubs.resolve(name);
    Files.writeString(p, "#!/bin/bash\n" + body);
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private Result bash(String script) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", script).directory(ROOT.toFile());
    pb.environment().put("PATH", stubs + ":" + System.getenv("PATH"));
    Process p = pb.start();
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    byte[] err = p.getErrorStream().readAllBytes();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "bash did not finish: " + script);
    return new Result(
        p.exitValue(),
        new String(out, StandardCharsets.UTF_8),
        new String(err, StandardCharsets.UTF_8));
  }

  private record Result(int status, String out, String err) {}

  @Test
  void shouldReproduceTheOldPipeRaceWithTheStub() throws Exception {
    ldconfig(true);
    // The old check, verbatim: the stub makes grep's early exit SIGPIPE ldconfig every time.
    Result old =
        bash(
            "set -o pipefail; ldconfig -p 2>/dev/null | grep -q 'libpcap\\.so'"
                + " && echo found || echo missing");
    assertEquals("missing\n", old.out(), "the stub must reproduce the race: " + old);
  }

  @Test
  void shouldFindLibpcapWithoutAPipe() throws Exception {
    ldconfig(true);
    for (int i = 0; i < 20; i++) {
      Result r =
          bash(
              "set -euo pipefail; . bin/setup; hydranet_have_libpcap && echo found || echo"
                  + " missing");
      assertEquals("found\n", r.out(), r.toString());
    }
  }

  @Test
  void shouldReportLibpcapMissingWhenTheCacheHasNone() throws Exception {
    ldconfig(false);
    Result r = bash(". bin/setup; hydranet_have_libpcap && echo found || echo missing");
    assertEquals("missing\n", r.out(), r.toString());
  }

  @Test
  void shouldStartNoDaemonAndInstallNothingWhenLibpcapIsMissing() throws Exception {
    ldconfig(false);
    for (String installer : List.of("apt-get", "apt", "dpkg", "mvn")) {
      recorder(installer);
    }
    Result r = bash("bin/hydranet redirector --help");
    assertNotEquals(0, r.status(), r.toString());
    List<String> lines = r.err().lines().toList();
    assertEquals(1, lines.size(), "one line on stderr: " + r);
    assertTrue(lines.get(0).contains("missing libpcap (libpcap-dev)"), lines.get(0));
    assertTrue(lines.get(0).contains("bin/setup"), lines.get(0));
    assertFalse(Files.exists(stubs.resolve("installs")), "nothing installed, nothing built");
  }

  @Test
  void shouldStartWithEverythingPresentEvenWhenLdconfigIsCutShort() throws Exception {
    ldconfig(true);
    for (String installer : List.of("apt-get", "apt", "dpkg")) {
      recorder(installer);
    }
    Result r = bash(". bin/setup; hydranet_require && echo ready");
    assertEquals("ready\n", r.out(), r.toString());
    assertFalse(Files.exists(stubs.resolve("installs")));
  }
}
