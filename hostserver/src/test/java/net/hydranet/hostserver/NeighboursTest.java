package net.hydranet.hostserver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The neighbour table over rtnetlink: the request's bytes, a parse of a crafted answer, and real
 * dumps of this kernel in a namespace of its own ({@code h10ln-PID}, its stale ones deleted first)
 * with a veth whose neighbour entries {@code ip neigh} made: resolved ones of both families, and
 * unresolved ones that must not count as resolved.
 */
class NeighboursTest {
  private static final String NS = "h10ln-" + ProcessHandle.current().pid();
  private static final byte[] MAC4 = HexFormat.of().parseHex("020000000a04");
  private static final byte[] MAC6 = HexFormat.of().parseHex("020000000a06");
  private static boolean made;
  private static int ifIndex;

  @BeforeAll
  static void makeNamespace() throws Exception {
    if (!"root".equals(System.getProperty("user.name")) || run("sh", "-c", "command -v ip") != 0) {
      return;
    }
    // Stale ones of an earlier run that did not get to its cleanup.
    try (var names = Files.list(Path.of("/run/netns"))) {
      for (Path p : names.toList()) {
        if (p.getFileName().toString().startsWith("h10ln-")) {
          run("ip", "netns", "del", p.getFileName().toString());
        }
      }
    } catch (IOException e) {
      // No /run/netns yet.
    }
    if (run("ip", "netns", "add", NS) != 0) {
      return;
    }
    made = true;
    sh("ip -n " + NS + " link add h10la type veth peer name h10lb");
    sh("ip -n " + NS + " link set h10la up");
    sh("ip -n " + NS + " link set h10lb up");
    sh("ip -n " + NS + " neigh add 198.18.0.10 lladdr 02:00:00:00:0a:04 dev h10la nud reachable");
    sh("ip -n " + NS + " -6 neigh add 2001:2::10 lladdr 02:00:00:00:0a:06 dev h10la nud stale");
    sh("ip -n " + NS + " -6 neigh add 2001:2::11 lladdr 02:00:00:00:0a:07 dev h10la nud failed");
    sh("ip -n " + NS + " -6 neigh add 2001:2::12 dev h10la nud incomplete");
    String link = output("ip", "-n", NS, "-o", "link", "show", "h10la");
    ifIndex = Integer.parseInt(link.substring(0, link.indexOf(':')).trim());
  }

  @AfterAll
  static void deleteNamespace() throws Exception {
    if (made) {
      run("ip", "netns", "del", NS);
    }
  }

  private static List<Neighbours.Entry> dump(int family) throws IOException {
    assumeTrue(made, "needs root and ip(8) to make a namespace");
    try (Neighbours n = Neighbours.openIn(Path.of("/run/netns/" + NS))) {
      return n.dump(family);
    }
  }

  private static byte[] v4(String a) {
    return java.nio.ByteBuffer.allocate(4).putInt(Ipv4Header.parseAddress(a)).array();
  }

  private static byte[] v6(String a) {
    long[] x = Ipv6Header.parseAddress(a);
    return java.nio.ByteBuffer.allocate(16).putLong(x[0]).putLong(x[1]).array();
  }

  @Test
  void shouldFindAResolvedIpv6NeighbourAndItsMac() throws IOException {
    List<Neighbours.Entry> table = dump(Neighbours.AF_INET6);
    assertArrayEquals(MAC6, VirtualHostLinkScan.mac(table, ifIndex, v6("2001:2::10")), "" + table);
    for (Neighbours.Entry e : table) {
      assertEquals(Neighbours.AF_INET6, e.family());
    }
    assertNull(VirtualHostLinkScan.mac(table, ifIndex + 1, v6("2001:2::10")), "another link");
  }

  @Test
  void shouldNotTakeAFailedOrIncompleteNeighbourAsResolved() throws IOException {
    List<Neighbours.Entry> table = dump(Neighbours.AF_INET6);
    assertNull(VirtualHostLinkScan.mac(table, ifIndex, v6("2001:2::11")), "failed");
    assertNull(VirtualHostLinkScan.mac(table, ifIndex, v6("2001:2::12")), "incomplete");
    // Both are listed, so it is their state that keeps them out, not their absence.
    int listed = 0;
    for (Neighbours.Entry e : table) {
      if (e.is(ifIndex, v6("2001:2::11")) || e.is(ifIndex, v6("2001:2::12"))) {
        listed++;
        assertFalse(e.resolved(), e.toString());
      }
    }
    assertEquals(2, listed, "" + table);
  }

