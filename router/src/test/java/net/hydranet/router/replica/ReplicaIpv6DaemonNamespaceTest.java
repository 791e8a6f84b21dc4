package net.hydranet.router.replica;

import static net.hydranet.router.replica.ReplicaNamespaces.await;
import static net.hydranet.router.replica.ReplicaNamespaces.contains;
import static net.hydranet.router.replica.ReplicaNamespaces.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import net.hydranet.router.cli.HostServerCommand;
import net.hydranet.router.replica.ReplicaNamespaces.Ran;
import net.hydranet.router.replica.ReplicaNamespaces.Stop;
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
 * and 2001:2::/48 inside ({@link ReplicaNamespaces}).
 */
class ReplicaIpv6DaemonNamespaceTest {
  private static final String HS = "198.18.213.1";
  private static final String HS6 = "2001:2:0:d::1";
  private static final String MANAGER6 = "2001:2:0:d::2";
  private static final String PREFIX = "rv6d-";

  @Test
  @Timeout(300)
  void theHostServerDaemonServesReplicasOverIpv6FromReplicasAddress6Alone() throws Exception {
    StringBuilder log = new StringBuilder();
    try (ReplicaNamespaces n = ReplicaNamespaces.create(PREFIX, HS6, MANAGER6)) {
      sh("ip", "-n", n.hostServer, "addr", "add", HS + "/24", "dev", "m0");
      String origin = ReplicaNamespaces.randomAddress("2001:2:0:fd::");
      Path jar = n.signedBundle(origin);
      Path control = n.dir.resolve("control-hostserver.yaml");
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

      List<String> daemon = new ArrayList<>(HostServerCommand.hydranet());
      daemon.addAll(
          List.of(
              "hostserver",
              "--interface",
              "m0",
              "--address",
              HS,
              "--tun",
              "rv6d" + n.tag,
              "--metrics",
              "off",
              "--state-dir",
              n.state.toString(),
              "--control",
              control.toString(),
              "--ctl-socket",
              n.dir.resolve("hs.ctl").toString()));
      Process hs = n.startInHostServer(log, Stop.SIGTERM, daemon);
      await(
          90,
          () ->
              (contains(log, "replica service on") && contains(log, "capturing")) || !hs.isAlive());
      assertTrue(
          contains(log, "replica service on") && contains(log, "capturing"),
          "hydranet hostserver up with its replica service: " + log);
      String listening = n.listening();
      assertTrue(listening.contains("[" + HS6 + "]:6227"), "on replicas.address6: " + listening);
      assertFalse(
          listening.contains(HS + ":6227")
              || listening.contains("0.0.0.0:6227")
              || listening.contains("*:6227")
              || listening.contains("[::]:6227")
              || listening.contains("127.0.0.1:6227"),
          "on nothing else (no IPv4 manager): " + listening);

      String[] manager = n.managerOptions("[" + HS6 + "]:6227");
      Ran installed = n.replica(90, "install", manager, "web6d", jar.toString());
      assertEquals(
          0, installed.code(), "install over IPv6: " + installed.out() + "\nhost server:\n" + log);
      assertTrue(installed.out().matches("(?s)(.*\n)?OK .*"), installed.out());

      String served = n.servedBy(origin, 60);
      assertEquals("hello\n", served, "the replica of " + origin + " serves; host server:\n" + log);

      // The daemon's routing agent announces the replica's IPv6 service (HostServerControl's
      // wiring, which the directly built service of ReplicaIpv6NamespaceTest has not).
      String announce = "announce [" + origin + "]:80/tcp";
      await(30, () -> contains(log, announce));
      assertTrue(contains(log, announce), "announced by the daemon: " + log);

      Ran status = n.replica(60, "status", manager);
      assertEquals(0, status.code(), status.out());
      assertTrue(status.out().matches("(?s)(.*\n)?web6d\\s+running\\s.*"), status.out());
      Ran removed = n.replica(90, "remove", manager, "web6d");
      assertEquals(0, removed.code(), removed.out());
      assertTrue(removed.out().matches("(?s)(.*\n)?OK .*"), removed.out());
      String drained = "draining [" + origin + "]:80/tcp";
      await(10, () -> contains(log, drained));
      assertTrue(contains(log, drained), "drained through the daemon's agent: " + log);
      assertTrue(contains(log, "manager " + MANAGER6 + " connected"), log.toString());
      System.out.println("hydranet hostserver's log:\n" + log);
    }
  }
}
