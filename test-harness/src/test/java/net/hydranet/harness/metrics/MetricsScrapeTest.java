package net.hydranet.harness.metrics;

import static net.hydranet.harness.fixture.SampleTopology.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.harness.packet.PacketBuilder;
import net.hydranet.router.metrics.ForwardingMetrics;
import net.hydranet.router.metrics.MetricsEndpoint;
import org.junit.jupiter.api.Test;

/** The redirector's /metrics over real HTTP: names, bounded labels, and values that add up. */
class MetricsScrapeTest {
  @Test
  void shouldServeTheCountersUnderPrometheusNamesOnLoopback() throws Exception {
    RedirectorUnderTest router = new RedirectorUnderTest();
    PacketBuilder client = PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC);
    router.receive(CLIENT0, client.ipv4(CLIENT, ORIGIN).tcp(40000, HTTP).payload(10).build());
    router.receive(
        CLIENT0,
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv4(CLIENT, ORIGIN)
            .tcp(40001, 22)
            .build());
    router.receive(
        CLIENT0,
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv4(CLIENT, ORIGIN)
            .udp(1, 2)
            .badIpChecksum()
            .build());

    try (MetricsEndpoint endpoint = MetricsEndpoint.start("127.0.0.1:0")) {
      ForwardingMetrics meters = new ForwardingMetrics(endpoint.registry(), router.plane());
      meters.services(
          List.of(new int[] {ORIGIN, Ipv4Header.PROTOCOL_TCP, HTTP}, new int[] {ORIGIN, 17, DNS}));
      long[] origin6 = net.hydranet.forwarding.wire.Ipv6Header.parseAddress("2001:2:0:2::10");
      meters.services6(List.<long[]>of(new long[] {origin6[0], origin6[1], 6, HTTP}));
      assertTrue(endpoint.address().getAddress().isLoopbackAddress());
      // Micrometer holds function-counter state weakly: a series must survive a collection.
      System.gc();
      String body =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create(
                              "http://127.0.0.1:" + endpoint.address().getPort() + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      assertEquals(3.0, value(body, "hydranet_redirector_received_packets_total"));
      assertEquals(1.0, value(body, "hydranet_redirector_packets_total{outcome=\"redirected\",}"));
      assertEquals(1.0, value(body, "hydranet_redirector_packets_total{outcome=\"forwarded\",}"));
      assertEquals(
          1.0,
          value(body, "hydranet_redirector_dropped_packets_total{reason=\"bad_ip_checksum\",}"));
      assertEquals(
          1.0,
          value(
              body, "hydranet_redirector_service_packets_total{service=\"198.18.2.10:80/tcp\",}"));
      assertEquals(
          0.0,
          value(
              body,
              "hydranet_redirector_service_packets_total{service=\"[2001:2:0:2::10]:80/tcp\",}"),
          "the sample's IPv6 service, labelled as ctl shows it");
      assertEquals(
          0.0,
          value(
              body, "hydranet_redirector_service_packets_total{service=\"198.18.2.10:53/udp\",}"));
      assertTrue(value(body, "hydranet_redirector_rx_bytes_total") > 0);
      assertTrue(body.contains("jvm_memory_used_bytes"), "JVM metrics too");
      assertTrue(!body.contains("198.18.1.10"), "never a label per client address");
    }
  }

  private static double value(String body, String series) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(body);
    assertTrue(m.find(), "no series " + series);
    return Double.parseDouble(m.group(1));
  }
}
