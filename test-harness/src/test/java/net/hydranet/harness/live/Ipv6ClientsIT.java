package net.hydranet.harness.live;

import static net.hydranet.harness.live.Ipv6Shell.counter;
import static net.hydranet.harness.live.Ipv6Shell.curl6;
import static net.hydranet.harness.live.Ipv6Shell.in;
import static net.hydranet.harness.live.Ipv6Shell.iperf3ReceivedMbps;
import static net.hydranet.harness.live.Ipv6Shell.iperf3Retransmits;
import static net.hydranet.harness.live.Ipv6Shell.read;
import static net.hydranet.harness.live.Ipv6Shell.routeMtu;
import static net.hydranet.harness.live.Ipv6Shell.run;
import static net.hydranet.harness.live.Ipv6Shell.veth;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import net.hydranet.control.ctl.CtlServer;
import net.hydranet.harness.live.Ipv6Shell.Result;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 21's real clients over IPv6, against {@code hydranet redirector}: {@code ping -6} of the
 * router's own address, {@code curl -6} and {@code iperf3 -6} routed by plain forwarding to a
 * server in another namespace, the same clients redirected to a replica learned over the control
 * plane (no static entry: the host server announces the virtual host's ports of the origin
 * 2001:2::9a), and path-MTU discovery end to end on both paths.
 *
 * <p>The link to the host server carries 1400 bytes, the client's link 1500: a forwarded packet
 * over 1400 and a tunnelled one over 1380 (1400 − 20 of the IPv4 outer header) each earn the client
 * a Packet Too Big. The replica advertises the MSS of the virtual host's default 1480-byte tunnel
 * (1420), as a replica configured for another core would, so the client's full segments are too big
 * for this tunnel and only path-MTU discovery gets a large request through.
 *
 * <pre>
 * h9a-k  the clients: 2001:2:0:9a1::1
 *   │    h9ak0/h9ar1, MTU 1500
 * h9a-r  hydranet redirector --control: h9ar1 198.18.154.1 2001:2:0:9a1::2,
 *   │                                   h9ar0 198.18.155.1 2001:2:0:9a2::1; its kernel ignores echo
 *   │    h9ar0/h9ah0, MTU 1400
 * h9a-h  198.18.155.2 2001:2:0:9a2::2: http.server :8081 and iperf3 :5201, reached by forwarding;
 *        hydranet hostserver --control; hydranet vhost 2001:2::9a: HTTP :8080, iperf3 :5201
 * </pre>
 */
@TestMethodOrder(OrderAnnotation.class)
@Timeout(300)
class Ipv6ClientsIT {
  private static final String K = "h9a-k";
  private static final String R = "h9a-r";
  private static final String H = "h9a-h";
  private static final String ORIGIN = "2001:2::9a";
  private static final String ROUTER = "2001:2:0:9a1::2";
  private static final String SERVER = "2001:2:0:9a2::2";
  private static final int CORE_MTU = 1400;
  private static final int TUNNEL_MTU = CORE_MTU - 20;

  private static Ipv6Lab lab;
  private static Path work;

