package net.hydranet.router.config;

import static net.hydranet.router.config.YamlFields.address;
import static net.hydranet.router.config.YamlFields.bool;
import static net.hydranet.router.config.YamlFields.integer;
import static net.hydranet.router.config.YamlFields.known;
import static net.hydranet.router.config.YamlFields.list;
import static net.hydranet.router.config.YamlFields.nodeAddress;
import static net.hydranet.router.config.YamlFields.object;
import static net.hydranet.router.config.YamlFields.string;
import static net.hydranet.router.config.YamlFields.unicast6;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import net.hydranet.control.auth.Keys;
import net.hydranet.hydraweb.manager.ManagerConfig;
import net.hydranet.hydraweb.manager.PlacementPolicy;
import net.hydranet.replica.ReplicaSession;
import net.hydranet.replica.Resources;
import net.hydranet.router.config.YamlFields.FieldException;

/**
 * Reads HydraWeb's replica manager config ({@code hydranet manager --config}, example in
 * config/hydraweb-manager.yaml). Relative paths are relative to the file; errors are one line
 * naming the file and field; unknown fields are errors.
 */
public final class ManagerConfigLoader {
  private static final Set<String> TOP =
      Set.of(
          "address",
          "address6",
          "key",
          "documentRoot",
          "webServer",
          "bundle",
          "namePrefix",
          "hostServers",
          "preheat",
          "templates",
          "preheatBytes",
          "maxObjectBytes",
          "accessRules",
          "slots",
          "placement",
          "drainSeconds",
          "fetchTimeoutMillis",
          "originProbeMillis",
          "removeOnExit");
  private static final Set<String> BUNDLE = Set.of("jar", "signature");
  private static final Set<String> HOST = Set.of("address", "port", "key");
  private static final Set<String> PLACEMENT =
      Set.of(
          "loadUrl",
          "installAbove",
          "installAfterSeconds",
          "removeBelow",
          "removeAfterSeconds",
          "minimumLifetimeSeconds",
          "minReplicas",
          "maxReplicas");

  private ManagerConfigLoader() {}

  public static ManagerConfig load(Path path) throws ConfigException {
    JsonNode root = YamlFields.read(path);
    try {
      return parse(root, path.toAbsolutePath().getParent());
    } catch (FieldException e) {
      throw new ConfigException(path + ": " + e.field + ": " + e.getMessage());
    } catch (IllegalArgumentException | IllegalStateException e) {
      throw new ConfigException(path + ": " + e.getMessage());
    }
  }

  static ManagerConfig parse(JsonNode root, Path base) {
    object(root, "(top)");
    known(root, TOP, "");
    ManagerConfig.Builder b = ManagerConfig.builder();
    origin(root, base, b);
    bundle(root, base, b);
    hostServers(root, base, b);
    content(root, b);
    placement(root, b);
    timing(root, b);
    return b.build();
  }

  /**
   * address, address6, key, documentRoot, webServer, namePrefix: the origin this manager speaks
   * for. The manager connects to IPv4 host servers from {@code address} and to IPv6 ones from
   * {@code address6}; at least one is needed.
   */
  private static void origin(JsonNode root, Path base, ManagerConfig.Builder b) {
    String v4 = string(root, "address", "", false);
    String v6 = string(root, "address6", "", false);
    if (v4 == null && v6 == null) {
      throw new FieldException(
          "address", "missing (the manager's IPv4 address; address6 is its IPv6 one)");
    }
    if (v4 != null) {
      b.managerAddress(inet(ipv4(v4.strip(), "address")));
    }
    if (v6 != null) {
      b.managerAddress6(unicast6(v6.strip(), "address6"));
    }
    Path key = base.resolve(string(root, "key", "", true));
    try {
      b.originKey(Keys.readPrivate(key));
    } catch (IOException e) {
      throw new FieldException("key", e.getMessage());
    }
    Path docroot = base.resolve(string(root, "documentRoot", "", true));
    if (!Files.isDirectory(docroot)) {
      throw new FieldException("documentRoot", docroot + " is not a directory");
    }
    b.docroot(docroot);
    b.webServer(uri(string(root, "webServer", "", true), "webServer"));
    String prefix = string(root, "namePrefix", "", false);
    if (prefix != null) {
      b.namePrefix(prefix);
    }
  }

