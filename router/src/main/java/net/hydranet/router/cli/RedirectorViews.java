package net.hydranet.router.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import net.hydranet.control.agent.RedirectorAgent;
import net.hydranet.control.rib.Rib;
import net.hydranet.control.wire.Addresses;
import net.hydranet.control.wire.Service;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.router.metrics.PlaneSnapshot;
import net.hydranet.router.status.Summary;

/**
 * The redirector's answers on its ctl socket: {@code table}, {@code peers}, {@code counters} (the
 * control plane's), {@code flows}, {@code status} (the forwarding plane's) and {@code all}, as text
 * or, with {@code --json}, as one JSON object.
 */
public final class RedirectorViews {
  public static final String[] REQUESTS = {"table", "peers", "counters", "flows", "status", "all"};

  private final ForwardingPlane plane;
  private final Supplier<RedirectorAgent> agent;

  public RedirectorViews(ForwardingPlane plane, Supplier<RedirectorAgent> agent) {
    this.plane = plane;
    this.agent = agent;
  }

  public String answer(String line) {
    CtlRequest r = CtlRequest.parse(line);
    try {
      return r.json() ? json(r) : text(r);
    } catch (Exception e) {
      return r.error(String.valueOf(e.getMessage()));
    }
  }

  private String text(CtlRequest r) throws Exception {
    RedirectorAgent a = agent.get();
    return switch (r.verb()) {
      case "status" -> status(plane);
      case "flows" -> flows(PlaneSnapshot.take(plane, true));
      case "table", "peers", "counters", "all" ->
          a == null
              ? "the control plane is off (no --control); the table is the config file's\n\n"
                  + status(plane)
              : a.show(r.verb())
                  + (r.verb().equals("all") ? "\n" + flows(PlaneSnapshot.take(plane, true)) : "");
      default -> r.unknown(REQUESTS);
    };
  }

  private String json(CtlRequest r) throws Exception {
    RedirectorAgent a = agent.get();
    RedirectorAgent.Snapshot control = a == null ? null : a.snapshot();
    ObjectNode o = CtlRequest.JSON.createObjectNode();
    switch (r.verb()) {
      case "status" -> status(o, PlaneSnapshot.take(plane, false));
      case "flows" -> flows(o, PlaneSnapshot.take(plane, true));
      case "table" -> table(o, control, PlaneSnapshot.take(plane, false));
      case "peers" -> peers(o, control);
      case "counters" -> counters(o, control);
      case "all" -> {
        PlaneSnapshot p = PlaneSnapshot.take(plane, true);
        table(o, control, p);
        peers(o, control);
        counters(o, control);
        flows(o, p);
        status(o, p);
      }
      default -> {
        return r.unknown(REQUESTS);
      }
    }
    return CtlRequest.answer(o);
  }

  /** "table": each service's candidates with where each came from; the config's without control. */
  static void table(ObjectNode o, RedirectorAgent.Snapshot control, PlaneSnapshot plane) {
    ArrayNode table = o.putArray("table");
    if (control == null) {
      for (PlaneSnapshot.Service s : plane.services()) {
        ArrayNode c = service(table, s.key());
        for (PlaneSnapshot.Target t : s.targets()) {
          c.addObject()
              .put("host_server", t.address())
              .put("source", "static")
              .put("weight", t.weight())
              .put("selected", t.weight() > 0);
        }
      }
      return;
    }
    for (Map.Entry<Service, List<Rib.Candidate>> e : control.table().entrySet()) {
      ArrayNode c = service(table, e.getKey());
      for (Rib.Candidate k : e.getValue()) {
        c.addObject()
            .put("host_server", k.hostServerText())
            .put("distance", k.distance())
            .put("source", source(k.via()))
            .put("weight", k.weight())
            .put("load", k.load())
            .put("selected", k.selected());
      }
    }
  }

  /** Where a candidate came from, as the text table says it. */
  static String source(int via) {
    return via == -1 ? "static" : via == 0 ? "direct" : "via " + Addresses.format(via);
  }

  /** A service of either family: its label as the metrics write it, address, family. */
  private static ArrayNode service(ArrayNode table, Service s) {
    if (s.isIpv4()) {
      return service(table, s.ipv4Origin(), s.protocol(), s.port());
    }
    return table
        .addObject()
        .put("service", s.toString())
        .put("address", s.originText())
        .put("family", "ipv6")
        .put("port", s.port())
        .put("protocol", s.protocol() == Ipv4Header.PROTOCOL_TCP ? "tcp" : "udp")
        .putArray("candidates");
  }

