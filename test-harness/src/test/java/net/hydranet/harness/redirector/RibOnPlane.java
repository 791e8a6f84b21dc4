package net.hydranet.harness.redirector;

import java.util.ArrayList;
import java.util.List;
import net.hydranet.control.rib.Rib;
import net.hydranet.control.rib.TableWriter;
import net.hydranet.control.wire.Service;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.router.config.RedirectorConfig;

/**
 * A redirector of a config under test with a control plane's RIB writing straight into its real
 * forwarding plane, IPv4 and IPv6 services alike, as the redirector's {@code --control} wiring does
 * through the plane's command queue (the test's thread is the forwarding thread here: it drains the
 * commands with each frame it sends). Each IPv6 write is also listed in {@link #writes}, as "put
 * SERVICE" or "remove SERVICE".
 */
final class RibOnPlane {
  private static final long SECOND = 1_000_000_000L;

  final RedirectorUnderTest redirector;
  final ForwardingPlane plane;
  final List<String> writes = new ArrayList<>();

  /** Routes time out after 15 s, damping halves in 30 s, a load band of 20. */
  final Rib rib;

  RibOnPlane(RedirectorConfig config) {
    redirector = new RedirectorUnderTest(config);
    plane = redirector.plane();
    rib = new Rib(new Rib.Settings(15 * SECOND, 30 * SECOND, 20), writer());
  }

  private TableWriter writer() {
    return new TableWriter() {
      @Override
      public void put(int origin, int protocol, int port, int[] hs, int[] weights) {
        plane.addRedirect(origin, protocol, port, hs, weights);
      }

      @Override
      public void remove(int origin, int protocol, int port) {
        plane.removeRedirect(origin, protocol, port);
      }

      @Override
      public void putIpv6(long high, long low, int protocol, int port, int[] hs, int[] weights) {
        writes.add("put " + Service.ipv6(high, low, protocol, port));
        plane.addRedirect6(high, low, protocol, port, hs, weights);
      }

      @Override
      public void removeIpv6(long high, long low, int protocol, int port) {
        writes.add("remove " + Service.ipv6(high, low, protocol, port));
        plane.removeRedirect6(high, low, protocol, port);
      }
    };
  }
}
