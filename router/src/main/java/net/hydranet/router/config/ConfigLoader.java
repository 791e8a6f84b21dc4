package net.hydranet.router.config;

import static net.hydranet.router.config.YamlFields.address;
import static net.hydranet.router.config.YamlFields.address6;
import static net.hydranet.router.config.YamlFields.bool;
import static net.hydranet.router.config.YamlFields.integer;
import static net.hydranet.router.config.YamlFields.isIpv6;
import static net.hydranet.router.config.YamlFields.known;
import static net.hydranet.router.config.YamlFields.list;
import static net.hydranet.router.config.YamlFields.object;
import static net.hydranet.router.config.YamlFields.prefix;
import static net.hydranet.router.config.YamlFields.prefix6;
import static net.hydranet.router.config.YamlFields.string;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import net.hydranet.forwarding.config.ForwardingContext;
import net.hydranet.forwarding.config.PipelineFeed;
import net.hydranet.forwarding.config.RouterAddress6;
import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.pipeline.FrameSlot;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.router.config.YamlFields.FieldException;

/**
 * Reads a redirector's YAML configuration (see {@code config/redirector.yaml}) into a {@link
 * RedirectorConfig}. Every error is one line naming the file, the field and what is wrong; unknown
 * fields are errors too, so a typo never passes silently.
 */
public final class ConfigLoader {
  private static final Set<String> TOP =
      Set.of("interfaces", "routes", "neighbours", "redirects", "options", "limits");
  private static final Set<String> INTERFACE = Set.of("name", "mac", "address", "address6", "mtu");
  private static final Set<String> ROUTE = Set.of("prefix", "via", "interface");
  private static final Set<String> NEIGHBOUR = Set.of("address", "mac", "interface");
  private static final Set<String> REDIRECT = Set.of("service", "hostServers");
  private static final Set<String> HOST_SERVER = Set.of("address", "weight", "encapsulation");
  private static final Set<String> OPTIONS =
      Set.of(
          "mssClamp",
          "clearDontFragment",
          "outerTtl",
          "icmpRatePerSecond",
          "icmpBurst",
          "dropTransit",
          "gueHostServers");
  private static final Set<String> LIMITS =
      Set.of(
          "redirectCapacity",
          "maxHostServers",
          "routeCapacity",
          "neighbourCapacity",
          "arpQueueFrames",
          "ringSize",
          "inlineBurst",
          "pipelines",
          "pipelineFeed",
          "maglevTableSize",
          "flowCapacity",
          "newFlowsPerSecond",
          "newFlowBurst",
          "tcpIdleSeconds",
          "tcpClosingSeconds",
          "udpIdleSeconds",
          "fragmentContexts",
          "fragmentsHeld",
          "fragmentTimeoutSeconds");

  private final String file;

  /** Resolves what the config leaves out of an interface (live: read from the OS). */
  public interface MacResolver {
    long mac(String interfaceName);

    /**
     * The interface's MTU when the config leaves it out: live, the link's own (a router that
     * assumed 1500 on a smaller link would lose every larger packet without telling its source);
     * {@value ConfigLoader#DEFAULT_MTU} where there is no link to ask.
     */
    default int mtu(String interfaceName) {
      return DEFAULT_MTU;
    }
  }

  /** An interface's MTU when neither the config nor a link says. */
  public static final int DEFAULT_MTU = 1500;

  private ConfigLoader(String file) {
    this.file = file;
  }

  /** Loads {@code path}; MACs left out are an error (replay needs them all). */
  public static RedirectorConfig load(Path path) throws ConfigException {
    return load(path, null);
  }

  /** Loads {@code path}, asking {@code macs} for any interface MAC the file leaves out. */
  public static RedirectorConfig load(Path path, MacResolver macs) throws ConfigException {
    String text;
    try {
      text = Files.readString(path);
    } catch (NoSuchFileException e) {
      throw new ConfigException(path + ": no such file");
    } catch (IOException e) {
      throw new ConfigException(path + ": cannot read: " + e.getMessage());
    }
    return parse(path.toString(), text, macs);
  }

