package net.hydranet.harness.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import net.hydranet.harness.fixture.RedirectorUnderTest;
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
              "hydranet_redirector_target_weight{address=\"2001:2:0:2::10\","
                  + "host_server=\"2001:2:0:3::2\",port=\"80\",protocol=\"tcp\",} 1.0"),
          body);
      assertTrue(
          body.contains(
              "hydranet_redirector_target_weight{address=\"198.18.2.10\","
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

  private static JsonNode find(JsonNode services, String label) {
    for (JsonNode s : services) {
      if (s.path("service").asText().equals(label)) {
        return s;
      }
    }
    throw new AssertionError("no " + label + " in " + services);
  }
}
