package net.hydranet.hostserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The directory {@code hydranet vhost} publishes in, read for both families. */
class VirtualHostDirectoryTest {
  @TempDir Path state;

  private final List<String> events = new ArrayList<>();
  private int scans;

  private final VirtualHostDirectory.Listener listener =
      new VirtualHostDirectory.Listener() {
        @Override
        public void virtualHostAdded(int origin) {
          events.add("+ " + Ipv4Header.formatAddress(origin));
        }

        @Override
        public void virtualHostRemoved(int origin) {
          events.add("- " + Ipv4Header.formatAddress(origin));
        }

        @Override
        public void portBound(int origin, String protocol, int port) {
          events.add("bound " + Ipv4Header.formatAddress(origin) + " " + protocol + " " + port);
        }

        @Override
        public void portClosed(int origin, String protocol, int port) {
          events.add("closed " + Ipv4Header.formatAddress(origin) + " " + protocol + " " + port);
        }

        @Override
        public void virtualHost6Added(long high, long low) {
          events.add("+ " + Ipv6Header.formatAddress(high, low));
        }

        @Override
        public void virtualHost6Removed(long high, long low) {
          events.add("- " + Ipv6Header.formatAddress(high, low));
        }

        @Override
        public void port6Bound(long high, long low, String protocol, int port) {
          events.add("bound " + Ipv6Header.formatAddress(high, low) + " " + protocol + " " + port);
        }

        @Override
        public void port6Closed(long high, long low, String protocol, int port) {
          events.add("closed " + Ipv6Header.formatAddress(high, low) + " " + protocol + " " + port);
        }

        @Override
        public void virtualHostProcess(int origin, long pid) {
          events.add("pid " + Ipv4Header.formatAddress(origin) + " " + pid);
        }

        @Override
        public void scanned() {
          scans++;
        }
      };

  /**
   * The vhost process a file names is reported before the virtual host and its ports, and again
   * when another names it with the same ports (a virtual host replaced between two scans); every
   * scan ends with {@code scanned}, changes or not.
   */
  @Test
  void shouldReportTheVhostProcessFirstAndWhenAnotherReplacesIt() throws Exception {
    VirtualHostDirectory d = new VirtualHostDirectory(state);
    Files.createDirectories(d.directory());
    Path f = VirtualHostDirectory.file(state, Ipv4Header.parseAddress("198.18.2.10"));
    Files.writeString(f, "pid 4242\ntcp 80\n");
    d.scan(listener);
    assertEquals(
        List.of("pid 198.18.2.10 4242", "+ 198.18.2.10", "bound 198.18.2.10 tcp 80"), events);
    events.clear();
    d.scan(listener);
    assertEquals(List.of(), events, "nothing changed");
    Files.writeString(f, "pid 4343\ntcp 80\n");
    d.scan(listener);
    assertEquals(List.of("pid 198.18.2.10 4343"), events, "the same ports, another process");
    events.clear();
    Files.writeString(f, "tcp 80\n");
    d.scan(listener);
    assertEquals(List.of(), events, "a file naming no process (an older vhost) is no change");
    assertEquals(4, scans);
  }

  @Test
  void shouldReportIpv6VirtualHostsAndTheirPortsBesideIpv4Ones() throws Exception {
    VirtualHostDirectory d = new VirtualHostDirectory(state);
    Files.createDirectories(d.directory());
    long[] o = Ipv6Header.parseAddress("2001:2::10");
    Path v6 = VirtualHostDirectory.file6(state, o[0], o[1]);
    assertEquals("2001:2::10.vhost", v6.getFileName().toString());
    Files.writeString(v6, "tcp 80\nudp 53\n");
    Files.writeString(
        VirtualHostDirectory.file(state, Ipv4Header.parseAddress("198.18.2.10")), "tcp 80\n");
    Files.writeString(d.directory().resolve("2001:zz::1.vhost"), "tcp 80\n"); // not an address
    d.scan(listener);
    assertEquals(
        List.of(
            "+ 198.18.2.10",
            "+ 2001:2::10",
            "bound 198.18.2.10 tcp 80",
            "bound 2001:2::10 tcp 80",
            "bound 2001:2::10 udp 53"),
        events.stream().sorted().toList());
    events.clear();
    Files.writeString(v6, "udp 53\n");
    d.scan(listener);
    assertEquals(List.of("closed 2001:2::10 tcp 80"), events);
    events.clear();
    Files.delete(v6);
    d.scan(listener);
    assertEquals(List.of("closed 2001:2::10 udp 53", "- 2001:2::10"), events);
  }

  @Test
  void shouldNameIpv6LinksWithinFifteenCharactersAndNamespacesPerProcess() {
    long[] a = Ipv6Header.parseAddress("2001:2::10");
    long[] b = Ipv6Header.parseAddress("2001:3::10");
    String la = VirtualHostDirectory.hostLink6(a[0], a[1]);
    assertTrue(la.length() <= 15 && la.startsWith("hv6"), la);
    assertTrue(!la.equals(VirtualHostDirectory.hostLink6(b[0], b[1])), "same low bits, apart");
    assertEquals(
        "hydranet-vh6-20010002000000000000000000000010-42",
        VirtualHostDirectory.namespace6(a[0], a[1], 42));
  }
}