  /** Parses YAML text; {@code file} names it in errors. */
  public static RedirectorConfig parse(String file, String text, MacResolver macs)
      throws ConfigException {
    ConfigLoader loader = new ConfigLoader(file);
    try {
      return loader.parse(text, macs);
    } catch (FieldException e) {
      throw new ConfigException(file + ": " + e.field + ": " + e.getMessage());
    }
  }

  /**
   * The link's MTU for an interface the config gives none; above 9000 (what a ring slot holds, and
   * the most a config may say), 9000: the router then answers larger packets with a Packet Too Big.
   */
  private static int resolvedMtu(MacResolver macs, String name, String at) {
    try {
      return Math.min(macs.mtu(name), FrameSlot.MAX_FRAME - 18);
    } catch (RuntimeException e) {
      throw new FieldException(at + ".mtu", e.getMessage());
    }
  }

  /**
   * The file in the order its sections depend on each other: interfaces, options and limits make
   * the context; routes, neighbours and redirects are checked against it.
   */
  private RedirectorConfig parse(String text, MacResolver macs) throws ConfigException {
    JsonNode root = YamlFields.parse(file, text);
    if (root == null || !root.isObject()) {
      throw new ConfigException(file + ": expected a mapping with 'interfaces' at the top");
    }
    known(root, TOP, "");
    ForwardingContext context = new ForwardingContext();
    // Host servers tunnelled to in the second-chance tunnel: options and
    // hostServers[].encapsulation.
    Set<Integer> gue = new java.util.TreeSet<>();
    interfaces(root, context, macs);
    options(root, context, gue);
    limits(root, context);
    try {
      context.conclude();
    } catch (IllegalArgumentException e) {
      throw new ConfigException(file + ": " + e.getMessage());
    }
    List<RedirectorConfig.Route> routes = new ArrayList<>();
    List<RedirectorConfig.Route6> routes6 = new ArrayList<>();
    routes(root, context, routes, routes6);
    List<RedirectorConfig.Neighbour> neighbours = new ArrayList<>();
    List<RedirectorConfig.Neighbour6> neighbours6 = new ArrayList<>();
    neighbours(root, context, neighbours, neighbours6);
    List<RedirectorConfig.Redirect> redirects = new ArrayList<>();
    List<RedirectorConfig.Redirect6> redirects6 = new ArrayList<>();
    redirects(root, context, gue, redirects, redirects6);
    if (redirects.size() + redirects6.size() > context.redirectCapacity()) {
      throw new FieldException("redirects", "more entries than limits.redirectCapacity");
    }
    context.gueHostServers(gue.stream().mapToInt(Integer::intValue).toArray());
    return new RedirectorConfig(
        context, routes, neighbours, redirects, routes6, neighbours6, redirects6);
  }

  /** interfaces[]: name, address (and address6), MTU, MAC (or asked of {@code macs}). */
  private static void interfaces(JsonNode root, ForwardingContext context, MacResolver macs) {
    JsonNode interfaces = list(root, "interfaces", true);
    for (int i = 0; i < interfaces.size(); i++) {
      String at = "interfaces[" + i + "]";
      JsonNode n = interfaces.get(i);
      object(n, at);
      known(n, INTERFACE, at);
      String name = string(n, "name", at, true);
      int[] address = prefix(string(n, "address", at, true), at + ".address", true);
      int mtu =
          n.has("mtu") || macs == null
              ? integer(n, "mtu", at, DEFAULT_MTU)
              : resolvedMtu(macs, name, at);
      String macText = string(n, "mac", at, false);
      long mac;
      if (macText != null) {
        mac = mac(macText, at + ".mac");
      } else if (macs != null) {
        try {
          mac = macs.mac(name);
        } catch (RuntimeException e) {
          throw new FieldException(at + ".mac", e.getMessage());
        }
      } else {
        throw new FieldException(at + ".mac", "missing (replay needs every interface's MAC)");
      }
      context.addInterface(name, mac, address[0], address[1], mtu);
      String address6 = string(n, "address6", at, false);
      if (address6 != null) {
        long[] a = prefix6(address6, at + ".address6", true);
        context.addInterfaceAddress6(name, a[0], a[1], (int) a[2]);
      }
    }
  }

