package net.hydranet.hostserver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * {@link Neighbours#resolve}: the request's bytes, and this kernel resolving a virtual host's
 * address on request, without a packet to send there, IPv4 and IPv6, laid out as {@code hydranet
 * vhost} lays it out: a host namespace ({@code hsv-h-PID}) whose veth {@code hsvh0} has no IPv4
 * address of its own (one on its loopback, as the host server's on its NIC) and {@code fe80::1},
 * and a virtual host's namespace ({@code hsv-v-PID}) whose {@code eth0} holds the origins
 * 198.19.213.10 and 2001:2:0:d5::10. Stale namespaces of an earlier run are deleted first.
 */
class NeighboursResolveTest {
  private static final String HOST = "hsv-h-" + ProcessHandle.current().pid();
  private static final String VHOST = "hsv-v-" + ProcessHandle.current().pid();
  private static final String ORIGIN = "198.19.213.10";
  private static final String ORIGIN6 = "2001:2:0:d5::10";
  private static boolean made;
  private static int ifIndex;
  private static byte[] vhostMac;

  @BeforeAll
  static void makeNamespaces() throws Exception {
    if (!"root".equals(System.getProperty("user.name")) || run("sh", "-c", "command -v ip") != 0) {
      return;
    }
    try (var names = Files.list(Path.of("/run/netns"))) {
      for (Path p : names.toList()) {
        if (p.getFileName().toString().startsWith("hsv-")) {
          run("ip", "netns", "del", p.getFileName().toString());
        }
      }
    } catch (IOException e) {
      // No /run/netns yet.
    }
    if (run("ip", "netns", "add", HOST) != 0) {
      return;
    }
    made = true;
    sh("ip netns add " + VHOST);
    for (String ns : List.of(HOST, VHOST)) {
      sh("ip netns exec " + ns + " sh -c 'echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad'");
      sh("ip -n " + ns + " link set lo up");
    }
    sh("ip -n " + HOST + " addr add 198.19.213.1/32 dev lo");
    sh("ip -n " + HOST + " link add hsvh0 type veth peer name eth0 netns " + VHOST);
    sh("ip -n " + HOST + " link set hsvh0 up");
    sh("ip -n " + HOST + " -6 addr add fe80::1/64 dev hsvh0 nodad");
    sh("ip -n " + HOST + " route add " + ORIGIN + "/32 dev hsvh0");
    sh("ip -n " + VHOST + " link set eth0 up");
    sh("ip -n " + VHOST + " addr add " + ORIGIN + "/32 dev eth0");
    sh("ip -n " + VHOST + " -6 addr add " + ORIGIN6 + "/128 dev eth0 nodad");
    sh("ip -n " + VHOST + " route add default dev eth0");
    String link = output("ip", "-n", HOST, "-o", "link", "show", "hsvh0");
    ifIndex = Integer.parseInt(link.substring(0, link.indexOf(':')).trim());
    String eth0 = output("ip", "-n", VHOST, "-o", "link", "show", "eth0");
    String mac = eth0.substring(eth0.indexOf("link/ether ") + 11).split(" ")[0];
    vhostMac = HexFormat.ofDelimiter(":").parseHex(mac);
  }

  @AfterAll
  static void deleteNamespaces() throws Exception {
    if (made) {
      run("ip", "netns", "del", HOST);
      run("ip", "netns", "del", VHOST);
    }
  }

  @Test
  void shouldWriteARequestToResolveOneAddressOnOneLink() {
    UnsafeBuffer b = new UnsafeBuffer(new byte[Neighbours.RESOLVE_MAX_LENGTH]);
    int length = Neighbours.writeResolve(b, 7, Neighbours.AF_INET, 5, v4("198.18.2.10"));
    assertEquals(36, length);
    ByteOrder host = ByteOrder.nativeOrder();
    assertEquals(36, b.getInt(0, host));
    assertEquals(28, b.getShort(4, host)); // RTM_NEWNEIGH
    assertEquals(1 | 4 | 0x400, b.getShort(6, host)); // request, ack, create
    assertEquals(7, b.getInt(8, host));
    assertEquals(Neighbours.AF_INET, b.getByte(16));
    assertEquals(5, b.getInt(20, host));
    assertEquals(0, b.getShort(24, host)); // NUD_NONE: the kernel decides
    assertEquals(Neighbours.NTF_USE, b.getByte(26));
    assertEquals(8, b.getShort(28, host)); // NDA_DST, 4 bytes
    assertEquals(1, b.getShort(30, host));
    assertEquals("c612020a", HexFormat.of().formatHex(bytes(b, 32, 4)));
    assertEquals(48, Neighbours.writeResolve(b, 8, Neighbours.AF_INET6, 5, v6("2001:2::10")));
    assertEquals(20, b.getShort(28, host));
  }

  @Test
  void shouldMakeTheKernelResolveAVirtualHostsIpv4AddressWithoutAPacket() throws Exception {
    resolveAndFind(Neighbours.AF_INET, v4(ORIGIN));
  }

  @Test
  void shouldMakeTheKernelResolveAVirtualHostsIpv6AddressWithoutAPacket() throws Exception {
    resolveAndFind(Neighbours.AF_INET6, v6(ORIGIN6));
  }

  @Test
  void shouldRefuseAnInterfaceThatDoesNotExist() throws Exception {
    assumeTrue(made, "needs root and ip(8) to make namespaces");
    try (Neighbours n = Neighbours.openIn(Path.of("/run/netns/" + HOST))) {
      assertThrows(
          IOException.class, () -> n.resolve(Neighbours.AF_INET, 999_999, v4("198.19.213.11")));
    }
  }

  private static void resolveAndFind(int family, byte[] address) throws Exception {
    assumeTrue(made, "needs root and ip(8) to make namespaces");
    try (Neighbours n = Neighbours.openIn(Path.of("/run/netns/" + HOST))) {
      assertNull(
          VirtualHostLinkScan.mac(n.dump(family), ifIndex, address), "not resolved before asked");
      n.resolve(family, ifIndex, address);
      byte[] at = VirtualHostLinkScan.mac(n.dump(family), ifIndex, address);
      System.out.println(
          "NeighboursResolveTest: family "
              + family
              + (at != null ? ": resolved when resolve returned" : ": not yet resolved at return"));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
      while (at == null && System.nanoTime() < deadline) {
        Thread.sleep(10);
        at = VirtualHostLinkScan.mac(n.dump(family), ifIndex, address);
      }
      assertArrayEquals(vhostMac, at, "the virtual host's eth0, resolved without a packet");
    }
  }

  private static byte[] bytes(UnsafeBuffer b, int at, int length) {
    byte[] out = new byte[length];
    b.getBytes(at, out);
    return out;
  }

  private static byte[] v4(String a) {
    return ByteBuffer.allocate(4).putInt(Ipv4Header.parseAddress(a)).array();
  }

  private static byte[] v6(String a) {
    long[] x = Ipv6Header.parseAddress(a);
    return ByteBuffer.allocate(16).putLong(x[0]).putLong(x[1]).array();
  }

  private static void sh(String command) throws Exception {
    int rc = run("sh", "-c", command);
    if (rc != 0) {
      throw new IllegalStateException(command + ": exit " + rc);
    }
  }

  private static String output(String... cmd) throws Exception {
    // Standard output alone: ip(8) warns on standard error about the veth's peer namespace.
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(10, TimeUnit.SECONDS);
    return out;
  }

  private static int run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    if (!p.waitFor(20, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return -1;
    }
    return p.exitValue();
  }
}
