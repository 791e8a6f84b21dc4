package net.hydranet.router.config;

import static net.hydranet.router.config.YamlFields.address;
import static net.hydranet.router.config.YamlFields.integer;
import static net.hydranet.router.config.YamlFields.known;
import static net.hydranet.router.config.YamlFields.list;
import static net.hydranet.router.config.YamlFields.nodeAddress;
import static net.hydranet.router.config.YamlFields.object;
import static net.hydranet.router.config.YamlFields.originPrefix6;
import static net.hydranet.router.config.YamlFields.prefix;
import static net.hydranet.router.config.YamlFields.string;
import static net.hydranet.router.config.YamlFields.unicast6;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.hydranet.control.agent.ControlAgent;
import net.hydranet.control.rib.Rib;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.replica.OriginAddress;
import net.hydranet.replica.ReplicaSession;
import net.hydranet.replica.Resources;
import net.hydranet.router.config.YamlFields.FieldException;

/**
 * Reads a control-plane YAML file (redirector or host server). Errors are one line naming the file
 * and field; unknown fields are errors.
 */
public final class ControlConfigLoader {
  private static final Set<String> TOP =
      Set.of(
          "address",
          "port",
          "key",
          "holdMillis",
          "refreshMillis",
          "ratePerSecond",
          "replayWindowSeconds",
          "loadBand",
          "weight",
          "drainSeconds",
          "dampingHalfLifeSeconds",
          "hostServers",
          "redirectors",
          "authorise",
          "replicas");
  private static final Set<String> NODE = Set.of("address", "key", "cost", "ttlSecurity");
  private static final Set<String> AUTHORISE = Set.of("origins", "hostServers");
  private static final Set<String> REPLICAS =
      Set.of("port", "address6", "firstUid", "cgroupParent", "logBytes", "origins");
  private static final Set<String> REPLICA_ORIGIN =
      Set.of("manager", "key", "addresses", "memory", "cpus", "pids", "files", "maxReplicas");

  private ControlConfigLoader() {}

  public static ControlConfig load(Path path) throws ConfigException {
    JsonNode root = YamlFields.read(path);
    try {
      return parse(root, path.toAbsolutePath().getParent());
    } catch (FieldException e) {
      throw new ConfigException(path + ": " + e.field + ": " + e.getMessage());
    }
  }

  private static ControlConfig parse(JsonNode root, Path base) {
    object(root, "(top)");
    known(root, TOP, "");
    int address = address(string(root, "address", "", true), "address");
    int port = range(root, "port", 6226, 1, 65_535);
    String key = string(root, "key", "", true);
    int hold = range(root, "holdMillis", ControlAgent.DEFAULT_HOLD_MILLIS, 100, 65_535);
    int refresh = range(root, "refreshMillis", 5000, 100, 3_600_000);
    int rate = range(root, "ratePerSecond", 2000, 1, 1_000_000);
    int window = range(root, "replayWindowSeconds", 30, 1, 3600);
    int band = range(root, "loadBand", 20, 0, 100);
    int weight = range(root, "weight", 100, 0, 1000);
    int drain = range(root, "drainSeconds", 5, 0, 3600) * 1000;
    int halfLife = range(root, "dampingHalfLifeSeconds", 30, 1, 3600);
    List<ControlConfig.Node> hostServers = nodes(root, "hostServers", base);
    List<ControlConfig.Node> redirectors = nodes(root, "redirectors", base);
    distinctPeers(hostServers, redirectors, address);
    List<ControlConfig.Authorise> rules = new ArrayList<>();
    JsonNode auth = list(root, "authorise", false);
    for (int i = 0; auth != null && i < auth.size(); i++) {
      rules.add(authorise(auth.get(i), "authorise[" + i + "]"));
    }
    ControlConfig.Replicas replicas = replicas(root.get("replicas"), base, address);
    Path keyPath = base == null ? Path.of(key) : base.resolve(key);
    return new ControlConfig(
        address,
        port,
        keyPath,
        hold,
        refresh,
        rate,
        window,
        band,
        weight,
        drain,
        halfLife,
        hostServers,
        redirectors,
        rules,
        replicas);
  }

  /** No node listed twice among the peers, and not this node itself. */
  private static void distinctPeers(
      List<ControlConfig.Node> hostServers, List<ControlConfig.Node> redirectors, int address) {
    Set<Integer> seen = new HashSet<>();
    for (ControlConfig.Node n : hostServers) {
      seen.add(n.address());
    }
    for (ControlConfig.Node n : redirectors) {
      if (!seen.add(n.address())) {
        throw new FieldException("redirectors", "a node is listed twice");
      }
    }
    if (seen.contains(address)) {
      throw new FieldException("address", "this node also lists itself as a peer");
    }
  }