  /** options: the data path's switches, and the host servers reached in the GUE tunnel. */
  private static void options(JsonNode root, ForwardingContext context, Set<Integer> gue) {
    JsonNode options = root.get("options");
    if (options != null) {
      object(options, "options");
      known(options, OPTIONS, "options");
      context.mssClamp(bool(options, "mssClamp", "options", true));
      context.clearDontFragment(bool(options, "clearDontFragment", "options", false));
      context.dropTransit(bool(options, "dropTransit", "options", true));
      context.outerTtl(
          integer(options, "outerTtl", "options", ForwardingContext.DEFAULT_OUTER_TTL));
      context.icmpRate(
          integer(options, "icmpRatePerSecond", "options", ForwardingContext.DEFAULT_ICMP_RATE));
      context.icmpBurst(
          integer(options, "icmpBurst", "options", ForwardingContext.DEFAULT_ICMP_BURST));
      JsonNode gueList = list(options, "gueHostServers", false, "options");
      for (int i = 0; gueList != null && i < gueList.size(); i++) {
        String at = "options.gueHostServers[" + i + "]";
        if (!gueList.get(i).isTextual()) {
          throw new FieldException(at, "must be an IPv4 address");
        }
        gue.add(address(gueList.get(i).asText(), at));
      }
    }
  }

  /** limits: every table's and queue's size, the rates and the timeouts. */
  private static void limits(JsonNode root, ForwardingContext context) {
    JsonNode limits = root.get("limits");
    if (limits != null) {
      object(limits, "limits");
      known(limits, LIMITS, "limits");
      context.redirectCapacity(
          integer(
              limits, "redirectCapacity", "limits", ForwardingContext.DEFAULT_REDIRECT_CAPACITY));
      context.maxHostServers(
          integer(limits, "maxHostServers", "limits", ForwardingContext.DEFAULT_MAX_HOST_SERVERS));
      context.routeCapacity(
          integer(limits, "routeCapacity", "limits", ForwardingContext.DEFAULT_ROUTE_CAPACITY));
      context.neighbourCapacity(
          integer(
              limits, "neighbourCapacity", "limits", ForwardingContext.DEFAULT_NEIGHBOUR_CAPACITY));
      context.arpQueueFrames(
          integer(limits, "arpQueueFrames", "limits", ForwardingContext.DEFAULT_ARP_QUEUE_FRAMES));
      context.ringSize(integer(limits, "ringSize", "limits", ForwardingContext.DEFAULT_RING_SIZE));
      context.inlineBurst(
          integer(limits, "inlineBurst", "limits", ForwardingContext.DEFAULT_INLINE_BURST));
      context.pipelines(
          integer(limits, "pipelines", "limits", ForwardingContext.DEFAULT_PIPELINES));
      String feed = string(limits, "pipelineFeed", "limits", false);
      if (feed != null) {
        try {
          context.pipelineFeed(PipelineFeed.parse(feed));
        } catch (IllegalArgumentException e) {
          throw new FieldException(
              "limits.pipelineFeed", "must be flow or interface, was '" + feed + "'");
        }
      }
      context.maglevTableSize(
          integer(
              limits, "maglevTableSize", "limits", ForwardingContext.DEFAULT_MAGLEV_TABLE_SIZE));
      context.flowCapacity(
          integer(limits, "flowCapacity", "limits", ForwardingContext.DEFAULT_FLOW_CAPACITY));
      context.newFlowRate(
          integer(limits, "newFlowsPerSecond", "limits", ForwardingContext.DEFAULT_NEW_FLOW_RATE));
      context.newFlowBurst(
          integer(limits, "newFlowBurst", "limits", ForwardingContext.DEFAULT_NEW_FLOW_BURST));
      context.fragmentContexts(
          integer(
              limits, "fragmentContexts", "limits", ForwardingContext.DEFAULT_FRAGMENT_CONTEXTS));
      context.fragmentsHeld(
          integer(limits, "fragmentsHeld", "limits", ForwardingContext.DEFAULT_FRAGMENTS_HELD));
      context.tcpIdleNanos(
          seconds(limits, "tcpIdleSeconds", ForwardingContext.DEFAULT_TCP_IDLE_NANOS));
      context.tcpClosingNanos(
          seconds(limits, "tcpClosingSeconds", ForwardingContext.DEFAULT_TCP_CLOSING_NANOS));
      context.udpIdleNanos(
          seconds(limits, "udpIdleSeconds", ForwardingContext.DEFAULT_UDP_IDLE_NANOS));
      context.fragmentTimeoutNanos(
          seconds(
              limits, "fragmentTimeoutSeconds", ForwardingContext.DEFAULT_FRAGMENT_TIMEOUT_NANOS));
    }
  }