  @BeforeAll
  static void start() throws Exception {
    lab =
        Ipv6Lab.start(
            "h9a",
            List.of(K, R, H),
            ORIGIN,
            "256m",
            // Waits up to two minutes: three JVMs starting on two shared cores took over 45 s to
            // reach their first log line while other builds ran.
            120,
            List.of("curl", "iperf3", "ping", "python3", "ip", "ethtool", "nft"));
    work = lab.work;
    Files.createDirectories(work.resolve("site"));
    Files.writeString(work.resolve("site/hello.txt"), "hello from the replica\n");
    Files.createDirectories(work.resolve("server-site"));
    Files.writeString(work.resolve("server-site/hello.txt"), "hello from the routed server\n");
    Files.writeString(work.resolve("replica.py"), REPLICA);
    veth(K, "h9ak0", R, "h9ar1", 1500);
    veth(R, "h9ar0", H, "h9ah0", CORE_MTU);
    in(K, "ip -6 addr add 2001:2:0:9a1::1/64 dev h9ak0 nodad");
    in(K, "ip -6 route add default via " + ROUTER);
    in(R, "ip addr add 198.18.154.1/24 dev h9ar1");
    in(R, "ip addr add 198.18.155.1/24 dev h9ar0");
    in(R, "ip -6 addr add " + ROUTER + "/64 dev h9ar1 nodad");
    in(R, "ip -6 addr add 2001:2:0:9a2::1/64 dev h9ar0 nodad");
    in(R, "sh -c 'echo 0 > /proc/sys/net/ipv4/ip_forward'");
    in(R, "sh -c 'echo 0 > /proc/sys/net/ipv6/conf/all/forwarding'");
    // The box's kernel holds the router's addresses too and would answer a ping beside us: with
    // its echo replies off, every reply the client gets is the redirector's.
    in(R, "sh -c 'echo 1 > /proc/sys/net/ipv6/icmp/echo_ignore_all'");
    in(H, "ip addr add 198.18.155.2/24 dev h9ah0");
    in(H, "ip -6 addr add " + SERVER + "/64 dev h9ah0 nodad");
    in(H, "ip -6 route add 2001:2:0:9a1::/64 via 2001:2:0:9a2::1");
    Path state =
        lab.redirectorAndHostServer(
            R,
            "interfaces:\n"
                + "  - { name: h9ar1, address: 198.18.154.1/24, address6: \""
                + ROUTER
                + "/64\" }\n"
                // No mtu: the redirector takes the link's (1400), as it takes the MACs.
                + "  - { name: h9ar0, address: 198.18.155.1/24, address6: \"2001:2:0:9a2::1/64\" }\n",
            "198.18.155.1",
            H,
            "h9ah0",
            "198.18.155.2",
            "h9at");
    lab.vhost(
        H,
        state,
        "python3 "
            + work.resolve("replica.py")
            + " "
            + ORIGIN
            + " 8080 5201 "
            + work.resolve("site"));
    lab.showInLogs("redirector status", Ipv6ClientsIT::status);
    lab.showInLogs("host server status", () -> read(work.resolve("hs.status")));
    // The routed server: a plain host behind the router, reached by forwarding alone.
    lab.spawn(
        H,
        "server-http",
        "python3 -m http.server 8081 --bind "
            + SERVER
            + " --directory "
            + work.resolve("server-site"));
    lab.spawn(H, "server-iperf", "iperf3 -s -B " + SERVER + " -p 5201");
    for (String port : List.of("8080", "5201")) {
      lab.await(
          "the redirector to learn [" + ORIGIN + "]:" + port + "/tcp over the control plane",
          () ->
              read(work.resolve("redirector.log"))
                  .contains("table: [" + ORIGIN + "]:" + port + "/tcp -> "));
    }
    lab.await("the redirector's transit table", () -> Ipv6Shell.transitTable(R));
    lab.await(
        "the routed server to listen",
        () -> listening(H, "[" + SERVER + "]:8081") && listening(H, "[" + SERVER + "]:5201"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (lab != null) {
      lab.stop();
    }
  }

  @Test
  @Order(1)
  void shouldAnswerPing6OfItsOwnAddressItself() throws Exception {
    long before = counter(status(), "icmpv6_sent_echo_reply");
    Result r =
        run("ip", "netns", "exec", K, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", ROUTER);
    assertEquals(0, r.exit, r.output + lab.logs());
    assertTrue(r.output.contains("3 received"), r.output);
    assertFalse(r.output.contains("DUP!"), "one answer per request: " + r.output);
    // The box's kernel ignores echo requests (above), so the replies can only be the router's.
    assertTrue(counter(status(), "icmpv6_sent_echo_reply") - before >= 3, status());
  }

  @Test
  @Order(2)
  void shouldForwardCurl6ToARoutedServer() throws Exception {
    long before = counter(status(), "forwarded");
    Result r = curl("http://[" + SERVER + "]:8081/hello.txt");
    assertEquals(0, r.exit, r.output + lab.logs());
    assertTrue(r.output.contains("hello from the routed server"), r.output);
    assertTrue(counter(status(), "forwarded") - before >= 6, status()); // both ways of a connection
  }

  @Test
  @Order(3)
  void shouldSendPacketTooBigForAForwardedPacketOverTheNextLinksMtu() throws Exception {
    assertEquals(-1, routeMtu(K, SERVER), "no path MTU learned yet");
    long before = counter(status(), "icmpv6_sent_packet_too_big");
    // 1400 bytes of echo data: a 1448-byte packet, which fits the client's link but not the next.
    Result r =
        run(
            "ip", "netns", "exec", K, "ping", "-6", "-c", "2", "-i", "0.5", "-W", "2", "-M", "do",
            "-s", "1400", SERVER);
    assertTrue(r.output.contains("Packet too big: mtu=" + CORE_MTU), r.output + lab.logs());
    assertEquals(CORE_MTU, routeMtu(K, SERVER), "the client's route cache");
    assertTrue(counter(status(), "icmpv6_sent_packet_too_big") > before, status());
    System.out.printf(
        "ipv6-clients: forwarding: ping -6 -s 1400 -M do -> Packet Too Big, client PMTU %d%n",
        routeMtu(K, SERVER));
  }

  @Test
  @Order(4)
  void shouldForwardIperf36() throws Exception {
    double mbps = iperf3(SERVER, "forwarding");
    assertTrue(mbps > 1, mbps + " Mbit/s");
  }

  @Test
  @Order(5)
  void shouldCompleteALargeRequestToTheReplicaByPathMtuDiscovery() throws Exception {
    assertEquals(-1, routeMtu(K, ORIGIN), "no path MTU learned for the origin yet");
    long tooBig = counter(status(), "icmpv6_sent_packet_too_big");
    long redirected = counter(status(), "redirected");
    byte[] body = new byte[64 * 1024];
    new Random(21).nextBytes(body);
    Path file = work.resolve("body");
    Files.write(file, body);
    Result r =
        curl6(
            K,
            "-m",
            "20",
            "-H",
            "Expect:",
            "--data-binary",
            "@" + file,
            "http://[" + ORIGIN + "]:8080/digest");
    String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
    assertEquals(0, r.exit, r.output + lab.logs());
    assertEquals(body.length + " " + digest, r.output.strip(), "the replica read the whole body");
    int pmtu = routeMtu(K, ORIGIN);
    System.out.printf(
        "ipv6-clients: redirection: curl -6 POST %d bytes -> Packet Too Big, client PMTU %d%n",
        body.length, pmtu);
    assertEquals(TUNNEL_MTU, pmtu, "the client's route cache holds the tunnel's MTU");
    String status = status();
    assertTrue(counter(status, "icmpv6_sent_packet_too_big") > tooBig, status);
    assertTrue(counter(status, "redirected") - redirected > body.length / TUNNEL_MTU, status);
  }

  @Test
  @Order(6)
  void shouldServeCurl6FromTheLearnedReplica() throws Exception {
    long redirected = counter(status(), "redirected");
    Result r = curl("http://[" + ORIGIN + "]:8080/hello.txt");
    assertEquals(0, r.exit, r.output + lab.logs());
    assertTrue(r.output.contains("hello from the replica"), r.output);
    assertTrue(counter(status(), "redirected") - redirected >= 3, status()); // SYN, ACK, GET
  }

  @Test
  @Order(7)
  void shouldRedirectIperf36ToTheLearnedReplica() throws Exception {
    // The earlier tests' packets made the host server's kernel resolve the virtual host's MAC:
    // from then on the host server writes onto the virtual host's link (issue 23, item 6).
    lab.await(
        "the host server to open the virtual host's link",
        () -> read(work.resolve("hostserver.log")).contains("packets written onto hv6"));
    Thread.sleep(300); // the status file (every 0.1 s) after the last packets of earlier tests
    String before = read(work.resolve("hs.status"));
    long tunnelled = counter(before, "ipv6_in_ipv4");
    double mbps = iperf3(ORIGIN, "redirection");
    assertTrue(mbps > 1, mbps + " Mbit/s");
    // The replica, not a server at the origin (there is none), answered: through the tunnel.
    lab.await(
        "the host server to count the test's packets",
        () -> counter(read(work.resolve("hs.status")), "ipv6_in_ipv4") - tunnelled > 100);
    Thread.sleep(300);
    String after = read(work.resolve("hs.status"));
    long linked = counter(after, "injected_link_ipv6") - counter(before, "injected_link_ipv6");
    long injected = counter(after, "injected_ipv6") - counter(before, "injected_ipv6");
    System.out.printf(
        "ipv6-clients: redirection: %d IPv6 packets injected, %d onto the link%n",
        injected, linked);
    assertTrue(linked > 100, before + "\n" + after);
    assertEquals(injected, linked, "none through the TUN\n" + before + "\n" + after);
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * The replica: HTTP on the origin (GET from the site directory; POST answers the body's length
   * and SHA-256, so a large request is checked whole) and an iperf3 server beside it, which dies
   * with it (PR_SET_PDEATHSIG) when {@code hydranet vhost} stops it.
   */
  static final String REPLICA =
      String.join(
          "\n",
          "import ctypes, hashlib, http.server, signal, socket, subprocess, sys",
          "origin, port, iperf_port, site = sys.argv[1], int(sys.argv[2]), sys.argv[3],"
              + " sys.argv[4]",
          "libc = ctypes.CDLL(None, use_errno=True)",
          "iperf = subprocess.Popen(['iperf3', '-s', '-B', origin, '-p', iperf_port],",
          "                         preexec_fn=lambda: libc.prctl(1, signal.SIGTERM))",
          "class Handler(http.server.SimpleHTTPRequestHandler):",
          "    def __init__(self, *args, **kwargs):",
          "        super().__init__(*args, directory=site, **kwargs)",
          "    def do_POST(self):",
          "        body = self.rfile.read(int(self.headers['Content-Length']))",
          "        out = ('%d %s\\n' % (len(body), hashlib.sha256(body).hexdigest())).encode()",
          "        self.send_response(200)",
          "        self.send_header('Content-Length', str(len(out)))",
          "        self.end_headers()",
          "        self.wfile.write(out)",
          "class Server(http.server.ThreadingHTTPServer):",
          "    address_family = socket.AF_INET6",
          "signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))",
          "try:",
          "    Server((origin, port), Handler).serve_forever()",
          "finally:",
          "    iperf.terminate()",
          "");

  private static Result curl(String url) throws Exception {
    return curl6(K, "-m", "10", "--retry", "2", url);
  }

  /**
   * A 3-second {@code iperf3 -6} TCP test from the client to {@code server} ({@code what} names the
   * path): Mb/s received, printed with the sender's retransmissions.
   */
  private static double iperf3(String server, String what) throws Exception {
    Result r =
        run(
            "ip",
            "netns",
            "exec",
            K,
            "iperf3",
            "-6",
            "-c",
            server,
            "-p",
            "5201",
            "-t",
            "3",
            "-J",
            "--connect-timeout",
            "5000");
    assertEquals(0, r.exit, r.output + lab.logs());
    double mbps = iperf3ReceivedMbps(r.output);
    System.out.printf(
        "ipv6-clients: iperf3 -6 through %s: %.1f Mbit/s, %d retransmitted%n",
        what, mbps, iperf3Retransmits(r.output));
    return mbps;
  }

  /** The redirector's forwarding-plane table and counters ({@code hydranet ctl status}). */
  private static String status() {
    try {
      return CtlServer.request(work.resolve("r.ctl"), "status");
    } catch (IOException e) {
      return "(no answer from the redirector: " + e + ")";
    }
  }

  private static boolean listening(String ns, String local) {
    try {
      return run("ip", "netns", "exec", ns, "ss", "-Hltn", "src", local).output.contains("LISTEN");
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
