package net.hydranet.harness.live;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Duration;
import net.hydranet.control.auth.Keys;
import net.hydranet.control.wire.Addresses;
import net.hydranet.replica.ReplicaClient;

/**
 * Run inside the origin's namespace by {@link HostileIT}: the origin's manager's part of the
 * replica management protocol, tried {@code attempts} times, each a new connection from the
 * manager's address, a HELLO and a STATUS answered within 5 s. Prints one line per attempt and
 * "admitted K/N" last.
 *
 * <p>Arguments: host server address, port, manager address, origin key, host server public key,
 * attempts, pause between attempts in ms.
 */
public final class ManagerProbe {
  private ManagerProbe() {}

  public static void main(String[] args) throws Exception {
    InetSocketAddress hs = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
    int self = Addresses.parse(args[2]);
    PrivateKey key = Keys.readPrivate(Path.of(args[3]));
    PublicKey hsKey = Keys.readPublic(args[4]);
    int attempts = Integer.parseInt(args[5]);
    long pause = Long.parseLong(args[6]);
    int admitted = 0;
    for (int i = 0; i < attempts; i++) {
      long t = System.nanoTime();
      try (ReplicaClient c =
          ReplicaClient.connect(hs, self, key, hsKey, (r, p) -> {}, (r, s, x) -> {})) {
        c.status("", Duration.ofSeconds(5));
        admitted++;
        System.out.printf(
            "attempt %d: admitted in %d ms%n", i + 1, (System.nanoTime() - t) / 1_000_000);
      } catch (Exception e) {
        System.out.printf(
            "attempt %d: refused after %d ms: %s%n", i + 1, (System.nanoTime() - t) / 1_000_000, e);
      }
      Thread.sleep(pause);
    }
    System.out.println("admitted " + admitted + "/" + attempts);
  }
}