  @Test
  void shouldDumpIpv4AloneOrBothFamilies() throws IOException {
    List<Neighbours.Entry> four = dump(Neighbours.AF_INET);
    assertArrayEquals(MAC4, VirtualHostLinkScan.mac(four, ifIndex, v4("198.18.0.10")), "" + four);
    assertNull(VirtualHostLinkScan.mac(four, ifIndex, v6("2001:2::10")));
    List<Neighbours.Entry> both = dump(Neighbours.AF_UNSPEC);
    assertNotNull(VirtualHostLinkScan.mac(both, ifIndex, v4("198.18.0.10")));
    assertNotNull(VirtualHostLinkScan.mac(both, ifIndex, v6("2001:2::10")));
  }

  @Test
  void shouldAskForADumpOfOneFamily() {
    Netlink netlink = new Netlink(Neighbours.REQUEST_LENGTH, 64);
    Neighbours.writeRequest(netlink, 9, Neighbours.AF_INET6);
    UnsafeBuffer b = netlink.request();
    assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "netlink headers in host order");
    byte[] bytes = new byte[Neighbours.REQUEST_LENGTH];
    b.getBytes(0, bytes);
    assertEquals(
        "1c000000" // length 28
            + "1e00" // RTM_GETNEIGH
            + "0103" // NLM_F_REQUEST | NLM_F_DUMP
            + "09000000"
            + "00000000"
            + "0a000000" // ndmsg: AF_INET6, padding
            + "00000000" // any interface
            + "00000000", // any state, flags, type
        HexFormat.of().formatHex(bytes));
  }

  @Test
  void shouldParseAnAnswerAndStopAtDoneOrAnError() {
    assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "netlink headers in host order");
    // RTM_NEWNEIGH: ndmsg AF_INET6, ifindex 7, NUD_REACHABLE; NDA_DST 2001:2::10; NDA_LLADDR.
    String neighbour =
        "44000000"
            + "1c00"
            + "0200"
            + "05000000"
            + "00000000"
            + "0a000000"
            + "07000000"
            + "0200"
            + "00"
            + "00"
            + "1400"
            + "0100"
            + "20010002000000000000000000000010"
            + "0a00"
            + "0200"
            + "020000000a06"
            + "0000"
            + "0800"
            + "0300"
            + "00000000"; // NDA_CACHEINFO-like attribute, ignored
    String done = "14000000" + "0300" + "0200" + "05000000" + "00000000" + "00000000";
    List<Neighbours.Entry> out = new ArrayList<>();
    assertEquals(Netlink.COMPLETE, parse(neighbour + done, 5, out));
    assertEquals(1, out.size());
    Neighbours.Entry e = out.get(0);
    assertTrue(e.resolved());
    assertTrue(e.is(7, v6("2001:2::10")));
    assertArrayEquals(MAC6, e.mac());
    // Another sequence's messages are not this dump's.
    out.clear();
    assertEquals(Netlink.MORE, parse(neighbour, 6, out));
    assertEquals(0, out.size());
    // NLMSG_ERROR -EINVAL
    Netlink netlink = new Netlink(Neighbours.REQUEST_LENGTH, 1024);
    String error =
        "28000000"
            + "0200"
            + "0000"
            + "05000000"
            + "00000000"
            + "eaffffff"
            + "1c0000001e000103050000000000000000000000";
    assertEquals(Netlink.REFUSED, parse(netlink, error, 5, out));
    assertEquals(22, netlink.errno());
    // A length beyond the datagram
    assertEquals(Netlink.MALFORMED, parse(neighbour.substring(0, 80), 5, out));
    // An RTM_NEWNEIGH too short for its ndmsg
    assertEquals(
        Netlink.MALFORMED,
        parse(
            "18000000" + "1c00" + "0200" + "05000000" + "00000000" + "0a000000" + "07000000",
            5,
            out));
    assertEquals(0, out.size());
  }

  private static int parse(String hex, int seq, List<Neighbours.Entry> out) {
    return parse(new Netlink(Neighbours.REQUEST_LENGTH, 1024), hex, seq, out);
  }

  /** One datagram of a dump, in hex, as {@link Neighbours#dump} reads it. */
  private static int parse(Netlink netlink, String hex, int seq, List<Neighbours.Entry> out) {
    byte[] datagram = HexFormat.of().parseHex(hex);
    netlink.response().putBytes(0, datagram);
    return netlink.parse(datagram.length, seq, Neighbours.reader(out));
  }

  private static int run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return -1;
    }
    return p.exitValue();
  }

  private static void sh(String command) throws IOException, InterruptedException {
    output("sh", "-c", command);
  }

  private static String output(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", cmd) + ": " + out);
    }
    return out;
  }
}
