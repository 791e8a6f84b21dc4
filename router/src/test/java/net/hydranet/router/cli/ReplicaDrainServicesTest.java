package net.hydranet.router.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import net.hydranet.control.wire.Service;
import net.hydranet.replica.OriginAddress;
import net.hydranet.router.daemon.hostserver.HostServerControl;
import org.junit.jupiter.api.Test;

/**
 * What a host server drains when a replica is removed: its bundle's ports as services of its
 * origin's own family (an IPv6 origin's were drained as IPv4 services before issue 21's item 4).
 */
class ReplicaDrainServicesTest {
  @Test
  void shouldNameABundlesPortsAsServicesOfItsOriginsFamily() {
    assertEquals(
        List.of(
            Service.ipv6(0x2001_0002_0000_0002L, 0x10L, 6, 80),
            Service.ipv6(0x2001_0002_0000_0002L, 0x10L, 17, 53)),
        HostServerControl.services(
            OriginAddress.parse("2001:2:0:2::10"), List.of("tcp/80", "udp/53")));
    assertEquals(
        List.of(Service.ipv4(0xc612_020a, 6, 80)),
        HostServerControl.services(OriginAddress.parse("198.18.2.10"), List.of("tcp/80")));
    assertEquals(
        "[2001:2:0:2::10]:80/tcp",
        HostServerControl.services(OriginAddress.parse("2001:2:0:2::10"), List.of("tcp/80"))
            .get(0)
            .toString());
  }
}