  /** bundle: the signed replica jar and its signature, both readable. */
  private static void bundle(JsonNode root, Path base, ManagerConfig.Builder b) {
    JsonNode bundle = root.get("bundle");
    object(bundle, "bundle");
    known(bundle, BUNDLE, "bundle");
    Path jar = base.resolve(string(bundle, "jar", "bundle", true));
    String sig = string(bundle, "signature", "bundle", false);
    Path signature =
        sig == null ? jar.resolveSibling(jar.getFileName() + ".sig") : base.resolve(sig);
    for (Path p : List.of(jar, signature)) {
      if (!Files.isReadable(p)) {
        throw new FieldException("bundle", p + ": no such file");
      }
    }
    b.bundle(jar, signature);
  }

  /** hostServers[]: each host server's address, replica port and public key. */
  private static void hostServers(JsonNode root, Path base, ManagerConfig.Builder b) {
    JsonNode hosts = list(root, "hostServers", true);
    for (int i = 0; i < hosts.size(); i++) {
      JsonNode h = hosts.get(i);
      String at = "hostServers[" + i + "]";
      object(h, at);
      known(h, HOST, at);
      InetAddress a = nodeAddress(string(h, "address", at, true).strip(), at + ".address");
      int port = integer(h, "port", at, ReplicaSession.PORT);
      if (port < 1 || port > 65_535) {
        throw new FieldException(at + ".port", "outside 1..65535");
      }
      String k = string(h, "key", at, true);
      try {
        String where = k.contains("BEGIN") || k.length() > 60 ? k : base.resolve(k).toString();
        b.hostServer(new InetSocketAddress(a, port), Keys.readPublic(where));
      } catch (IOException e) {
        throw new FieldException(at + ".key", e.getMessage());
      }
    }
  }

  /** preheat, templates, preheatBytes, maxObjectBytes, accessRules, slots: what a replica holds. */
  private static void content(JsonNode root, ManagerConfig.Builder b) {
    globs(root, "preheat").forEach(b::preheat);
    globs(root, "templates").forEach(b::template);
    String preheatBytes = string(root, "preheatBytes", "", false);
    if (preheatBytes != null) {
      b.preheatBytes(size(preheatBytes, "preheatBytes"));
    }
    String maxObject = string(root, "maxObjectBytes", "", false);
    if (maxObject != null) {
      b.maxObjectBytes(size(maxObject, "maxObjectBytes"));
    }
    String rules = string(root, "accessRules", "", false);
    if (rules != null) {
      b.accessRules(rules);
    }
    JsonNode slots = root.get("slots");
    if (slots != null && !slots.isNull()) {
      object(slots, "slots");
      Iterator<String> names = slots.fieldNames();
      while (names.hasNext()) {
        String name = names.next();
        List<String> values = new ArrayList<>();
        list(slots, name, true, "slots").forEach(x -> values.add(x.asText()));
        b.slot(name, values);
      }
    }
  }

  /** placement: when the manager installs and removes replicas by itself (none: the operator). */
  private static void placement(JsonNode root, ManagerConfig.Builder b) {
    JsonNode placement = root.get("placement");
    if (placement != null && !placement.isNull()) {
      object(placement, "placement");
      known(placement, PLACEMENT, "placement");
      PlacementPolicy.Settings d = PlacementPolicy.Settings.DEFAULT;
      String load = string(placement, "loadUrl", "placement", false);
      if (load != null) {
        b.loadStatus(uri(load, "placement.loadUrl"));
      }
      b.placement(
          new PlacementPolicy.Settings(
              number(placement, "installAbove", d.installAbove()),
              seconds(placement, "installAfterSeconds", d.installAfter()),
              number(placement, "removeBelow", d.removeBelow()),
              seconds(placement, "removeAfterSeconds", d.removeAfter()),
              seconds(placement, "minimumLifetimeSeconds", d.minLifetime()),
              integer(placement, "minReplicas", "placement", d.minReplicas()),
              integer(placement, "maxReplicas", "placement", d.maxReplicas())));
    }
  }

