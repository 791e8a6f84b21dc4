package net.hydranet.harness.systemd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The Debian package and its units under a real systemd: a bookworm tree booted in systemd-nspawn
 * (cached, see {@link Nspawn}), {@code apt-get install ./hydranet_*.deb ./hydranet-lab_*.deb} in
 * it, then {@code hydranet demo} run from the installed files, each unit started, stopped,
 * reloaded, killed and starved of its watchdog, read back with systemctl and journalctl; at the end
 * {@code apt-get purge} of both must leave no user, files or links behind.
 *
 * <p>Tagged {@code nspawn}: it takes a few minutes (the first run also builds the tree), so CI can
 * run or leave it by tag.
 */
@Tag("nspawn")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 40, unit = TimeUnit.MINUTES)
class PackageUnitsIT {
  private static final String REDIRECTOR = "hydranet-redirector.service";
  private static final String HOSTSERVER = "hydranet-hostserver.service";
  private static final String MANAGER = "hydranet-manager.service";

  /** The package's own copy of the batch-read shim, where its launcher points JNA. */
  private static final String SHIM = "/usr/lib/hydranet/libhydranet-pcap.so";

  /**
   * True if the build made the shim and so an amd64 package with it (forwarding-plane's and
   * router's profile pcap-shim: Linux amd64 with /usr/bin/cc, here on the machine that built it).
   */
  private static final boolean SHIM_BUILT =
      System.getProperty("os.arch").equals("amd64") && Files.exists(Path.of("/usr/bin/cc"));

  private static Nspawn box;

  @BeforeAll
  static void boot() throws Exception {
    Optional<String> why = Nspawn.unavailable();
    assumeTrue(why.isEmpty(), () -> why.get());
    Path deb = deb("router", "hydranet");
    Path lab = deb("lab", "hydranet-lab");
    box = Nspawn.boot(Nspawn.ensureBase(), "h6-hydranet-pkg");
    Files.copy(
        deb, box.root().resolve("var/tmp/hydranet.deb"), StandardCopyOption.REPLACE_EXISTING);
    Files.copy(
        lab, box.root().resolve("var/tmp/hydranet-lab.deb"), StandardCopyOption.REPLACE_EXISTING);
  }

  @AfterAll
  static void halt() throws Exception {
    if (box != null) {
      box.close();
    }
  }

  /**
   * MODULE/target/PACKAGE_VERSION_ARCH.deb, as the reactor's module packaged it (the newest: a
   * snapshot's version has the build's time in it); ARCH is all or the build machine's.
   */
  static Path deb(String module, String pkg) throws Exception {
    Path target =
        Path.of(System.getProperty("user.dir")).resolve("../" + module + "/target").normalize();
    try (Stream<Path> files = Files.list(target)) {
      List<Path> debs =
          files
              .filter(f -> f.getFileName().toString().matches(pkg + "_[0-9][^_]*_[a-z0-9]+\\.deb"))
              .sorted(Comparator.comparing(f -> f.toFile().lastModified()))
              .toList();
      assumeTrue(!debs.isEmpty(), "no " + pkg + " package in " + target + " (mvn package)");
      return debs.get(debs.size() - 1);
    }
  }

  @Test
  @Order(1)
  void shouldInstallWithAptAndMakeItsUser() throws Exception {
    // Without hydranet-lab, the lab's commands say which package has them.
    String out =
        box.sh("cd /var/tmp && DEBIAN_FRONTEND=noninteractive apt-get install -y ./hydranet.deb");
    assertTrue(out.contains("Setting up hydranet"), out);
    assertTrue(box.sh("hydranet --version").startsWith("hydranet "));
    Nspawn.Result noLab = box.exec("hydranet demo 2>&1", 60);
    assertEquals(2, noLab.code(), noLab.out());
    assertTrue(noLab.out().contains("apt-get install hydranet-lab"), noLab.out());
    // The container has no network: nginx (recommended, for demo web) cannot be fetched.
    out =
        box.sh(
            "cd /var/tmp && DEBIAN_FRONTEND=noninteractive apt-get install -y"
                + " --no-install-recommends ./hydranet.deb ./hydranet-lab.deb");
    assertTrue(out.contains("Setting up hydranet-lab"), out);
    assertTrue(box.sh("zcat /usr/share/man/man1/hydranet-demo.1.gz").contains(".SH OPTIONS"));
    assertTrue(box.sh("getent passwd hydranet").contains("/usr/sbin/nologin"));
    // A package with a native library is the machine's architecture; the lab, Java only, is not.
    String files = box.sh("dpkg -L hydranet");
    String arch = box.sh("dpkg-query -W -f='${Architecture}' hydranet").strip();
    if (SHIM_BUILT) {
      assertEquals(box.sh("dpkg --print-architecture").strip(), arch);
      assertTrue(files.lines().anyMatch(SHIM::equals), files);
      assertEquals("root:root 644", box.sh("stat -c '%U:%G %a' " + SHIM).strip());
    } else {
      assertEquals("all", arch);
      assertFalse(files.contains("libhydranet-pcap"), files);
    }
    assertEquals("all", box.sh("dpkg-query -W -f='${Architecture}' hydranet-lab").strip());
    // The conffiles, and their group: the unprivileged daemons must read them.
    assertEquals(
        "root:hydranet 640", box.sh("stat -c '%U:%G %a' /etc/hydranet/redirector.yaml").strip());
    assertTrue(box.sh("dpkg-query -W -f='${Conffiles}' hydranet").contains("/etc/hydranet"));
    assertTrue(box.sh("zcat /usr/share/man/man1/hydranet-redirector.1.gz").contains(".SH OPTIONS"));
    assertTrue(
        box.sh("grep -c complete /usr/share/bash-completion/completions/hydranet")
            .strip()
            .matches("[1-9][0-9]*"));
    // Not enabled by installation: they need /etc configured first.
    assertEquals("disabled", box.exec("systemctl is-enabled " + REDIRECTOR, 30).out().strip());
  }

