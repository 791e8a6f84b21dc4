package net.hydranet.harness.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import net.hydranet.control.wire.Addresses;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.harness.fixture.CapturingTxPort;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.harness.packet.PacketBuilder;
import net.hydranet.router.cli.RedirectorViews;
import net.hydranet.router.metrics.ForwardingMetrics;
import net.hydranet.router.metrics.MetricsEndpoint;
import net.hydranet.router.metrics.Sampler;
import org.junit.jupiter.api.Test;

/**
 * The forwarding plane's IPv6 services as the operator sees them (issue 21, item 5), from the
 * sample's {@code [2001:2:0:2::10]:80/tcp} redirected to the IPv6 host server {@code
 * 2001:2:0:3::2}: the per-host-server series and {@code ctl status/table --json} name the service
 * and its host server by their IPv6 addresses. They read {@code 0.0.0.0} for every IPv6 service (so
 * two IPv6 services of one port shared one series) and the host server's internal id ({@code
 * 0.0.0.1}) before.
 */
class Ipv6PlaneViewsTest {
  private static final String SERVICE = "[2001:2:0:2::10]:80/tcp";
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void shouldLabelTheIpv6ServiceAndItsHostServerInThePerHostServerSeries() throws Exception {
    try (MetricsEndpoint endpoint = MetricsEndpoint.start("127.0.0.1:0")) {
      RedirectorUnderTest router = new RedirectorUnderTest();
      Sampler sampler = new Sampler(router.plane(), 60_000);
      new ForwardingMetrics(endpoint.registry(), router.plane()).targets(sampler);
      sampler.start().close(); // one sample: the per-host-server series exist
      String body = endpoint.scrape();
      assertTrue(
          body.contains(
              "hydranet_redirector_target_weight{address=\"2001:2:0:2::10\",family=\"ipv6\","
                  + "host_server=\"2001:2:0:3::2\",port=\"80\",protocol=\"tcp\",} 1.0"),
          body);
      assertTrue(
          body.contains(
              "hydranet_redirector_target_weight{address=\"198.18.2.10\",family=\"ipv4\","
                  + "host_server=\"198.18.3.2\",port=\"80\",protocol=\"tcp\",}"),
          "the IPv4 service as before\n" + body);
      assertFalse(body.contains("address=\"0.0.0.0\""), body);
      assertFalse(body.contains("host_server=\"0.0.0."), body);
    }
  }

  @Test
  void shouldNameTheIpv6ServiceAndItsHostServerInCtlJson() throws Exception {
    RedirectorViews views = new RedirectorViews(new RedirectorUnderTest().plane(), () -> null);

    JsonNode status = JSON.readTree(views.answer("status --json"));
    JsonNode redirect = find(status.path("redirects"), SERVICE);
    assertEquals(
        "2001:2:0:3::2",
        redirect.path("host_servers").get(0).path("address").asText(),
        status + "");

    JsonNode table = JSON.readTree(views.answer("table --json"));
    JsonNode service = find(table.path("table"), SERVICE);
    assertEquals("ipv6", service.path("family").asText(), service.toString());
    assertEquals("2001:2:0:2::10", service.path("address").asText(), service.toString());
    assertEquals(
        "2001:2:0:3::2",
        service.path("candidates").get(0).path("host_server").asText(),
        service.toString());
  }

