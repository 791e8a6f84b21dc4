package net.hydranet.router.replica;

import static net.hydranet.router.replica.ReplicaIpv6NamespaceTest.concat;
import static net.hydranet.router.replica.ReplicaIpv6NamespaceTest.contains;
import static net.hydranet.router.replica.ReplicaIpv6NamespaceTest.copy;
import static net.hydranet.router.replica.ReplicaIpv6NamespaceTest.hydranet;
import static net.hydranet.router.replica.ReplicaIpv6NamespaceTest.jar;
import static net.hydranet.router.replica.ReplicaIpv6NamespaceTest.key;
import static net.hydranet.router.replica.ReplicaIpv6NamespaceTest.run;
import static net.hydranet.router.replica.ReplicaIpv6NamespaceTest.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import net.hydranet.control.auth.Keys;
import net.hydranet.router.cli.HostServerCommand;
import net.hydranet.router.cli.HydraNetCommand;
import net.hydranet.router.replica.ReplicaIpv6NamespaceTest.Ran;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link ReplicaIpv6NamespaceTest} through the real daemon: {@code hydranet hostserver} with a
 * {@code --control} file whose {@code replicas:} section has {@code address6} and an IPv6 manager
 * only, so {@code HostServerControl} (not the test) builds the replica service. It must listen on
 * {@code [2001:2:0:d::1]:6227} alone (not on the IPv4 control address, which no manager uses, nor
 * on a wildcard); {@code hydranet replica install --address6} from the manager's namespace installs
 * a signed bundle of an IPv6 origin, which then answers on the origin's address; {@code status}
 * sees it running and {@code remove} takes it away; the daemon's routing agent announces the
 * replica's IPv6 service and drains it on removal. Namespaces {@code rv6d-*}, only 198.18.0.0/15
 * and 2001:2::/48 inside.
 */
class ReplicaIpv6DaemonNamespaceTest {
  private static final String HS = "198.18.213.1";
  private static final String HS6 = "2001:2:0:d::1";
  private static final String MANAGER6 = "2001:2:0:d::2";
  private static final String PREFIX = "rv6d-";

