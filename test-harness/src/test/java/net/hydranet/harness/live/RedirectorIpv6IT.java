package net.hydranet.harness.live;

import static net.hydranet.harness.live.Ipv6Shell.counter;
import static net.hydranet.harness.live.Ipv6Shell.curl6;
import static net.hydranet.harness.live.Ipv6Shell.in;
import static net.hydranet.harness.live.Ipv6Shell.read;
import static net.hydranet.harness.live.Ipv6Shell.run;
import static net.hydranet.harness.live.Ipv6Shell.veth;
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
 * Issue 21 end to end with real daemons and a real client: {@code curl -6} through {@code hydranet
 * redirector} to a replica learned over the control plane (version 2: the host server announces
 * [2001:2::10]:8080/tcp from its virtual host's tcp6 listener), tunnelled in IPv4 protocol 41,
 * decapsulated by {@code hydranet hostserver} into {@code hydranet vhost --origin 2001:2::10}
 * running python's http.server; the answer returns directly, forwarded by the redirector.
 *
 * <p>The redirector's kernel-side transit drop ({@code TransitDrop}) covers IPv6 too: without it
 * the kernel of the redirector's namespace answered every client packet to the origin with an
 * ICMPv6 "no route", and curl failed with "Network is unreachable" although the handshake went
 * through the redirector.
 *
 * <pre>
 * hng5qk (curl)  ──k0/c1──  hng5qc (hydranet redirector --control)  ──c0/h0──  hng5qh
 * 2001:2:0:65::1           c1 198.18.65.1 2001:2:0:65::2                     198.18.64.2 2001:2:0:64::2
 *                          c0 198.18.64.1 2001:2:0:64::1                     hostserver --control, vhost
 * </pre>
 */
@Timeout(150)
class RedirectorIpv6IT {
  private static final String K = "hng5qk";
  private static final String C = "hng5qc";
  private static final String H = "hng5qh";
  private static final String ORIGIN = "2001:2::10";

  private static Ipv6Lab lab;
  private static Path work;

  @BeforeAll
  static void start() throws Exception {
    lab =
        Ipv6Lab.start(
            "hng5q",
            List.of(K, C, H),
            ORIGIN,
            "256m",
            45,
            List.of("curl", "python3", "ip", "ethtool", "nft"));
    work = lab.work;
    Files.createDirectories(work.resolve("site"));
    Files.writeString(work.resolve("site/hello.txt"), "hello through the redirector\n");
    veth(K, "k0", C, "c1", 1500);
    veth(C, "c0", H, "h0", 1500);
    in(K, "ip -6 addr add 2001:2:0:65::1/64 dev k0 nodad");
    in(K, "ip -6 route add default via 2001:2:0:65::2");
    in(C, "ip addr add 198.18.65.1/24 dev c1");
    in(C, "ip addr add 198.18.64.1/24 dev c0");
    in(C, "ip -6 addr add 2001:2:0:65::2/64 dev c1 nodad");
    in(C, "ip -6 addr add 2001:2:0:64::1/64 dev c0 nodad");
    in(C, "sh -c 'echo 0 > /proc/sys/net/ipv4/ip_forward'");
    in(C, "sh -c 'echo 0 > /proc/sys/net/ipv6/conf/all/forwarding'");
    in(H, "ip addr add 198.18.64.2/24 dev h0");
    in(H, "ip -6 addr add 2001:2:0:64::2/64 dev h0 nodad");
    in(H, "ip -6 route add 2001:2:0:65::/64 via 2001:2:0:64::1");
    Path state =
        lab.redirectorAndHostServer(
            C,
            "interfaces:\n"
                + "  - { name: c1, address: 198.18.65.1/24, address6: \"2001:2:0:65::2/64\" }\n"
                + "  - { name: c0, address: 198.18.64.1/24, address6: \"2001:2:0:64::1/64\" }\n",
            "198.18.64.1",
            H,
            "h0",
            "198.18.64.2",
            "hng5qt");
    lab.vhost(
        H,
        state,
        "python3 -m http.server 8080 --bind " + ORIGIN + " --directory " + work.resolve("site"));
    lab.showInLogs("status", () -> read(work.resolve("hs.status")));
    lab.await(
        "the redirector to install the learned IPv6 service",
        () -> read(work.resolve("redirector.log")).contains("table: [2001:2::10]:8080/tcp"));
    lab.await("the redirector's transit table", () -> Ipv6Shell.transitTable(C));
  }

  @AfterAll
  static void stop() throws Exception {
    if (lab != null) {
      lab.stop();
    }
  }

  @Test
  void shouldServeCurl6ThroughTheRedirectorFromAReplicaLearnedOverTheControlPlane()
      throws Exception {
    Result r = curl6(K, "-m", "10", "--retry", "2", "http://[" + ORIGIN + "]:8080/hello.txt");
    assertEquals(0, r.exit, r.output + lab.logs());
    assertTrue(r.output.contains("hello through the redirector"), r.output + lab.logs());
    lab.await(
        "the host server to count it",
        () -> counter(read(work.resolve("hs.status")), "ipv6_in_ipv4") >= 3);
    assertTrue(
        read(work.resolve("redirector.log")).contains("198.18.64.2 reads protocol version 2"),
        lab.logs());
  }

  /**
   * {@code hydranet ctl flows} lists the IPv6 flows (they were in the IPv6 connection table only,
   * which it did not read): a connection held open by the client is pinned to the host server,
   * reached in IPv6-in-IPv4, and shows under the IPv6 table, with the IPv4 one's count beside.
   */
  @Test
  void shouldListAnOpenIpv6ConnectionInCtlFlows() throws Exception {
    Process held =
        lab.spawn(
            K,
            "held",
            "python3 -c \"import socket,time; s=socket.create_connection(('"
                + ORIGIN
                + "', 8080)); print('open', flush=True); time.sleep(60)\"");
    try {
      lab.await("the held connection", () -> read(work.resolve("held.log")).contains("open"));
      Result r =
          run("sh", "-c", lab.hydranet + " ctl --ctl-socket " + work.resolve("r.ctl") + " flows");
      assertEquals(0, r.exit, r.output);
      int at = r.output.indexOf("flows per target (IPv6 connection table)");
      assertTrue(at >= 0, r.output);
      java.util.regex.Matcher m =
          java.util.regex.Pattern.compile("\\n  198\\.18\\.64\\.2 +(\\d+)\\n")
              .matcher(r.output.substring(at));
      assertTrue(m.find(), r.output);
      assertTrue(Integer.parseInt(m.group(1)) >= 1, r.output);
    } finally {
      held.destroy();
    }
  }

  /**
   * Issue 23, item 6: once the host server's kernel has resolved the virtual host's MAC (the first
   * connection's packets, through the TUN, make it ask), a redirected connection's packets go
   * straight onto the virtual host's link, none through the TUN.
   */
  @Test
  void shouldWriteRedirectedIpv6PacketsOntoTheVirtualHostsLink() throws Exception {
    assertEquals(0, hello().exit, lab.logs());
    lab.await(
        "the host server to open the virtual host's link",
        () -> read(work.resolve("hostserver.log")).contains("packets written onto hv6"));
    Thread.sleep(500); // the status file (every 0.1 s) after the first connection's last packets
    String before = read(work.resolve("hs.status"));
    Result r = hello();
    assertEquals(0, r.exit, r.output + lab.logs());
    assertTrue(r.output.contains("hello through the redirector"), r.output + lab.logs());
    long linked = counter(before, "injected_link_ipv6");
    lab.await(
        "the status file to count the second connection on the link",
        () -> counter(read(work.resolve("hs.status")), "injected_link_ipv6") >= linked + 3);
    Thread.sleep(500);
    String after = read(work.resolve("hs.status"));
    assertEquals(
        counter(after, "injected_ipv6") - counter(before, "injected_ipv6"),
        counter(after, "injected_link_ipv6") - linked,
        "none through the TUN\n" + before + "\n" + after);
  }

  private static Result hello() throws Exception {
    return curl6(K, "-m", "10", "--retry", "2", "http://[" + ORIGIN + "]:8080/hello.txt");
  }
}
