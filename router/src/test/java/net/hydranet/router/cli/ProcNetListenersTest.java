package net.hydranet.router.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ProcNetListeners} against /proc lines written as the kernel writes them (copied from this
 * machine's /proc/net/tcp6 and tcp, addresses changed), one malformed line beside them, and a real
 * socket of this JVM.
 */
class ProcNetListenersTest {
  /** 198.18.2.10, the origin, as /proc prints it: the little-endian int of its bytes. */
  private static final int ORIGIN = 0xc612020a;

  private static final String HEADER =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout"
          + " inode\n";

  @TempDir Path dir;

  private Set<String> scan(String name, String protocol, boolean v6, boolean listen, String body)
      throws Exception {
    Path f = dir.resolve(name);
    Files.writeString(f, HEADER + body);
    Set<String> out = new TreeSet<>();
    new ProcNetListeners().scan(f, protocol, v6, listen, ORIGIN, out);
    return out;
  }

  private static String line6(String local, String st) {
    return "   0: "
        + local
        + " 00000000000000000000000000000000:0000 "
        + st
        + " 00000000:00000000 00:00000000 00000000     0        0 123 1 0000000000000000 100 0 0"
        + " 10 0\n";
  }

  private static String line4(String local, String st) {
    return "   0: "
        + local
        + " 00000000:0000 "
        + st
        + " 00000000:00000000 00:00000000 00000000     0        0 123 1 0000000000000000\n";
  }

  @Test
  void shouldAnnounceADualStackListenerOnTheWildcard() throws Exception {
    assertEquals(
        Set.of("tcp 80"),
        scan("tcp6", "tcp", true, true, line6("00000000000000000000000000000000:0050", "0A")));
  }

  @Test
  void shouldAnnounceAnIpv4MappedListenerOnTheOriginOnly() throws Exception {
    String origin = line6("0000000000000000FFFF00000A0212C6:1F90", "0A");
    String other = line6("0000000000000000FFFF00000B0212C6:0051", "0A");
    assertEquals(Set.of("tcp 8080"), scan("tcp6", "tcp", true, true, origin + other));
  }

  @Test
  void shouldIgnoreRealIpv6AddressesAndTcpNotListening() throws Exception {
    String v6 = line6("B80D0120000000000000000001000000:0050", "0A");
    String timeWait = line6("0000000000000000FFFF00000A0212C6:0050", "06");
    String malformed = "   0: 0000000000000000FFFF00000A02:0050 0000:0000 0A\n   1: zz\n\n";
    assertEquals(Set.of(), scan("tcp6", "tcp", true, true, v6 + timeWait + malformed));
  }

  /** 2001:2::10 as /proc prints it: each 4-byte word as its little-endian int. */
  private static final String ORIGIN6_PROC = "02000120000000000000000010000000";

  private Set<String> scan6(String name, String protocol, boolean listen, String body)
      throws Exception {
    Path f = dir.resolve(name);
    Files.writeString(f, HEADER + body);
    Set<String> out = new TreeSet<>();
    long[] o = net.hydranet.forwarding.wire.Ipv6Header.parseAddress("2001:2::10");
    new ProcNetListeners().scan6(f, protocol, listen, o[0], o[1], out);
    return out;
  }

  @Test
  void shouldAnnounceAnIpv6OriginsListenersOnItsAddressAndTheWildcard() throws Exception {
    String origin = line6(ORIGIN6_PROC + ":0050", "0A");
    String wildcard = line6("00000000000000000000000000000000:01BB", "0A");
    String other = line6("02000120000000000000000011000000:0051", "0A"); // 2001:2::11
    String mapped = line6("0000000000000000FFFF00000A0212C6:0052", "0A"); // IPv4 198.18.2.10
    String timeWait = line6(ORIGIN6_PROC + ":0053", "06");
    String malformed = "   0: 0200012000:0050 0000:0000 0A\n   1: zz\n\n";
    assertEquals(
        Set.of("tcp 80", "tcp 443"),
        scan6("tcp6", "tcp", true, origin + wildcard + other + mapped + timeWait + malformed));
    assertEquals(
        Set.of("udp 53"), scan6("udp6", "udp", false, line6(ORIGIN6_PROC + ":0035", "07")));
  }

  @Test
  void shouldAnnounceUdpBoundOnEitherFamily() throws Exception {
    assertEquals(
        Set.of("udp 53"),
        scan("udp6", "udp", true, false, line6("00000000000000000000000000000000:0035", "07")));
    assertEquals(
        Set.of("udp 53", "udp 54"),
        scan(
            "udp",
            "udp",
            false,
            false,
            line4("0A0212C6:0035", "07")
                + line4("00000000:0036", "07")
                + line4("0B0212C6:0037", "07")));
  }

  @Test
  void shouldSeeThisJvmsOwnDualStackListener() throws Exception {
    // Java binds ServerSocket to "::" (dual stack) by default: the case the old scanner missed.
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress((InetAddress) null, 0));
      TreeSet<String> ports = VhostCommand.listening(ProcessHandle.current().pid(), ORIGIN);
      assertTrue(ports.contains("tcp " + s.getLocalPort()), ports + " lacks " + s.getLocalPort());
    }
  }

  /**
   * 50,000 sockets in TIME_WAIT (what a flood of short requests leaves): a scan allocates next to
   * nothing however long the file, where the old one read it all into strings.
   */
  @Test
  void shouldScanFiftyThousandSocketsWithoutAllocatingPerLine() throws Exception {
    StringBuilder body = new StringBuilder();
    for (int i = 0; i < 50_000; i++) {
      body.append(line6(String.format("0000000000000000FFFF00000A0212C6:%04X", 1024 + i), "06"));
    }
    body.append(line6("0000000000000000FFFF00000A0212C6:0050", "0A"));
    Path f = dir.resolve("tcp6");
    Files.writeString(f, HEADER + body);
    ProcNetListeners scanner = new ProcNetListeners();
    Set<String> out = new TreeSet<>();
    scanner.scan(f, "tcp", true, true, ORIGIN, out); // warm up
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long tid = Thread.currentThread().getId();
    long before = threads.getThreadAllocatedBytes(tid);
    for (int i = 0; i < 10; i++) {
      out.clear();
      scanner.scan(f, "tcp", true, true, ORIGIN, out);
    }
    long perScan = (threads.getThreadAllocatedBytes(tid) - before) / 10;
    assertEquals(Set.of("tcp 80"), out);
    // The file is about 7.5 MB; a scan's own garbage is the stream and the one result string.
    assertTrue(perScan < 64 * 1024, "a scan of 50,000 sockets allocated " + perScan + " bytes");
  }
}