  /** routes[]: IPv4 ones here, IPv6 ones ({@code prefix} with a colon) to {@code routes6}. */
  private static void routes(
      JsonNode root,
      ForwardingContext context,
      List<RedirectorConfig.Route> routes,
      List<RedirectorConfig.Route6> routes6) {
    JsonNode routeList = list(root, "routes", false);
    for (int i = 0; routeList != null && i < routeList.size(); i++) {
      String at = "routes[" + i + "]";
      JsonNode n = routeList.get(i);
      object(n, at);
      known(n, ROUTE, at);
      if (isIpv6(string(n, "prefix", at, true))) {
        routes6.add(route6(context, n, at));
        continue;
      }
      int[] prefix = prefix(string(n, "prefix", at, true), at + ".prefix", false);
      String viaText = string(n, "via", at, false);
      int via = viaText == null ? 0 : address(viaText, at + ".via");
      String ifName = string(n, "interface", at, false);
      int ifIndex;
      if (ifName != null) {
        ifIndex = interfaceIndex(context, ifName, at + ".interface");
      } else if (via != 0) {
        ifIndex = onLinkInterface(context, via, at + ".via");
      } else {
        throw new FieldException(at, "needs 'via' or 'interface'");
      }
      routes.add(new RedirectorConfig.Route(prefix[0], prefix[1], via, ifIndex));
    }
  }

  /** neighbours[]: static ARP and ND entries. */
  private static void neighbours(
      JsonNode root,
      ForwardingContext context,
      List<RedirectorConfig.Neighbour> neighbours,
      List<RedirectorConfig.Neighbour6> neighbours6) {
    JsonNode neighbourList = list(root, "neighbours", false);
    for (int i = 0; neighbourList != null && i < neighbourList.size(); i++) {
      String at = "neighbours[" + i + "]";
      JsonNode n = neighbourList.get(i);
      object(n, at);
      known(n, NEIGHBOUR, at);
      if (isIpv6(string(n, "address", at, true))) {
        long[] a = address6(string(n, "address", at, true), at + ".address");
        long mac = mac(string(n, "mac", at, true), at + ".mac");
        String ifName = string(n, "interface", at, false);
        int ifIndex =
            ifName != null
                ? interfaceIndex(context, ifName, at + ".interface")
                : onLinkInterface6(context, a, at + ".address");
        neighbours6.add(new RedirectorConfig.Neighbour6(a[0], a[1], mac, ifIndex));
        continue;
      }
      int address = address(string(n, "address", at, true), at + ".address");
      long mac = mac(string(n, "mac", at, true), at + ".mac");
      String ifName = string(n, "interface", at, false);
      int ifIndex =
          ifName != null
              ? interfaceIndex(context, ifName, at + ".interface")
              : onLinkInterface(context, address, at + ".address");
      neighbours.add(new RedirectorConfig.Neighbour(address, mac, ifIndex));
    }
  }

