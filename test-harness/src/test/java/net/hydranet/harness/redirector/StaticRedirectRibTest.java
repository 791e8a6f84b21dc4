package net.hydranet.harness.redirector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.List;
import net.hydranet.control.rib.Rib;
import net.hydranet.control.rib.Rib.Candidate;
import net.hydranet.control.wire.Addresses;
import net.hydranet.control.wire.Entry;
import net.hydranet.control.wire.Service;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.harness.fixture.CapturingTxPort;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.harness.packet.PacketBuilder;
import net.hydranet.router.config.RedirectorConfig;
import net.hydranet.router.daemon.redirector.StaticRedirects;
import net.hydranet.router.metrics.PlaneSnapshot;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * Static redirects of both families through the RIB, as the redirector wires them with {@code
 * --control} ({@link StaticRedirects}, the RIB's writes into the real forwarding plane of
 * config/replay-sample.yaml): the IPv6 static [2001:2:0:2::10]:80/tcp → 2001:2:0:3::2 behaves as
 * the IPv4 static 198.18.2.10:80/tcp → 198.18.3.2 (RibTest's "static overrides what is learned"),
 * step for step, while a host server 198.18.3.3 announces both services. Before, the IPv6 static
 * went straight to the plane beside the RIB: the learned entry replaced it, its withdrawal left the
 * service to the origin, and {@code ctl table} did not list it.
 */
class StaticRedirectRibTest {
  private static final long SECOND = 1_000_000_000L;
  private static final int LEARNED = Addresses.parse("198.18.3.3");
  private static final long[] ORIGIN6 = Addresses.parseIpv6("2001:2:0:2::10");
  private static final Service WEB6 = Service.ipv6(ORIGIN6[0], ORIGIN6[1], 6, 80);
  private static final Service WEB4 = Service.ipv4(Addresses.parse("198.18.2.10"), 6, 80);
  private static final int HS0 = 2;

  private final RedirectorConfig config = RedirectorUnderTest.sampleConfig();
  private final RibOnPlane control = new RibOnPlane(config);
  private final RedirectorUnderTest redirector = control.redirector;
  private final ForwardingPlane plane = control.plane;
  private final Rib rib = control.rib;
  private final long now = 1000 * SECOND;

  @Test
  void shouldLetAStaticIpv6ServiceOverrideWhatIsLearnedAsAnIpv4OneDoes() {
    int static6 = plane.ipv6HostServer(addr6("2001:2:0:3::2")[0], addr6("2001:2:0:3::2")[1]);
    rib.setStatic(StaticRedirects.of(config, plane));
    announce(WEB4, WEB6);
    rib.commit(now);

    // The static wins over the learned entry, and the operator's table says so.
    assertEquals("198.18.3.2 w1", installed(WEB4));
    assertEquals("2001:2:0:3::2 w1", installed(WEB6));
    assertEquals(
        List.of(new Candidate(Addresses.parse("198.18.3.2"), 0, -1, 1, 0, true)),
        rib.view().get(WEB4));
    assertEquals(
        List.of(new Candidate(static6, 0, -1, 1, 0, true, "2001:2:0:3::2")), rib.view().get(WEB6));
    assertIpv6InIpv6ToTheStaticHostServer();

    // The learned entry withdrawn: the statics stay.
    announce();
    rib.commit(now);
    assertEquals("198.18.3.2 w1", installed(WEB4));
    assertEquals("2001:2:0:3::2 w1", installed(WEB6));
    assertIpv6InIpv6ToTheStaticHostServer();

    // The statics gone from the config (RibTest's second half): what is learned comes back.
    rib.setStatic(List.of());
    announce(WEB4, WEB6);
    rib.commit(now);
    assertEquals("198.18.3.3 w100", installed(WEB4));
    assertEquals("198.18.3.3 w100", installed(WEB6));
    assertEquals(
        List.of(new Candidate(LEARNED, 1, 0, 100, 0, true, "198.18.3.3")), rib.view().get(WEB6));

    // And withdrawn then, the services go back to their origins: nothing static is left behind.
    announce();
    rib.commit(now);
    assertNull(installed(WEB4));
    assertNull(installed(WEB6));
  }

  private void announce(Service... services) {
    rib.hostServerHeard(LEARNED, 1, 3000, now);
    List<Entry> set = new ArrayList<>();
    for (Service s : services) {
      set.add(new Entry(s, LEARNED, 100, 0, 0));
    }
    rib.hostServerAnnounce(LEARNED, set);
  }

  /** The forwarding plane's entry for a service: "HOST wWEIGHT, …", or null for none. */
  private String installed(Service service) {
    for (PlaneSnapshot.Service s : PlaneSnapshot.read(plane, false).services()) {
      if (s.key().equals(service)) {
        StringBuilder sb = new StringBuilder();
        for (PlaneSnapshot.Target t : s.targets()) {
          sb.append(sb.length() == 0 ? "" : ", ")
              .append(t.address())
              .append(" w")
              .append(t.weight());
        }
        return sb.toString();
      }
    }
    return null;
  }

  /** A client's packet to the IPv6 service leaves in IPv6-in-IPv6 to 2001:2:0:3::2. */
  private void assertIpv6InIpv6ToTheStaticHostServer() {
    List<CapturingTxPort.Sent> sent =
        redirector.receive(
            0,
            PacketBuilder.ethernet(0x0200_0000_010aL, 0x0200_0000_0101L)
                .ipv6("2001:2:0:1::10", "2001:2:0:2::10")
                .hopLimit(64)
                .tcp(40_000, 80)
                .flags(0x02)
                .build());
    assertEquals(1, sent.size(), sent.toString());
    assertEquals(HS0, sent.get(0).iface(), "to the host server's link");
    UnsafeBuffer o = new UnsafeBuffer(sent.get(0).frame());
    assertEquals(EthernetHeader.TYPE_IPV6, EthernetHeader.type(o, 0));
    assertEquals(41, Ipv6Header.nextHeader(o, 14), "IPv6-in-IPv6");
    long[] hs = addr6("2001:2:0:3::2");
    assertEquals(hs[0], Ipv6Header.destinationHigh(o, 14));
    assertEquals(hs[1], Ipv6Header.destinationLow(o, 14));
  }

  private static long[] addr6(String text) {
    return Addresses.parseIpv6(text);
  }
}