  @Test
  @Order(2)
  void shouldRunTheDemoFromTheInstalledFiles() throws Exception {
    String version = box.sh("hydranet --version").strip();
    assertTrue(version.startsWith("hydranet "), version);
    assertEquals(
        version, box.sh("java -jar /usr/share/hydranet/lib/hydranet-lab.jar --version").strip());
    // In the container's own network namespace: its namespaces, veths and sysctls stay in there.
    Nspawn.Result demo = box.exec("hydranet demo 2>&1", 600);
    String out = demo.out();
    assertEquals(0, demo.code(), out);
    assertTrue(out.contains("client$ curl http://198.18.2.10/  ->  ORIGIN 198.18.2.10"), out);
    assertTrue(out.contains("->  REPLICA on hs1 198.18.1.20"), out);
    assertTrue(
        out.matches(
            "(?s).*the open connection: \\d+ requests answered by hs1 before"
                + " the kill, \\d+ after, 0 errors.*"),
        out);
    assertTrue(out.contains("== request 4: failed over to the remaining replica"), out);
    assertTrue(out.contains("->  REPLICA on hs2 198.18.3.20"), out);
    assertTrue(out.contains("== cleaning up"), out);
    assertEquals("", box.sh("ip netns list").strip(), "the demo's namespaces are gone");
  }

  @Test
  @Order(3)
  void shouldStartTheRedirectorAsItsUserAndSayItIsReady() throws Exception {
    // Two veth pairs in the container's private network, named in the config and the defaults.
    box.sh(
        "ip link add hn0 type veth peer name hn0p && ip link add hn1 type veth peer name hn1p"
            + " && for i in hn0 hn0p hn1 hn1p; do ip link set $i up; done"
            + " && sed -i -e 's/eth0/hn0/; s/eth1/hn1/' /etc/hydranet/redirector.yaml"
            + " && sed -i -e 's/^HYDRANET_INTERFACES=.*/HYDRANET_INTERFACES=\"hn0 hn1\"/'"
            + " /etc/default/hydranet-redirector");
    Nspawn.Result start = box.exec("systemctl start " + REDIRECTOR, 180);
    assertEquals(0, start.code(), start.out() + box.journal(REDIRECTOR));
    // Type=notify: start returns after READY=1, so it is active and forwarding now.
    assertEquals("active", box.property(REDIRECTOR, "ActiveState"), box.journal(REDIRECTOR));
    assertEquals("forwarding", box.property(REDIRECTOR, "StatusText"));
    String pid = box.property(REDIRECTOR, "MainPID");
    assertEquals("hydranet", box.sh("ps -o user= -p " + pid).strip());
    // The package's defaults bound the heap (/etc/default/hydranet-redirector's JAVA_OPTS).
    String command = box.sh("tr '\\0' ' ' < /proc/" + pid + "/cmdline");
    assertTrue(command.contains("-Xmx512m") && command.contains("-XX:+AlwaysPreTouch"), command);
    // Only the two capabilities it needs, effective.
    String caps = box.sh("grep CapEff /proc/" + pid + "/status").strip();
    assertEquals("CapEff:\t0000000000003000", caps, "CAP_NET_ADMIN (12) and CAP_NET_RAW (13)");
    assertTrue(box.sh("ls /run/hydranet/redirector").contains("ctl"));
    assertTrue(box.journal(REDIRECTOR).contains("msg=forwarding"));
    assertReadsInBatches(REDIRECTOR, pid);
  }