  /** redirects[]: services and their host servers ({@code [v6]:port} services to redirects6). */
  private static void redirects(
      JsonNode root,
      ForwardingContext context,
      Set<Integer> gue,
      List<RedirectorConfig.Redirect> redirects,
      List<RedirectorConfig.Redirect6> redirects6) {
    JsonNode redirectList = list(root, "redirects", false);
    for (int i = 0; redirectList != null && i < redirectList.size(); i++) {
      String at = "redirects[" + i + "]";
      JsonNode n = redirectList.get(i);
      object(n, at);
      known(n, REDIRECT, at);
      String serviceText = string(n, "service", at, true);
      JsonNode servers = list(n, "hostServers", true, at);
      if (servers.size() > context.maxHostServers()) {
        throw new FieldException(
            at + ".hostServers",
            servers.size()
                + " host servers, more than limits.maxHostServers ("
                + context.maxHostServers()
                + ")");
      }
      if (serviceText.startsWith("[")) {
        redirects6.add(redirect6(serviceText, servers, at));
        continue;
      }
      int[] service = service(serviceText, at + ".service");
      int[] addresses = new int[servers.size()];
      int[] weights = new int[servers.size()];
      for (int j = 0; j < servers.size(); j++) {
        String hat = at + ".hostServers[" + j + "]";
        JsonNode h = servers.get(j);
        object(h, hat);
        known(h, HOST_SERVER, hat);
        String hostText = string(h, "address", hat, true);
        if (isIpv6(hostText)) {
          throw new FieldException(
              hat + ".address",
              "'" + hostText + "': an IPv4 service's host servers are IPv4 addresses");
        }
        addresses[j] = address(hostText, hat + ".address");
        weights[j] = integer(h, "weight", hat, 1);
        if (weights[j] < 0 || weights[j] > 65_535) {
          throw new FieldException(hat + ".weight", "must be 0..65535");
        }
        String encapsulation = string(h, "encapsulation", hat, false);
        if ("gue".equals(encapsulation)) {
          gue.add(addresses[j]);
        } else if (encapsulation != null && !encapsulation.equals("ipip")) {
          throw new FieldException(
              hat + ".encapsulation", "must be ipip or gue, was '" + encapsulation + "'");
        }
      }
      redirects.add(
          new RedirectorConfig.Redirect(service[0], service[1], service[2], addresses, weights));
    }
  }

  // ---- IPv6 ----

  /** An IPv6 route: prefix, and a next hop or an interface (a link-local next hop needs both). */
  private static RedirectorConfig.Route6 route6(ForwardingContext context, JsonNode n, String at) {
    long[] prefix = prefix6(string(n, "prefix", at, true), at + ".prefix", false);
    String viaText = string(n, "via", at, false);
    long[] via = viaText == null ? new long[2] : address6(viaText, at + ".via");
    String ifName = string(n, "interface", at, false);
    int ifIndex;
    if (ifName != null) {
      ifIndex = interfaceIndex(context, ifName, at + ".interface");
    } else if (viaText != null) {
      ifIndex = onLinkInterface6(context, via, at + ".via");
    } else {
      throw new FieldException(at, "needs 'via' or 'interface'");
    }
    return new RedirectorConfig.Route6(
        prefix[0], prefix[1], (int) prefix[2], via[0], via[1], ifIndex);
  }

  /**
   * "[2001:2:0:2::10]:80/tcp" and its host servers: IPv4 addresses (IPv6-in-IPv4) or IPv6 ones
   * (IPv6-in-IPv6).
   */
  private static RedirectorConfig.Redirect6 redirect6(String text, JsonNode servers, String at) {
    String field = at + ".service";
    int close = text.indexOf(']');
    if (close < 0 || text.length() < close + 2 || text.charAt(close + 1) != ':') {
      throw new FieldException(field, "'" + text + "' is not [ADDRESS]:PORT/tcp or /udp");
    }
    long[] address = address6(text.substring(1, close), field);
    if (Ipv6Header.isMulticast(address[0])
        || Ipv6Header.isLinkLocal(address[0])
        || Ipv6Header.isUnspecified(address[0], address[1])
        || Ipv6Header.isLoopback(address[0], address[1])) {
      throw new FieldException(field, "'" + text + "' is not a global unicast address");
    }
    int[] portProtocol = portProtocol(text, close + 1, field);
    List<RedirectorConfig.HostServer> hosts = new ArrayList<>();
    for (int j = 0; j < servers.size(); j++) {
      String hat = at + ".hostServers[" + j + "]";
      JsonNode h = servers.get(j);
      object(h, hat);
      known(h, HOST_SERVER, hat);
      String hostText = string(h, "address", hat, true);
      int weight = integer(h, "weight", hat, 1);
      if (weight < 0 || weight > 65_535) {
        throw new FieldException(hat + ".weight", "must be 0..65535");
      }
      if (isIpv6(hostText)) {
        long[] a = address6(hostText, hat + ".address");
        if (Ipv6Header.isMulticast(a[0])
            || Ipv6Header.isLinkLocal(a[0])
            || Ipv6Header.isUnspecified(a[0], a[1])
            || Ipv6Header.isLoopback(a[0], a[1])) {
          throw new FieldException(
              hat + ".address", "'" + hostText + "' is not a global unicast address");
        }
        hosts.add(new RedirectorConfig.HostServer(0, a[0], a[1], weight));
      } else {
        hosts.add(
            new RedirectorConfig.HostServer(address(hostText, hat + ".address"), 0, 0, weight));
      }
    }
    return new RedirectorConfig.Redirect6(
        address[0], address[1], portProtocol[1], portProtocol[0], hosts);
  }

