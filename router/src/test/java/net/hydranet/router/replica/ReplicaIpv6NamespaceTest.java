package net.hydranet.router.replica;

import static net.hydranet.router.replica.ReplicaNamespaces.await;
import static net.hydranet.router.replica.ReplicaNamespaces.contains;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import net.hydranet.router.cli.HostServerCommand;
import net.hydranet.router.replica.ReplicaNamespaces.Ran;
import net.hydranet.router.replica.ReplicaNamespaces.Stop;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The replica management protocol over IPv6 end to end, in two network namespaces made here (only
 * 2001:2::/48 inside): an IPv6-only host server (its replica service on {@code 2001:2:0:9::1}
 * alone, {@link Ipv6ReplicaHost}) and an origin's manager on {@code 2001:2:0:9::2} across a veth.
 * The operator's {@code hydranet replica install --address6} installs a signed bundle of an IPv6
 * origin over HELLO version 2; the host server runs it confined in the origin's virtual host, which
 * then answers on the origin's address; {@code status} sees it running and {@code remove} takes it
 * away. Nothing listens on IPv4, nor on a wildcard. Namespaces {@code replv6-*} ({@link
 * ReplicaNamespaces}).
 */
class ReplicaIpv6NamespaceTest {
  private static final String HS6 = "2001:2:0:9::1";
  private static final String MANAGER6 = "2001:2:0:9::2";
  private static final String PREFIX = "replv6-";

  @Test
  @Timeout(240)
  void aManagerInstallsASignedReplicaOntoAnIpv6OnlyHostServerOverIpv6() throws Exception {
    StringBuilder log = new StringBuilder();
    try (ReplicaNamespaces n = ReplicaNamespaces.create(PREFIX, HS6, MANAGER6)) {
      String origin = ReplicaNamespaces.randomAddress("2001:2:0:fa::");
      Path jar = n.signedBundle(origin);

      List<String> host = new ArrayList<>(java());
      host.addAll(
          List.of(
              Ipv6ReplicaHost.class.getName(),
              n.state.toString(),
              n.key("hs.key"),
              n.key("origin.pub"),
              HS6,
              MANAGER6,
              "2001:2:0:fa::/64",
              "replv6",
              "64000"));
      Process hs = n.startInHostServer(log, Stop.CLOSE_INPUT, host);
      await(60, () -> contains(log, "listening on port 6227") || !hs.isAlive());
      assertTrue(
          contains(log, "listening on port 6227"), "the host server's replica service: " + log);
      String listening = n.listening();
      assertTrue(listening.contains("[" + HS6 + "]:6227"), "on its IPv6 address: " + listening);
      assertFalse(
          listening.contains("0.0.0.0:6227")
              || listening.contains("*:6227")
              || listening.contains("[::]:6227")
              || listening.contains("127.0.0.1:6227"),
          "on nothing else: " + listening);

      String[] manager = n.managerOptions(HS6); // bare IPv6: port 6227
      Ran installed = n.replica(90, "install", manager, "web6", jar.toString());
      assertEquals(
          0, installed.code(), "install over IPv6: " + installed.out() + "\nhost server:\n" + log);
      assertTrue(installed.out().matches("(?s)(.*\n)?OK .*"), installed.out());

      // The replica answers on the origin's address, inside its virtual host, from the host
      // server's namespace (which routes the origin's /128 into it).
      String served = n.servedBy(origin, 60);
      assertEquals("hello\n", served, "the replica of " + origin + " serves; host server:\n" + log);

      Ran status = n.replica(60, "status", manager);
      assertEquals(0, status.code(), status.out());
      assertTrue(status.out().matches("(?s)(.*\n)?web6\\s+running\\s.*"), status.out());
      Ran removed = n.replica(90, "remove", manager, "web6");
      assertEquals(0, removed.code(), removed.out());
      assertTrue(removed.out().matches("(?s)(.*\n)?OK .*"), removed.out());
      assertTrue(contains(log, "manager " + MANAGER6 + " connected"), log.toString());
      System.out.println("host server's log:\n" + log);
    }
  }

  /** java, its log options, -cp CLASSPATH: all of {@code hydranet} but the main class. */
  private static List<String> java() {
    List<String> hydranet = HostServerCommand.hydranet();
    return new ArrayList<>(hydranet.subList(0, hydranet.size() - 1));
  }
}