  /** One {@code authorise} rule, {@code at}: origins (IPv4 or IPv6) and their host servers. */
  private static ControlConfig.Authorise authorise(JsonNode n, String at) {
    object(n, at);
    known(n, AUTHORISE, at);
    String origins = string(n, "origins", at, true);
    // IPv6 origins (issue 21): served by the same host servers, named by IPv4 address.
    boolean v6 = origins.indexOf(':') >= 0;
    long[] p6 = v6 ? originPrefix6(origins, at + ".origins") : null;
    int[] p = v6 ? null : prefix(origins, at + ".origins", false);
    JsonNode hs = list(n, "hostServers", true, at);
    List<Integer> addresses = new ArrayList<>();
    for (int j = 0; j < hs.size(); j++) {
      addresses.add(address(hs.get(j).asText(), at + ".hostServers[" + j + "]"));
    }
    return v6
        ? ControlConfig.Authorise.ipv6(p6[0], p6[1], (int) p6[2], addresses)
        : new ControlConfig.Authorise(p[0], p[1], addresses);
  }

  private static ControlConfig.Replicas replicas(JsonNode n, Path base, int self) {
    if (n == null || n.isNull()) {
      return null;
    }
    object(n, "replicas");
    known(n, REPLICAS, "replicas");
    int port = integer(n, "port", "replicas", ReplicaSession.PORT);
    if (port < 1 || port > 65_535) {
      throw new FieldException("replicas.port", "must be 1..65535");
    }
    String address6Text = string(n, "address6", "replicas", false);
    InetAddress address6 =
        address6Text == null ? null : unicast6(address6Text.strip(), "replicas.address6");
    int firstUid = integer(n, "firstUid", "replicas", 61_000);
    if (firstUid < 1000 || firstUid > 2_000_000_000) {
      throw new FieldException("replicas.firstUid", "must be 1000..2000000000");
    }
    String cgroupParent = cgroupParent(n);
    long logBytes = logBytes(n);
    JsonNode list = list(n, "origins", true, "replicas");
    List<ControlConfig.ReplicaOrigin> out = new ArrayList<>();
    Set<InetAddress> managers = new HashSet<>();
    boolean anyIpv6Manager = false;
    for (int i = 0; i < list.size(); i++) {
      String at = "replicas.origins[" + i + "]";
      ControlConfig.ReplicaOrigin origin =
          replicaOrigin(list.get(i), at, base, self, address6, managers);
      anyIpv6Manager |= origin.manager() instanceof Inet6Address;
      out.add(origin);
    }
    if (address6 != null && !anyIpv6Manager) {
      throw new FieldException(
          "replicas.address6",
          "no origin's manager is IPv6, so nothing would connect to it (remove it, or add the"
              + " IPv6 manager)");
    }
    return new ControlConfig.Replicas(port, address6, firstUid, cgroupParent, logBytes, out);
  }

  /** {@code replicas.cgroupParent}: a plain name, "hydranet" if not given. */
  private static String cgroupParent(JsonNode n) {
    String cgroupParent = string(n, "cgroupParent", "replicas", false);
    if (cgroupParent == null) {
      return "hydranet";
    }
    if (!cgroupParent.matches("[A-Za-z0-9_.-]{1,64}")) {
      throw new FieldException(
          "replicas.cgroupParent", "must be a plain name (letters, digits, '_', '.', '-')");
    }
    return cgroupParent;
  }

  /** {@code replicas.logBytes}: a size of at least 1k, 8 MiB if not given. */
  private static long logBytes(JsonNode n) {
    String logSize = string(n, "logBytes", "replicas", false);
    if (logSize == null) {
      return 8L << 20;
    }
    long logBytes;
    try {
      logBytes = Resources.parseSize(logSize);
    } catch (IllegalArgumentException e) {
      throw new FieldException("replicas.logBytes", e.getMessage());
    }
    if (logBytes < 1024) {
      throw new FieldException("replicas.logBytes", "must be at least 1k");
    }
    return logBytes;
  }