  @Test
  @Timeout(300)
  void theHostServerDaemonServesReplicasOverIpv6FromReplicasAddress6Alone() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
    assumeTrue(Files.exists(Path.of("/proc/sys/net/ipv6")), "IPv6 in this kernel");
    assumeTrue(run(10, "ip", "-V").code() == 0, "iproute2 installed");
    assumeTrue(run(10, "ss", "-V").code() == 0, "ss (iproute2) installed");
    removeStale();
    String tag = Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36), 36);
    String hsNs = PREFIX + "hs-" + tag;
    String mNs = PREFIX + "m-" + tag;
    String origin =
        "2001:2:0:fd::" + Integer.toHexString(ThreadLocalRandom.current().nextInt(2, 0xfff0));
    Path dir = Files.createTempDirectory(PREFIX);
    Path state = Files.createTempDirectory(Path.of("/run"), PREFIX);
    Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwx--x--x"));
    Process hs = null;
    StringBuilder log = new StringBuilder();
    try {
      for (String ns : List.of(hsNs, mNs)) {
        sh("ip", "netns", "add", ns);
        sh("ip", "-n", ns, "link", "set", "lo", "up");
      }
      sh("ip", "-n", hsNs, "link", "add", "m0", "type", "veth", "peer", "name", "h0", "netns", mNs);
      sh("ip", "-n", hsNs, "addr", "add", HS + "/24", "dev", "m0");
      sh("ip", "-n", hsNs, "-6", "addr", "add", HS6 + "/64", "dev", "m0", "nodad");
      sh("ip", "-n", mNs, "-6", "addr", "add", MANAGER6 + "/64", "dev", "h0", "nodad");
      sh("ip", "-n", hsNs, "link", "set", "m0", "up");
      sh("ip", "-n", mNs, "link", "set", "h0", "up");
      Keys.write(Keys.generate(), dir.resolve("hs"));
      Keys.write(Keys.generate(), dir.resolve("origin"));
      Path jar = dir.resolve("replica.jar");
      Files.write(jar, jar(origin));
      int signed =
          HydraNetCommand.execute(
              "bundle", "sign", "--key", key("origin.key", dir), jar.toString());
      assertEquals(0, signed, "hydranet bundle sign");
      Path control = dir.resolve("control-hostserver.yaml");
      Files.writeString(
          control,
          String.join(
              "\n",
              "address: " + HS,
              "key: hs.key",
              "drainSeconds: 0",
              "replicas:",
              "  address6: \"" + HS6 + "\"",
              "  firstUid: 64200",
              "  cgroupParent: rv6d",
              "  origins:",
              "    - manager: \"" + MANAGER6 + "\"",
              "      key: origin.pub",
              "      addresses: [\"2001:2:0:fd::/64\"]",
              "      memory: 256m",
              "      cpus: 1",
              "      pids: 128",
              "      files: 1024",
              "      maxReplicas: 1",
              ""));

      List<String> daemon = new ArrayList<>(List.of("ip", "netns", "exec", hsNs));
      daemon.addAll(HostServerCommand.hydranet());
      daemon.addAll(
          List.of(
              "hostserver",
              "--interface",
              "m0",
              "--address",
              HS,
              "--tun",
              "rv6d" + tag,
              "--metrics",
              "off",
              "--state-dir",
              state.toString(),
              "--control",
              control.toString(),
              "--ctl-socket",
              dir.resolve("hs.ctl").toString()));
      hs = new ProcessBuilder(daemon).redirectErrorStream(true).start();
      copy(hs.getInputStream(), log);
      long up = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (!(contains(log, "replica service on") && contains(log, "capturing"))
          && hs.isAlive()
          && System.nanoTime() < up) {
        Thread.sleep(100);
      }
      assertTrue(
          contains(log, "replica service on") && contains(log, "capturing"),
          "hydranet hostserver up with its replica service: " + log);
      String listening = sh("ip", "netns", "exec", hsNs, "ss", "-Htln");
      assertTrue(listening.contains("[" + HS6 + "]:6227"), "on replicas.address6: " + listening);
      assertFalse(
          listening.contains(HS + ":6227")
              || listening.contains("0.0.0.0:6227")
              || listening.contains("*:6227")
              || listening.contains("[::]:6227")
              || listening.contains("127.0.0.1:6227"),
          "on nothing else (no IPv4 manager): " + listening);

      String[] manager = {
        "--host-server",
        "[" + HS6 + "]:6227",
        "--host-server-key",
        key("hs.pub", dir),
        "--key",
        key("origin.key", dir),
        "--address6",
        MANAGER6
      };
      Ran installed =
          hydranet(
              mNs,
              90,
              concat(new String[] {"replica", "install"}, manager, "web6d", jar.toString()));
      assertEquals(
          0, installed.code(), "install over IPv6: " + installed.out() + "\nhost server:\n" + log);
      assertTrue(installed.out().matches("(?s)(.*\n)?OK .*"), installed.out());

      String served = "";
      long serving = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!served.contains("hello") && System.nanoTime() < serving) {
        Ran r =
            run(
                10,
                "ip",
                "netns",
                "exec",
                hsNs,
                "timeout",
                "5",
                "bash",
                "-c",
                "exec 3<>/dev/tcp/" + origin + "/80 && head -c 6 <&3");
        served = r.out();
        if (!served.contains("hello")) {
          Thread.sleep(300);
        }
      }
      assertEquals("hello\n", served, "the replica of " + origin + " serves; host server:\n" + log);

      // The daemon's routing agent announces the replica's IPv6 service (HostServerControl's
      // wiring, which the directly built service of ReplicaIpv6NamespaceTest has not).
      String announce = "announce [" + origin + "]:80/tcp";
      awaitLog(log, announce, 30);
      assertTrue(contains(log, announce), "announced by the daemon: " + log);

      Ran status = hydranet(mNs, 60, concat(new String[] {"replica", "status"}, manager));
      assertEquals(0, status.code(), status.out());
      assertTrue(status.out().matches("(?s)(.*\n)?web6d\\s+running\\s.*"), status.out());
      Ran removed = hydranet(mNs, 90, concat(new String[] {"replica", "remove"}, manager, "web6d"));
      assertEquals(0, removed.code(), removed.out());
      assertTrue(removed.out().matches("(?s)(.*\n)?OK .*"), removed.out());
      String drained = "draining [" + origin + "]:80/tcp";
      awaitLog(log, drained, 10);
      assertTrue(contains(log, drained), "drained through the daemon's agent: " + log);
      assertTrue(contains(log, "manager " + MANAGER6 + " connected"), log.toString());
      System.out.println("hydranet hostserver's log:\n" + log);
    } finally {
      if (hs != null) {
        hs.destroy(); // SIGTERM: the daemon removes its replicas and leaves
        if (!hs.waitFor(30, TimeUnit.SECONDS)) {
          hs.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      }
      run(10, "ip", "netns", "del", hsNs);
      run(10, "ip", "netns", "del", mNs);
      run(30, "rm", "-rf", state.toString(), dir.toString());
    }
  }

  private static void awaitLog(StringBuilder log, String what, int seconds)
      throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!contains(log, what) && System.nanoTime() < end) {
      Thread.sleep(100);
    }
  }

  /** Namespaces an earlier run of this test left. */
  private static void removeStale() throws Exception {
    for (String line : run(10, "ip", "netns", "list").out().split("\n")) {
      String name = line.trim().split("\\s+")[0];
      if (name.startsWith(PREFIX)) {
        run(10, "ip", "netns", "del", name);
      }
    }
  }
}