  @Test
  @Order(4)
  void shouldStopCleanlyNotFailed() throws Exception {
    box.sh("systemctl stop " + REDIRECTOR);
    assertEquals("inactive", box.property(REDIRECTOR, "ActiveState"));
    assertEquals("success", box.property(REDIRECTOR, "Result"), box.journal(REDIRECTOR));
    assertTrue(box.journal(REDIRECTOR).contains("stopping: draining the ring"));
    assertFalse(Files.exists(box.root().resolve("run/hydranet/redirector")), "runtime dir kept");
  }

  @Test
  @Order(5)
  void shouldBeRestartedAfterSigkill() throws Exception {
    box.sh("systemctl start " + REDIRECTOR);
    String pid = box.property(REDIRECTOR, "MainPID");
    box.sh("kill -9 " + pid);
    assertEquals("active", awaitRestarted(pid), box.journal(REDIRECTOR));
    assertNotEquals(pid, box.property(REDIRECTOR, "MainPID"));
    assertTrue(box.journal(REDIRECTOR).contains("Scheduled restart job"));
  }

  @Test
  @Order(6)
  void shouldBeRestartedWhenItStopsPettingTheWatchdog() throws Exception {
    // A short watchdog for the test; SIGSTOP freezes the JVM, the pets stop.
    box.sh(
        "mkdir -p /run/systemd/system/"
            + REDIRECTOR
            + ".d && printf '[Service]\\nWatchdogSec=3s\\n'"
            + " > /run/systemd/system/"
            + REDIRECTOR
            + ".d/watchdog.conf && systemctl daemon-reload"
            + " && systemctl restart "
            + REDIRECTOR);
    String pid = box.property(REDIRECTOR, "MainPID");
    Thread.sleep(7_000); // two periods: pets arrive while it runs
    assertEquals(pid, box.property(REDIRECTOR, "MainPID"), "petted, not restarted");
    box.sh("kill -STOP " + pid);
    assertEquals("active", awaitRestarted(pid), box.journal(REDIRECTOR));
    assertTrue(box.journal(REDIRECTOR).contains("Watchdog timeout (limit 3s)"));
    box.sh("rm -r /run/systemd/system/" + REDIRECTOR + ".d && systemctl daemon-reload");
  }