  /**
   * IPv6 flows in {@code ctl flows} (text and JSON) and the live-flow gauges: SYNs of five clients
   * to two IPv6 services — three to the sample's, in IPv6-in-IPv6 to 2001:2:0:3::2, two to one in
   * IPv6-in-IPv4 to 198.18.3.2 — and one to a port without a service (pinned to the origin). They
   * were missing from both views before: only the IPv4 connection table was walked.
   */
  @Test
  void shouldCountIpv6FlowsPerTargetInCtlFlowsAndTheGauges() throws Exception {
    RedirectorUnderTest router = new RedirectorUnderTest();
    ForwardingPlane plane = router.plane();
    long[] other = Addresses.parseIpv6("2001:2:0:2::11");
    plane.addRedirect6(
        other[0], other[1], 6, 443, new int[] {Addresses.parse("198.18.3.2")}, new int[] {1});
    // The walk reads flows live at System.nanoTime(): run the pipeline's clock from there.
    router.advance(System.nanoTime());
    for (int c = 1; c <= 3; c++) {
      syn(router, "2001:2:0:1::" + (0x100 + c), "2001:2:0:2::10", 80);
    }
    syn(router, "2001:2:0:1::201", "2001:2:0:2::11", 443);
    syn(router, "2001:2:0:1::202", "2001:2:0:2::11", 443);
    syn(router, "2001:2:0:1::203", "2001:2:0:2::10", 22);
    RedirectorViews views = new RedirectorViews(plane, () -> null);

    String text = views.answer("flows");
    String v6 = text.substring(text.indexOf("flows per target (IPv6 connection table)"));
    assertTrue(v6.contains("\n  origin          1\n"), text);
    assertTrue(v6.contains("\n  2001:2:0:3::2   3\n"), text);
    assertTrue(v6.contains("\n  198.18.3.2      2\n"), text);
    assertTrue(
        text.startsWith("flows per target (connection table)\n  (none)\n"),
        "no IPv4 flow\n" + text);

    JsonNode json = JSON.readTree(views.answer("flows --json")).path("flows");
    assertEquals(0, json.path("live").asInt(), json.toString());
    assertEquals(6, json.path("ipv6").path("live").asInt(), json.toString());
    JsonNode perTarget = json.path("ipv6").path("per_target");
    assertEquals(1, perTarget.path("origin").asInt(), json.toString());
    assertEquals(3, perTarget.path("2001:2:0:3::2").asInt(), json.toString());
    assertEquals(2, perTarget.path("198.18.3.2").asInt(), json.toString());

    String body = scrape(plane);
    assertTrue(body.contains("hydranet_redirector_active_flows{family=\"ipv6\",} 6.0"), body);
    assertTrue(body.contains("hydranet_redirector_active_flows{family=\"ipv4\",} 0.0"), body);
    assertTrue(
        body.contains(
            "hydranet_redirector_target_active_flows{address=\"2001:2:0:2::10\",family=\"ipv6\","
                + "host_server=\"2001:2:0:3::2\",port=\"80\",protocol=\"tcp\",} 3.0"),
        body);
    assertTrue(
        body.contains(
            "hydranet_redirector_target_active_flows{address=\"2001:2:0:2::11\",family=\"ipv6\","
                + "host_server=\"198.18.3.2\",port=\"443\",protocol=\"tcp\",} 2.0"),
        body);
    assertTrue(
        body.contains(
            "hydranet_redirector_target_active_flows{address=\"198.18.2.10\",family=\"ipv4\","
                + "host_server=\"198.18.3.2\",port=\"80\",protocol=\"tcp\",} 0.0"),
        "the IPv4 service's series as before\n" + body);

    // A second IPv6 service of port 80 on the same host server: an IPv6 flow's entry keeps no
    // destination address, so the two services' flows there read unknown, not a guess; the
    // other service and the flows per target stay exact.
    long[] third = Addresses.parseIpv6("2001:2:0:2::12");
    plane.addRedirect6(
        third[0],
        third[1],
        6,
        80,
        new int[] {
          plane.ipv6HostServer(
              Addresses.parseIpv6("2001:2:0:3::2")[0], Addresses.parseIpv6("2001:2:0:3::2")[1])
        },
        new int[] {1});
    body = scrape(plane);
    assertTrue(
        body.contains(
            "hydranet_redirector_target_active_flows{address=\"2001:2:0:2::10\",family=\"ipv6\","
                + "host_server=\"2001:2:0:3::2\",port=\"80\",protocol=\"tcp\",} NaN"),
        body);
    assertTrue(
        body.contains(
            "hydranet_redirector_target_active_flows{address=\"2001:2:0:2::12\",family=\"ipv6\","
                + "host_server=\"2001:2:0:3::2\",port=\"80\",protocol=\"tcp\",} NaN"),
        body);
    assertTrue(
        body.contains(
            "hydranet_redirector_target_active_flows{address=\"2001:2:0:2::11\",family=\"ipv6\","
                + "host_server=\"198.18.3.2\",port=\"443\",protocol=\"tcp\",} 2.0"),
        body);
    assertTrue(views.answer("flows").contains("\n  2001:2:0:3::2   3\n"));
  }

  private static void syn(RedirectorUnderTest router, String client, String service, int port) {
    List<CapturingTxPort.Sent> sent =
        router.receive(
            0,
            PacketBuilder.ethernet(0x0200_0000_010aL, 0x0200_0000_0101L)
                .ipv6(client, service)
                .hopLimit(64)
                .tcp(40_000, port)
                .flags(0x02)
                .build());
    assertEquals(1, sent.size(), client + " -> " + service + ": " + sent);
  }

  /** One sample with the connection tables walked, and the registry's text. */
  private static String scrape(ForwardingPlane plane) throws Exception {
    try (MetricsEndpoint endpoint = MetricsEndpoint.start("127.0.0.1:0")) {
      Sampler sampler = new Sampler(plane, 60_000);
      new ForwardingMetrics(endpoint.registry(), plane).targets(sampler);
      sampler.start().close();
      return endpoint.scrape();
    }
  }

  private static JsonNode find(JsonNode services, String label) {
    for (JsonNode s : services) {
      if (s.path("service").asText().equals(label)) {
        return s;
      }
    }
    throw new AssertionError("no " + label + " in " + services);
  }
}
