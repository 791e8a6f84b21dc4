package net.hydranet.harness.live;

import static net.hydranet.harness.live.Ipv6Shell.counter;
import static net.hydranet.harness.live.Ipv6Shell.curl6;
import static net.hydranet.harness.live.Ipv6Shell.in;
import static net.hydranet.harness.live.Ipv6Shell.read;
import static net.hydranet.harness.live.Ipv6Shell.run;
import static net.hydranet.harness.live.Ipv6Shell.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.hydranet.harness.live.Ipv6Shell.Result;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The host server's IPv6 side with real programs (issue 21, item 4): {@code hydranet hostserver}
 * and {@code hydranet vhost --origin 2001:2::10} running python's http.server in their namespace,
 * and {@code curl -6} in a client namespace, whose packets to the origin reach the host server
 * inside IPv4 protocol 41 and whose answers return directly.
 *
 * <p>The redirector between them is a stand-in: a python packet socket in the middle namespace that
 * takes each frame to 2001:2::10 and sends its IPv6 packet to the host server through a raw
 * protocol-41 socket (what the redirector's encapsulation does; the kernel writes the outer IPv4
 * header). The middle namespace blackholes the origin, so only the tunnel carries it. A second
 * stand-in sends an ICMPv6 echo inside IPv6 (IPv6-in-IPv6 to the host server's --address6) and
 * waits for the virtual host's reply.
 *
 * <pre>
 * hng5k (curl)  ──k0/c1──  hng5c (stand-in: packet socket → raw proto 41)  ──c0/h0──  hng5h
 * 2001:2:0:65::1           2001:2:0:65::2   198.18.64.1 / 2001:2:0:64::1     198.18.64.2 / 2001:2:0:64::2
 *                          blackhole 2001:2::10                              hostserver + vhost 2001:2::10
 * </pre>
 */
@Timeout(120)
class HostServerIpv6IT {
  private static final String K = "hng5k";
  private static final String C = "hng5c";
  private static final String H = "hng5h";
  private static final String ORIGIN = "2001:2::10";

  private static Ipv6Lab lab;
  private static Path work;
  private static boolean linkedBeforeAnyPacket;

  @BeforeAll
  static void start() throws Exception {
    lab =
        Ipv6Lab.start(
            "hng5",
            List.of(K, C, H),
            ORIGIN,
            "96m",
            30,
            List.of("curl", "python3", "ip", "ethtool"));
    work = lab.work;
    Files.createDirectories(work.resolve("site"));
    Files.writeString(work.resolve("site/hello.txt"), "hello over IPv6 from the replica\n");
    Files.writeString(work.resolve("standin.py"), STANDIN);
    Files.writeString(work.resolve("ping6in6.py"), PING6IN6);
    sh("ip link add k0 netns " + K + " mtu 1400 type veth peer name c1 netns " + C + " mtu 1400");
    sh("ip link add c0 netns " + C + " type veth peer name h0 netns " + H);
    in(K, "ip -6 addr add 2001:2:0:65::1/64 dev k0 nodad");
    in(K, "ip link set k0 up");
    // The client's kernel would leave TCP checksums to a NIC that a veth does not have: the
    // stand-in would tunnel the half-done sums and the replica drop them. A real redirector
    // captures with offloads off too (redirector-prepare).
    in(K, "ethtool -K k0 tx off");
    in(K, "ip -6 route add default via 2001:2:0:65::2");
    in(C, "ip -6 addr add 2001:2:0:65::2/64 dev c1 nodad");
    in(C, "ip addr add 198.18.64.1/24 dev c0");
    in(C, "ip -6 addr add 2001:2:0:64::1/64 dev c0 nodad");
    in(C, "ip link set c1 up");
    in(C, "ip link set c0 up");
    in(C, "sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/forwarding'");
    in(C, "ip -6 route add blackhole " + ORIGIN + "/128");
    in(H, "ip addr add 198.18.64.2/24 dev h0");
    in(H, "ip -6 addr add 2001:2:0:64::2/64 dev h0 nodad");
    in(H, "ip link set h0 up");
    in(H, "ip -6 route add 2001:2:0:65::/64 via 2001:2:0:64::1");
    Path state = work.resolve("hs-state");
    lab.spawn(
        H,
        "hostserver",
        lab.hydranet
            + " hostserver --interface h0 --address 198.18.64.2 --address6 2001:2:0:64::2"
            + " --tun hng5t0 --metrics off --state-dir "
            + state
            + " --status "
            + work.resolve("hs.status"));
    lab.vhost(
        H,
        state,
        "python3 -m http.server 8080 --bind " + ORIGIN + " --directory " + work.resolve("site"));
    lab.spawn(
        C, "standin", "python3 " + work.resolve("standin.py") + " c1 " + ORIGIN + " 198.18.64.2");
    lab.showInLogs("status", () -> read(work.resolve("hs.status")));
    lab.await(
        "the virtual host to publish tcp 8080 (" + work.resolve("vhost.log") + ")",
        () -> read(state.resolve("vhosts/" + ORIGIN + ".vhost")).contains("tcp 8080"));
    lab.await(
        "the host server to install the virtual host (" + work.resolve("hostserver.log") + ")",
        () -> read(work.resolve("hs.status")).contains("1 virtual host(s), 1 port(s)"));
    // No packet has been sent to the origin yet: the link must open without one (asserted by
    // the link's test alone, so that the others run either way).
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (!read(work.resolve("hostserver.log")).contains("packets written onto hv6")
        && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    linkedBeforeAnyPacket =
        read(work.resolve("hostserver.log")).contains("packets written onto hv6")
            && counter(read(work.resolve("hs.status")), "injected_ipv6") == 0;
  }

  @AfterAll
  static void stop() throws Exception {
    if (lab != null) {
      lab.stop();
    }
  }

  @Test
  void shouldServeCurl6ThroughIpv6InIpv4AndTheVirtualHost() throws Exception {
    Result r = curl6(K, "-m", "10", "http://[" + ORIGIN + "]:8080/hello.txt");
    assertEquals(0, r.exit, r.output + lab.logs());
    assertTrue(r.output.contains("hello over IPv6 from the replica"), r.output + lab.logs());
    lab.await(
        "the status file to count it",
        () -> counter(read(work.resolve("hs.status")), "injected_ipv6") > 0);
    String status = read(work.resolve("hs.status"));
    assertTrue(counter(status, "ipv6_in_ipv4") >= 3, status); // SYN, ACK, request at least
    assertEquals(counter(status, "ipv6_in_ipv4"), counter(status, "injected_ipv6"), status);
  }

  /**
   * Issue 23, item 6: the host server asks its kernel for the virtual host's MAC as soon as the
   * virtual host appears ({@code NTF_USE}), so the virtual host's link is open before any packet
   * comes, and every packet of every connection, the first one's included, goes straight onto it
   * ({@code --inject link}, the default), none through the TUN. (Before, the first connection's
   * packets took the TUN: only their routing made the kernel ask.)
   */
  @Test
  void shouldWriteEveryIpv6PacketOntoTheVirtualHostsLinkFromTheFirstConnection() throws Exception {
    // Opened before any packet: start() waited up to 10 s for it before any test sent one.
    assertTrue(linkedBeforeAnyPacket, "no link before the first packet\n" + lab.logs());
    String before = read(work.resolve("hs.status"));
    Result r = hello();
    assertEquals(0, r.exit, r.output + lab.logs());
    assertTrue(r.output.contains("hello over IPv6 from the replica"), r.output + lab.logs());
    long linked = counter(before, "injected_link_ipv6");
    lab.await(
        "the status file to count the connection on the link",
        () -> counter(read(work.resolve("hs.status")), "injected_link_ipv6") >= linked + 3);
    // The status file is rewritten every 0.1 s: let it count the connection's last packets.
    Thread.sleep(500);
    String after = read(work.resolve("hs.status"));
    // Every packet so far, of this connection and of whichever test ran before, went the link's
    // way: none through the TUN.
    assertEquals(
        counter(after, "injected_ipv6"), counter(after, "injected_link_ipv6"), before + after);
    assertTrue(counter(after, "injected_link") >= counter(after, "injected_link_ipv6"), after);
  }

  private static Result hello() throws Exception {
    return curl6(K, "-m", "10", "http://[" + ORIGIN + "]:8080/hello.txt");
  }

  @Test
  void shouldAnswerAnEchoSentInsideIpv6() throws Exception {
    Result r =
        run(
            "ip",
            "netns",
            "exec",
            C,
            "python3",
            work.resolve("ping6in6.py").toString(),
            "2001:2:0:64::1",
            ORIGIN,
            "2001:2:0:64::2");
    assertEquals(0, r.exit, r.output + lab.logs());
    assertTrue(r.output.contains("echo reply from " + ORIGIN), r.output);
    lab.await(
        "the status file to count IPv6-in-IPv6",
        () -> counter(read(work.resolve("hs.status")), "ipv6_in_ipv6") > 0);
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * The redirector's stand-in: frames arriving on IFACE for ORIGIN go, as IPv6 packets, inside IPv4
   * protocol 41 to HOSTSERVER.
   */
  static final String STANDIN =
      String.join(
          "\n",
          "import socket, sys",
          "iface, origin, hostserver = sys.argv[1], socket.inet_pton(socket.AF_INET6, sys.argv[2]),"
              + " sys.argv[3]",
          "rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86dd))",
          "rx.bind((iface, 0))",
          "tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, 41)",
          "print('stand-in ready', flush=True)",
          "while True:",
          "    frame, address = rx.recvfrom(65535)",
          "    if address[2] == socket.PACKET_OUTGOING or len(frame) < 54:",
          "        continue",
          "    packet = frame[14:]",
          "    if packet[24:40] == origin:",
          "        tx.sendto(packet[:40 + int.from_bytes(packet[4:6], 'big')], (hostserver, 0))",
          "");

  /**
   * An ICMPv6 echo request from SOURCE to ORIGIN inside IPv6 (next header 41) to HOSTSERVER6; waits
   * for the reply, which the virtual host sends straight back to SOURCE.
   */
  static final String PING6IN6 =
      String.join(
          "\n",
          "import socket, struct, sys",
          "src, dst, hs = (socket.inet_pton(socket.AF_INET6, a) for a in sys.argv[1:4])",
          "def csum(b):",
          "    if len(b) % 2: b += b'\\0'",
          "    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))",
          "    while s >> 16: s = (s & 0xffff) + (s >> 16)",
          "    return ~s & 0xffff",
          "body = struct.pack('!BBHHH', 128, 0, 0, 0x6e35, 1) + b'hng5'",
          "c = csum(src + dst + struct.pack('!I3xB', len(body), 58) + body)",
          "body = body[:2] + struct.pack('!H', c) + body[4:]",
          "inner = struct.pack('!IHBB', 6 << 28, len(body), 58, 64) + src + dst + body",
          "rx = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)",
          "rx.settimeout(1.0)",
          "tx = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 41)",
          "for attempt in range(5):",
          "    tx.sendto(inner, (sys.argv[3], 0))",
          "    try:",
          "        while True:",
          "            data, peer = rx.recvfrom(2048)",
          "            if data[0] == 129 and data[4:6] == b'\\x6e\\x35':",
          "                print('echo reply from', peer[0]); sys.exit(0)",
          "    except socket.timeout:",
          "        pass",
          "print('no echo reply'); sys.exit(1)",
          "");
}