  private static ArrayNode service(ArrayNode table, int address, int protocol, int port) {
    return table
        .addObject()
        .put(
            "service", net.hydranet.router.metrics.ForwardingMetrics.label(address, protocol, port))
        .put("address", Ipv4Header.formatAddress(address))
        .put("family", "ipv4")
        .put("port", port)
        .put("protocol", protocol == Ipv4Header.PROTOCOL_TCP ? "tcp" : "udp")
        .putArray("candidates");
  }

  private static void peers(ObjectNode o, RedirectorAgent.Snapshot control) {
    ArrayNode hs = o.putArray("host_servers");
    ArrayNode peers = o.putArray("peers");
    if (control != null) {
      control.hostServers().forEach((a, d) -> state(hs, a, d));
      control.peers().forEach((a, d) -> state(peers, a, d));
    }
  }

  private static void state(ArrayNode to, int address, String state) {
    to.addObject().put("address", Addresses.format(address)).put("state", state);
  }

  private static void counters(ObjectNode o, RedirectorAgent.Snapshot control) {
    ObjectNode c = o.putObject("control_counters");
    if (control != null) {
      control.counters().forEach(c::put);
    }
  }

  /**
   * "flows": the IPv4 connection table's live flows and flows per target at the top, as before, and
   * the IPv6 table's in the same shape under "ipv6" (its targets: "origin", an IPv4 host server
   * reached in IPv6-in-IPv4, or an IPv6 one).
   */
  static void flows(ObjectNode o, PlaneSnapshot p) {
    ObjectNode f = o.putObject("flows");
    f.put("live", p.flows());
    ObjectNode by = f.putObject("per_target");
    p.flowsPerTarget()
        .forEach((t, n) -> by.put(t == 0 ? "origin" : Ipv4Header.formatAddress(t), n));
    ObjectNode f6 = f.putObject("ipv6");
    f6.put("live", p.flows6());
    ObjectNode by6 = f6.putObject("per_target");
    p.flowsPerTarget6().forEach(by6::put);
  }

  private static void status(ObjectNode o, PlaneSnapshot p) {
    ArrayNode services = o.putArray("redirects");
    for (PlaneSnapshot.Service s : p.services()) {
      ObjectNode n =
          services
              .addObject()
              .put("service", s.label())
              .put("packets", s.packets())
              .put("bytes", s.bytes());
      ArrayNode t = n.putArray("host_servers");
      for (PlaneSnapshot.Target x : s.targets()) {
        t.addObject()
            .put("address", x.address())
            .put("weight", x.weight())
            .put("packets", x.packets())
            .put("bytes", x.bytes());
      }
    }
    ObjectNode c = o.putObject("counters");
    p.counters().forEach(c::put);
  }

  /**
   * Live flows per target in the IPv4 connection table, then in the IPv6 one, counted on the
   * forwarding thread.
   */
  static String flows(PlaneSnapshot p) {
    StringBuilder sb = new StringBuilder("flows per target (connection table)\n");
    if (p.flowsPerTarget().isEmpty()) {
      sb.append("  (none)\n");
    }
    p.flowsPerTarget()
        .forEach((t, n) -> line(sb, t == 0 ? "origin" : Ipv4Header.formatAddress(t), n));
    sb.append("flows per target (IPv6 connection table)\n");
    if (p.flowsPerTarget6().isEmpty()) {
      sb.append("  (none)\n");
    }
    p.flowsPerTarget6().forEach((t, n) -> line(sb, t, n));
    return sb.toString();
  }

  private static void line(StringBuilder sb, String target, int flows) {
    sb.append(String.format("  %-15s %d%n", target, flows));
  }

  /**
   * The forwarding plane's table and counters as text: the table copied on the forwarding thread
   * ({@link PlaneSnapshot#take}), the text made here.
   */
  static String status(ForwardingPlane plane) throws Exception {
    PlaneSnapshot snapshot = PlaneSnapshot.take(plane, false);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (PrintStream ps = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      Summary.print(ps, snapshot, plane);
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