  /** drainSeconds, fetchTimeoutMillis, originProbeMillis, removeOnExit. */
  private static void timing(JsonNode root, ManagerConfig.Builder b) {
    int drain = integer(root, "drainSeconds", "", (int) (ManagerConfig.DEFAULT_DRAIN_MS / 1000));
    if (drain < 0 || drain > 3600) {
      throw new FieldException("drainSeconds", "outside 0..3600");
    }
    b.drainMillis(drain * 1000L);
    int fetch =
        integer(
            root, "fetchTimeoutMillis", "", (int) ManagerConfig.DEFAULT_FETCH_TIMEOUT.toMillis());
    if (fetch < 10 || fetch > 600_000) {
      throw new FieldException("fetchTimeoutMillis", "outside 10..600000");
    }
    b.fetchTimeout(Duration.ofMillis(fetch));
    int probe =
        integer(
            root,
            "originProbeMillis",
            "",
            (int) ManagerConfig.DEFAULT_ORIGIN_PROBE_INTERVAL.toMillis());
    if (probe < 100 || probe > 600_000) {
      throw new FieldException("originProbeMillis", "outside 100..600000");
    }
    b.originProbeInterval(Duration.ofMillis(probe));
    b.removeOnClose(bool(root, "removeOnExit", "", true));
  }

  /** A list of glob strings, or none; the builder checks each glob. */
  private static List<String> globs(JsonNode root, String field) {
    JsonNode l = list(root, field, false);
    List<String> globs = new ArrayList<>();
    if (l != null) {
      for (int i = 0; i < l.size(); i++) {
        if (!l.get(i).isTextual()) {
          throw new FieldException(field + "[" + i + "]", "expected a glob in quotes");
        }
        globs.add(l.get(i).asText());
      }
    }
    return globs;
  }

  private static double number(JsonNode n, String field, double dflt) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      return dflt;
    }
    if (!v.isNumber() || v.doubleValue() < 0) {
      throw new FieldException("placement." + field, "expected a number ≥ 0");
    }
    return v.doubleValue();
  }

  private static Duration seconds(JsonNode n, String field, Duration dflt) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      return dflt;
    }
    if (!v.isNumber() || v.doubleValue() < 0 || v.doubleValue() > 86_400) {
      throw new FieldException("placement." + field, "expected seconds in 0..86400");
    }
    return Duration.ofMillis(Math.round(v.doubleValue() * 1000));
  }

  private static long size(String text, String field) {
    try {
      return Resources.parseSize(text);
    } catch (IllegalArgumentException e) {
      throw new FieldException(field, e.getMessage());
    }
  }

  /** The manager's IPv4 {@code address} (its IPv6 one is {@code address6}). */
  private static int ipv4(String text, String field) {
    if (text.indexOf(':') >= 0) {
      throw new FieldException(
          field, "'" + text + "' is IPv6: the manager's IPv6 address goes in address6");
    }
    return address(text, field);
  }

  private static URI uri(String text, String field) {
    try {
      URI u = new URI(text);
      if (!"http".equals(u.getScheme()) || u.getHost() == null) {
        throw new FieldException(
            field, "'" + text + "' is not an http:// URL" + ManagerConfig.Builder.bracketsHint(u));
      }
      return u;
    } catch (URISyntaxException e) {
      throw new FieldException(field, "'" + text + "' is not a URL");
    }
  }

  private static InetAddress inet(int a) {
    try {
      return InetAddress.getByAddress(
          new byte[] {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a});
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