  /** The interface whose IPv6 prefix holds the address. */
  private static int onLinkInterface6(ForwardingContext context, long[] address, String field) {
    for (RouterAddress6 a : context.addresses6()) {
      if (a.onLink(address[0], address[1])) {
        return a.interfaceIndex();
      }
    }
    throw new FieldException(
        field,
        Ipv6Header.formatAddress(address[0], address[1])
            + " is on no interface's IPv6 prefix; name 'interface'");
  }

  // ---- field readers in YamlFields; these two are the redirector's own ----

  /** A whole number of seconds under limits, as nanoseconds; the default is in nanoseconds. */
  private static long seconds(JsonNode limits, String field, long dfltNanos) {
    if (limits.get(field) == null || limits.get(field).isNull()) {
      return dfltNanos;
    }
    return integer(limits, field, "limits", 0) * 1_000_000_000L;
  }

  private static long mac(String text, String field) {
    try {
      return EthernetHeader.parseMac(text);
    } catch (IllegalArgumentException e) {
      throw new FieldException(
          field, "'" + text + "' is not a MAC address (like 02:00:00:00:00:01)");
    }
  }

  /** "198.18.2.10:80/tcp" → {address, protocol, port}. */
  private static int[] service(String text, String field) {
    int colon = text.indexOf(':');
    int slash = text.indexOf('/');
    if (colon < 0 || slash < colon) {
      throw new FieldException(field, "'" + text + "' is not ADDRESS:PORT/tcp or /udp");
    }
    int address = address(text.substring(0, colon), field);
    int[] portProtocol = portProtocol(text, colon, field);
    return new int[] {address, portProtocol[1], portProtocol[0]};
  }

  /** ":80/tcp" from {@code colon} on → {port, protocol}. */
  private static int[] portProtocol(String text, int colon, String field) {
    int slash = text.indexOf('/', colon);
    if (slash < 0) {
      throw new FieldException(field, "'" + text + "' has no /tcp or /udp");
    }
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1, slash));
    } catch (NumberFormatException e) {
      throw new FieldException(field, "'" + text + "' has no valid port");
    }
    if (port < 1 || port > 65_535) {
      throw new FieldException(field, "port " + port + " is outside 1..65535");
    }
    String proto = text.substring(slash + 1);
    int protocol;
    if (proto.equalsIgnoreCase("tcp")) {
      protocol = Ipv4Header.PROTOCOL_TCP;
    } else if (proto.equalsIgnoreCase("udp")) {
      protocol = Ipv4Header.PROTOCOL_UDP;
    } else {
      throw new FieldException(field, "protocol '" + proto + "' is not tcp or udp");
    }
    return new int[] {port, protocol};
  }

  private static int interfaceIndex(ForwardingContext context, String name, String field) {
    RouterInterface i = context.interfaceNamed(name);
    if (i == null) {
      throw new FieldException(field, "no interface called '" + name + "'");
    }
    return i.index();
  }

  private static int onLinkInterface(ForwardingContext context, int address, String field) {
    for (RouterInterface i : context.interfaces()) {
      if ((address & RouterInterface.mask(i.prefixLength())) == i.network()) {
        return i.index();
      }
    }
    throw new FieldException(
        field,
        Ipv4Header.formatAddress(address) + " is on no interface's network; name 'interface'");
  }
}