  /**
   * One of {@code replicas.origins}: its manager (not one of {@code managers}, which it joins; not
   * this host server; IPv6 only with {@code replicas.address6}), key, addresses and grant.
   */
  private static ControlConfig.ReplicaOrigin replicaOrigin(
      JsonNode o, String at, Path base, int self, InetAddress address6, Set<InetAddress> managers) {
    object(o, at);
    known(o, REPLICA_ORIGIN, at);
    String managerText = string(o, "manager", at, true).strip();
    InetAddress manager = nodeAddress(managerText, at + ".manager");
    if (!managers.add(manager)) {
      throw new FieldException(at + ".manager", "listed twice (one origin per manager)");
    }
    if (manager.equals(ReplicaSession.ipv4(self)) || manager.equals(address6)) {
      throw new FieldException(at + ".manager", "is this host server's own address");
    }
    if (manager instanceof Inet6Address && address6 == null) {
      // HELLO version 2 comes from the manager's IPv6 address to the service's IPv6 address.
      throw new FieldException(
          at + ".manager",
          "'"
              + managerText
              + "' is IPv6: set replicas.address6 to this host server's IPv6 address, which"
              + " the service then listens on for it");
    }
    String key = string(o, "key", at, true);
    if (base != null
        && (key.endsWith(".pub") || java.nio.file.Files.isRegularFile(base.resolve(key)))) {
      key = base.resolve(key).toString();
    }
    List<OriginAddress.Prefix> addresses = originAddresses(o, at + ".addresses");
    Resources grant;
    try {
      grant =
          new Resources(
              Resources.parseSize(string(o, "memory", at, true)),
              Resources.parseCpus(string(o, "cpus", at, true)),
              integer(o, "pids", at, 64),
              integer(o, "files", at, 256));
    } catch (IllegalArgumentException e) {
      throw new FieldException(at, e.getMessage());
    }
    int max = integer(o, "maxReplicas", at, 1);
    if (max < 1 || max > 1000) {
      throw new FieldException(at + ".maxReplicas", "must be 1..1000");
    }
    return new ControlConfig.ReplicaOrigin(
        manager,
        key,
        addresses,
        grant.memoryBytes(),
        grant.milliCpus(),
        grant.pids(),
        grant.files(),
        max);
  }

  /**
   * A replica origin's {@code addresses}: one prefix, or a list of them, each IPv4
   * ("198.18.2.0/28") or IPv6 ("2001:2:0:2::/64", quoted in YAML; a bare address is one /128).
   */
  private static List<OriginAddress.Prefix> originAddresses(JsonNode o, String field) {
    JsonNode v = o.get("addresses");
    List<String> texts = new ArrayList<>();
    if (v == null || v.isNull()) {
      throw new FieldException(field, "missing");
    } else if (v.isArray()) {
      if (v.isEmpty()) {
        throw new FieldException(field, "must not be empty");
      }
      v.forEach(x -> texts.add(x.asText()));
    } else {
      texts.add(v.asText());
    }
    List<OriginAddress.Prefix> out = new ArrayList<>();
    for (int i = 0; i < texts.size(); i++) {
      String text = texts.get(i).strip();
      String at = v.isArray() ? field + "[" + i + "]" : field;
      if (text.indexOf(':') >= 0) {
        originPrefix6(text, at); // says what is wrong in the config's words
        out.add(OriginAddress.Prefix.parse(text));
      } else {
        int[] p = prefix(text, at, true);
        int mask = p[1] == 0 ? 0 : -1 << (32 - p[1]);
        out.add(OriginAddress.Prefix.parse(Ipv4Header.formatAddress(p[0] & mask) + "/" + p[1]));
      }
    }
    return out;
  }

  private static List<ControlConfig.Node> nodes(JsonNode root, String field, Path base) {
    List<ControlConfig.Node> out = new ArrayList<>();
    JsonNode list = list(root, field, false);
    for (int i = 0; list != null && i < list.size(); i++) {
      String at = field + "[" + i + "]";
      JsonNode n = list.get(i);
      object(n, at);
      known(n, NODE, at);
      int a = address(string(n, "address", at, true), at + ".address");
      String key = string(n, "key", at, true);
      if (base != null
          && (key.endsWith(".pub") || java.nio.file.Files.isRegularFile(base.resolve(key)))) {
        key = base.resolve(key).toString(); // a key file, relative to the config file
      }
      int cost = integer(n, "cost", at, 1);
      if (cost < 1 || cost >= Rib.Settings.DEFAULT_MAX_DISTANCE) {
        throw new FieldException(
            at + ".cost",
            "must be 1.." + (Rib.Settings.DEFAULT_MAX_DISTANCE - 1) + " (16 is unreachable)");
      }
      boolean ttlSecurity = YamlFields.bool(n, "ttlSecurity", at, false);
      out.add(new ControlConfig.Node(a, key, cost, ttlSecurity));
    }
    return out;
  }

  private static int range(JsonNode n, String field, int dflt, int min, int max) {
    int v = integer(n, field, "", dflt);
    if (v < min || v > max) {
      throw new FieldException(field, "must be " + min + ".." + max);
    }
    return v;
  }
}
