package net.hydranet.router.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.hostserver.HostServerCounter;
import net.hydranet.hostserver.VirtualHostTable;
import org.junit.jupiter.api.Test;

/** The host server's ctl answers, text and JSON, and their exit codes at the client. */
class HostServerViewsTest {
  private final Counters counters = new Counters(HostServerCounter.count());
  private final VirtualHostTable table = new VirtualHostTable();
  private final HostServerViews views =
      new HostServerViews("198.18.1.20", counters, table, () -> null, () -> null, () -> null);

  @Test
  void shouldAnswerStatusAsTextAndJson() throws Exception {
    counters.add(HostServerCounter.of(0).id(), 1);
    table.addVirtualHost(0xC612020A);

    String text = views.answer("status");
    JsonNode json = CtlRequest.JSON.readTree(views.answer("status --json"));

    assertTrue(text.startsWith("host server 198.18.1.20: 1 virtual host(s), 0 port(s)"), text);
    assertEquals(0, CtlRequest.exitCode(text));
    assertEquals("198.18.1.20", json.get("host_server").asText());
    assertEquals(1, json.get("virtual_hosts").asInt());
    assertEquals(1, json.get("counters").get(HostServerCounter.of(0).metricName()).asLong());
  }

  @Test
  void shouldRefuseAnUnknownRequestAndSayWhenAServiceIsOff() throws Exception {
    String unknown = views.answer("tabel");
    String replicas = views.answer("--json replicas");

    assertEquals(2, CtlRequest.exitCode(unknown));
    assertTrue(unknown.contains("status, replicas, announced, all"), unknown);
    assertEquals(1, CtlRequest.exitCode(replicas), replicas);
    assertTrue(views.answer("all").startsWith("the control plane is off"));
  }
}
