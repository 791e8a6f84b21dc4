package net.hydranet.router.replica;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import net.hydranet.control.auth.Keys;
import net.hydranet.hostserver.replica.Launcher;
import net.hydranet.hostserver.replica.Origin;
import net.hydranet.hostserver.replica.ReplicaService;
import net.hydranet.replica.OriginAddress;
import net.hydranet.replica.Resources;
import net.hydranet.router.cli.HostServerCommand;

/**
 * {@link ReplicaIpv6NamespaceTest}'s host server, run in its namespace: the replica service of an
 * IPv6-only host server, as {@code HostServerControl} builds it from {@code replicas.address6} and
 * an IPv6 manager, launching replicas in virtual hosts with this same {@code hydranet}. Prints
 * "listening" once bound; removes its replicas and ends when its standard input closes.
 *
 * <p>Arguments: state directory, host server key, origin's public key, the service's IPv6 address,
 * the manager's IPv6 address, the origin's prefix, the cgroup parent, the first uid.
 */
public final class Ipv6ReplicaHost {
  private Ipv6ReplicaHost() {}

  public static void main(String[] a) throws Exception {
    Path state = Path.of(a[0]);
    ReplicaService service =
        new ReplicaService(
                new ReplicaService.Context()
                    .address6(InetAddress.getByName(a[3]))
                    .key(Keys.readPrivate(Path.of(a[1])))
                    .stateDir(state)
                    .cgroupParent(a[6])
                    .firstUid(Integer.parseInt(a[7]))
                    .killWaitMillis(3000)
                    .origins(
                        List.of(
                            new Origin(
                                InetAddress.getByName(a[4]),
                                Keys.readPublic(a[2]),
                                List.of(OriginAddress.Prefix.parse(a[5])),
                                new Resources(256L << 20, 1000, 128, 1024),
                                1)))
                    .launcher(Launcher.vhost(HostServerCommand.hydranet(), state)))
            .start();
    System.out.println("listening on port " + service.port());
    System.out.flush();
    try {
      while (System.in.read() >= 0) {
        // until the test closes our input
      }
    } finally {
      service.removeAll();
      service.close();
      System.out.println("stopped");
    }
  }
}