  @Test
  @Order(7)
  void shouldReloadOnSighupWithoutRestarting() throws Exception {
    assertTrue(box.sh("hydranet redirector --help").contains("SIGHUP"), "its help says so");
    String pid = box.property(REDIRECTOR, "MainPID");
    box.sh("systemctl reload " + REDIRECTOR);
    // ExecReload sends SIGHUP; the daemon reads it on its next 200 ms turn and logs it.
    String line = "reloading /etc/hydranet/redirector.yaml (SIGHUP)";
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!box.journal(REDIRECTOR).contains(line) && System.nanoTime() < deadline) {
      Thread.sleep(500);
    }
    assertTrue(box.journal(REDIRECTOR).contains(line), box.journal(REDIRECTOR));
    assertEquals("active", box.property(REDIRECTOR, "ActiveState"));
    assertEquals(pid, box.property(REDIRECTOR, "MainPID"), "reloaded, not restarted");
  }

  @Test
  @Order(8)
  void shouldRefuseToStartTheHostServerWithoutItsPerHostValues() throws Exception {
    Nspawn.Result r = box.exec("systemctl start " + HOSTSERVER, 120);
    assertNotEquals(0, r.code());
    assertTrue(
        box.journal(HOSTSERVER).contains("set HYDRANET_INTERFACE and HYDRANET_ADDRESS"),
        box.journal(HOSTSERVER));
    box.exec("systemctl reset-failed " + HOSTSERVER, 30);
  }

  @Test
  @Order(9)
  void shouldRunTheHostServerAndStopItWithinItsTimeout() throws Exception {
    box.sh(
        "ip addr add 198.18.2.20/24 dev hn1p && sed -i -e"
            + " 's/^HYDRANET_INTERFACE=.*/HYDRANET_INTERFACE=hn1p/;"
            + " s/^HYDRANET_ADDRESS=.*/HYDRANET_ADDRESS=198.18.2.20/'"
            + " /etc/default/hydranet-hostserver");
    Nspawn.Result start = box.exec("systemctl start " + HOSTSERVER, 180);
    assertEquals(0, start.code(), start.out() + box.journal(HOSTSERVER));
    assertEquals("active", box.property(HOSTSERVER, "ActiveState"));
    assertEquals("decapsulating for 198.18.2.20", box.property(HOSTSERVER, "StatusText"));
    String pid = box.property(HOSTSERVER, "MainPID");
    assertEquals("root", box.sh("ps -o user= -p " + pid).strip());
    assertReadsInBatches(HOSTSERVER, pid);
    box.sh("systemctl stop " + HOSTSERVER);
    assertEquals("success", box.property(HOSTSERVER, "Result"), box.journal(HOSTSERVER));
  }

  @Test
  @Order(10)
  void shouldRefuseToStartTheManagerWithoutItsKeyAndNotRetry() throws Exception {
    // The shipped config names /etc/hydranet/keys/origin.key, which no one has made yet.
    Nspawn.Result r = box.exec("systemctl start " + MANAGER, 120);
    assertNotEquals(0, r.code());
    Thread.sleep(5_000); // RestartSec=2s: a retry would have come by now
    assertEquals("failed", box.property(MANAGER, "ActiveState"));
    assertEquals("2", box.property(MANAGER, "ExecMainStatus"));
    assertEquals("0", box.property(MANAGER, "NRestarts"), "exit 2 is not retried");
    String journal = box.journal(MANAGER);
    assertTrue(journal.contains("hydranet: /etc/hydranet/hydraweb-manager.yaml"), journal);
    assertFalse(journal.contains("\tat "), "no stack trace: " + journal);
    box.exec("systemctl reset-failed " + MANAGER, 30);
  }

  @Test
  @Order(11)
  void shouldPurgeWithoutLeavingAnythingBehind() throws Exception {
    box.sh("systemctl enable " + REDIRECTOR);
    box.sh("DEBIAN_FRONTEND=noninteractive apt-get purge -y hydranet hydranet-lab");
    assertEquals(
        "",
        box.exec(
                "dpkg-query -W -f='${Package} ${Status}\\n' hydranet hydranet-lab 2>/dev/null"
                    + " | grep -v not-installed",
                30)
            .out()
            .strip(),
        "both packages purged");
    assertEquals("inactive", box.exec("systemctl is-active " + REDIRECTOR, 30).out().strip());
    assertEquals(2, box.exec("getent passwd hydranet", 30).code(), "the user is gone");
    assertEquals(2, box.exec("getent group hydranet", 30).code(), "the group is gone");
    String left =
        box.exec(
                "ls -d /etc/hydranet /usr/share/hydranet /usr/lib/hydranet /usr/share/doc/hydranet*"
                    + " /usr/bin/hydranet /etc/default/hydranet-* /usr/share/man/man1/hydranet*"
                    + " /lib/systemd/system/hydranet-* /run/hydranet"
                    + " /etc/systemd/system/multi-user.target.wants/hydranet-* 2>/dev/null",
                30)
            .out()
            .strip();
    assertEquals("", left, "left behind after purge");
  }

  /**
   * The unit's captures read a batch per call through the package's shim, not one {@code
   * pcap_next_ex} a frame: PcapShim's line at start names the file it loaded, and that file, not a
   * copy JNA unpacked into the unit's /tmp, is what the process has mapped. Without a shim in the
   * package (built without a C compiler), the line of the fallback and its reason instead.
   */
  private static void assertReadsInBatches(String unit, String pid) throws Exception {
    String journal = box.journal(unit);
    String mapped = box.sh("grep -F hydranet-pcap /proc/" + pid + "/maps || true");
    String why = journal + "\n/proc/" + pid + "/maps:\n" + mapped;
    if (!SHIM_BUILT) {
      assertTrue(journal.contains("pcap batch reads unavailable, one pcap_next_ex per frame"), why);
      return;
    }
    assertTrue(
        journal.contains(
            "pcap batch reads: pcap_dispatch through " + SHIM + ", one call per batch"),
        why);
    assertFalse(journal.contains("pcap batch reads unavailable"), why);
    assertFalse(mapped.isBlank(), why);
    assertTrue(mapped.lines().allMatch(l -> l.endsWith(" " + SHIM)), why);
    // JNA's own stub (libjnidispatch) is the one library it unpacked into the unit's private
    // /tmp, under a name of its own; before the package had the shim, ours was a second one.
    String unpacked =
        box.sh("grep -o '/tmp/jna[0-9]*\\.tmp' /proc/" + pid + "/maps | sort -u || true");
    assertEquals(1, unpacked.lines().count(), why + "\nunpacked into /tmp:\n" + unpacked);
  }

  /** Waits until the unit runs again under a main PID other than {@code old}. */
  private static String awaitRestarted(String old) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      String pid = box.property(REDIRECTOR, "MainPID");
      String state = box.property(REDIRECTOR, "ActiveState");
      if (!pid.equals(old) && !pid.equals("0") && state.equals("active")) {
        return state;
      }
      Thread.sleep(500);
    }
    return box.property(REDIRECTOR, "ActiveState");
  }
}
