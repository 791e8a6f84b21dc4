package net.hydranet.router.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import net.hydranet.control.agent.HostServerAgent;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.pipeline.Pipeline;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.hostserver.HostServerCounter;
import net.hydranet.hostserver.VirtualHostTable;
import net.hydranet.hostserver.replica.ReplicaService;
import net.hydranet.replica.ReplicaStatus;

/**
 * The host server's answers on its ctl socket ({@code status}, {@code replicas}, {@code announced},
 * {@code all}), as text or, with {@code --json}, one JSON object; and its status text.
 */
final class HostServerViews {
  private final String address;
  private final Counters counters;
  private final VirtualHostTable table;
  private final Supplier<Pipeline> pipeline;
  private final Supplier<HostServerAgent> agent;
  private final Supplier<ReplicaService> replicas;

  HostServerViews(
      String address,
      Counters counters,
      VirtualHostTable table,
      Supplier<Pipeline> pipeline,
      Supplier<HostServerAgent> agent,
      Supplier<ReplicaService> replicas) {
    this.address = address;
    this.counters = counters;
    this.table = table;
    this.pipeline = pipeline;
    this.agent = agent;
    this.replicas = replicas;
  }

  /** {@code hydranet ctl} against a host server: status, replicas, announced, all. */
  String answer(String line) {
    CtlRequest r = CtlRequest.parse(line);
    HostServerAgent agent = this.agent.get();
    try {
      if (r.json()) {
        ObjectNode o = CtlRequest.JSON.createObjectNode();
        switch (r.verb()) {
          case "status" -> statusJson(o);
          case "replicas" -> replicasJson(o);
          case "announced" -> announcedJson(o);
          case "all" -> {
            announcedJson(o);
            statusJson(o);
          }
          default -> {
            return r.unknown(REQUESTS);
          }
        }
        return CtlRequest.answer(o);
      }
      return switch (r.verb()) {
        case "status" -> statusText();
        case "replicas" -> replicasText();
        case "announced", "all" ->
            (agent == null ? "the control plane is off (no --control)\n" : agent.show())
                + (r.verb().equals("all") ? "\n" + statusText() : "");
        default -> r.unknown(REQUESTS);
      };
    } catch (Exception e) {
      return r.error(String.valueOf(e.getMessage()));
    }
  }

  private static final String[] REQUESTS = {"status", "replicas", "announced", "all"};

  private void statusJson(ObjectNode o) {
    Pipeline pipeline = this.pipeline.get();
    o.put("host_server", address)
        .put("virtual_hosts", table.virtualHosts())
        .put("ports", table.boundPorts());
    if (pipeline != null && pipeline.receiveError() != null) {
      o.put("receive_error", pipeline.receiveError().getMessage());
    }
    ObjectNode c = o.putObject("counters");
    for (int i = 0; i < HostServerCounter.count(); i++) {
      c.put(HostServerCounter.of(i).metricName(), counters.get(i));
    }
  }

  private void replicasJson(ObjectNode o) {
    ReplicaService replicas = this.replicas.get();
    if (replicas == null) {
      o.put("error", "the replica service is off (no 'replicas:' in the --control file)");
      return;
    }
    ArrayNode list = o.putArray("replicas");
    Map<String, String> origins = replicas.origins();
    for (ReplicaStatus s : replicas.statuses()) {
      ObjectNode n = CtlRequest.JSON.valueToTree(s);
      list.add(n.put("serving", origins.get(s.name())));
    }
  }

  private void announcedJson(ObjectNode o) throws Exception {
    HostServerAgent agent = this.agent.get();
    if (agent == null) {
      o.putNull("announced");
      return;
    }
    HostServerAgent.Announced a = agent.announced();
    o.put("draining", a.draining());
    ArrayNode list = o.putArray("announced");
    for (var e : a.entries()) {
      list.addObject()
          .put("service", e.service().toString()) // as ForwardingMetrics.label, both families
          .put("weight", e.weight())
          .put("load", e.load());
    }
    ArrayNode to = o.putArray("redirectors");
    a.redirectors().forEach(x -> to.add(Ipv4Header.formatAddress(x)));
    ObjectNode c = o.putObject("control_counters");
    a.counters().forEach(c::put);
  }

  /** {@code hydranet ctl replicas}: each replica's state and use. */
  private String replicasText() {
    ReplicaService replicas = this.replicas.get();
    if (replicas == null) {
      return "the replica service is off (no 'replicas:' in the --control file)\n";
    }
    StringBuilder sb = new StringBuilder();
    List<ReplicaStatus> all = replicas.statuses();
    Map<String, String> origins = replicas.origins();
    sb.append(all.size()).append(" replica(s)\n");
    for (ReplicaStatus s : all) {
      sb.append("  ").append(s).append("  serving ").append(origins.get(s.name())).append('\n');
    }
    var n = replicas.counters();
    for (var c : net.hydranet.hostserver.replica.ReplicaCounter.values()) {
      if (n.get(c) != 0) {
        sb.append(String.format("  %-28s %d%n", c.metricName(), n.get(c)));
      }
    }
    for (var r : net.hydranet.replica.Refusal.values()) {
      if (n.refusals(r) != 0) {
        sb.append(
            String.format(
                "  refused %-20s %d%n",
                r.name().toLowerCase(java.util.Locale.ROOT), n.refusals(r)));
      }
    }
    return sb.toString();
  }

  /** Virtual hosts, ports and the data path's non-zero counters. */
  String statusText() {
    Pipeline pipeline = this.pipeline.get();
    StringBuilder sb = new StringBuilder();
    if (pipeline != null && pipeline.receiveError() != null) {
      sb.append("RECEIVE FAILED: ").append(pipeline.receiveError().getMessage()).append('\n');
    }
    sb.append("host server ")
        .append(address)
        .append(": ")
        .append(table.virtualHosts())
        .append(" virtual host(s), ")
        .append(table.boundPorts())
        .append(" port(s)\n");
    for (int i = 0; i < HostServerCounter.count(); i++) {
      long v = counters.get(i);
      if (v != 0) {
        sb.append(String.format("  %-28s %d%n", HostServerCounter.of(i).metricName(), v));
      }
    }
    return sb.toString();
  }
}
