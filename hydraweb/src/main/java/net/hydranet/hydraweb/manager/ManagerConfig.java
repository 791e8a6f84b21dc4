package net.hydranet.hydraweb.manager;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything the replica manager needs, validated once: build it with {@link #builder()}, whose
 * setters carry the defaults; {@link Builder#build()} names the first wrong field.
 *
 * @param managerAddress the origin's manager IPv4 address, as IPv4 host servers know it (the HELLO
 *     sender, version 1), or null when every host server is IPv6
 * @param managerAddress6 its IPv6 address, as IPv6 host servers know it (HELLO version 2), or null
 *     when every host server is IPv4
 * @param originKey the origin's Ed25519 key (signs the manager's frames)
 * @param docroot the origin's document root: what is pushed, watched and mapped to URL paths
 * @param webServer the origin's web server (nginx), where misses are fetched: {@code
 *     http://198.18.2.10:80}, or over IPv6 {@code http://[2001:2::10]:80}
 * @param loadStatus nginx's stub_status URL for load-driven placement, or null (none)
 * @param hostServers where replicas may go, in order of preference
 * @param bundleJar the signed bundle's jar
 * @param bundleSignature its detached signature (64 bytes)
 * @param preheat globs relative to the docroot ({@link DocrootGlobs}: a leading '/' is optional, a
 *     leading {@code **}{@code /} matches at the top too); empty: every file
 * @param templates globs (as {@code preheat}) of the docroot files that are templates: pushed and
 *     answered with the template flag, so replicas fill their {@code {{slot}}}s per response
 * @param preheatBytes at most this many bytes are pushed at installation (in path order)
 * @param maxObjectBytes larger files are never pushed, and larger fetched objects are 502
 * @param accessRules AccessRules text pushed to every replica, or null (the replica's own)
 * @param slots template slot values pushed to every replica
 * @param placement when to install and remove replicas
 * @param namePrefix replicas are named {@code prefix-1}, {@code prefix-2} …
 * @param drainMillis drain time of a REMOVE
 * @param fetchTimeout how long a miss may take at the origin's web server
 * @param originProbeInterval how often the origin's web server is probed when nothing else was
 *     heard from it, and how often a miss may try it while it is down (the others are answered 502
 *     or 504 at once)
 * @param removeOnClose whether {@link ReplicaManager#close()} removes the replicas it installed
 */
public record ManagerConfig(
    InetAddress managerAddress,
    InetAddress managerAddress6,
    PrivateKey originKey,
    Path docroot,
    URI webServer,
    URI loadStatus,
    List<HostServer> hostServers,
    Path bundleJar,
    Path bundleSignature,
    List<String> preheat,
    List<String> templates,
    long preheatBytes,
    long maxObjectBytes,
    String accessRules,
    Map<String, List<String>> slots,
    PlacementPolicy.Settings placement,
    String namePrefix,
    long drainMillis,
    Duration fetchTimeout,
    Duration originProbeInterval,
    boolean removeOnClose) {

  public static final long DEFAULT_PREHEAT_BYTES = 64L << 20;
  public static final long DEFAULT_MAX_OBJECT_BYTES = 8L << 20;
  public static final String DEFAULT_NAME_PREFIX = "hydraweb";
  public static final long DEFAULT_DRAIN_MS = 5_000;
  public static final Duration DEFAULT_FETCH_TIMEOUT = Duration.ofSeconds(5);
  public static final Duration DEFAULT_ORIGIN_PROBE_INTERVAL = Duration.ofSeconds(2);

  /** The manager's addresses, for logs and views: "198.18.2.100 and 2001:2:0:2::100". */
  public String managerAddressesText() {
    StringBuilder b = new StringBuilder();
    for (InetAddress a : new InetAddress[] {managerAddress, managerAddress6}) {
      if (a != null) {
        b.append(b.length() == 0 ? "" : " and ").append(net.hydranet.replica.OriginAddress.text(a));
      }
    }
    return b.toString();
  }

  /** The address the manager connects from to {@code hostServer}: the one of its family. */
  public InetAddress managerAddressFor(InetSocketAddress hostServer) {
    return hostServer.getAddress() instanceof Inet4Address ? managerAddress : managerAddress6;
  }

  /** A host server: its replica management address (port 6227) and its key. */
  public record HostServer(InetSocketAddress address, PublicKey key) {
    public HostServer {
      Objects.requireNonNull(address, "host server address");
    }

    @Override
    public String toString() {
      return net.hydranet.replica.OriginAddress.text(address.getAddress());
    }
  }

  public ManagerConfig {
    hostServers = List.copyOf(hostServers);
    preheat = List.copyOf(preheat);
    templates = List.copyOf(templates);
    Map<String, List<String>> s = new LinkedHashMap<>();
    slots.forEach((k, v) -> s.put(k, List.copyOf(v)));
    slots = java.util.Collections.unmodifiableMap(s);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Fluent settings; {@link #build()} validates. */
  public static final class Builder {
    private InetAddress managerAddress;
    private InetAddress managerAddress6;
    private PrivateKey originKey;
    private Path docroot;
    private URI webServer;
    private URI loadStatus;
    private final List<HostServer> hostServers = new ArrayList<>();
    private Path bundleJar;
    private Path bundleSignature;
    private final List<String> preheat = new ArrayList<>();
    private final List<String> templates = new ArrayList<>();
    private long preheatBytes = DEFAULT_PREHEAT_BYTES;
    private long maxObjectBytes = DEFAULT_MAX_OBJECT_BYTES;
    private String accessRules;
    private final Map<String, List<String>> slots = new LinkedHashMap<>();
    private PlacementPolicy.Settings placement = PlacementPolicy.Settings.DEFAULT;
    private String namePrefix = DEFAULT_NAME_PREFIX;
    private long drainMillis = DEFAULT_DRAIN_MS;
    private Duration fetchTimeout = DEFAULT_FETCH_TIMEOUT;
    private Duration originProbeInterval = DEFAULT_ORIGIN_PROBE_INTERVAL;
    private boolean removeOnClose = true;

    /** The manager's IPv4 address: IPv4 host servers authorise it by this. */
    public Builder managerAddress(InetAddress v) {
      managerAddress = v;
      return this;
    }

    /** The manager's IPv6 address: IPv6 host servers authorise it by this. */
    public Builder managerAddress6(InetAddress v) {
      managerAddress6 = v;
      return this;
    }

    public Builder originKey(PrivateKey v) {
      originKey = v;
      return this;
    }

    public Builder docroot(Path v) {
      docroot = v;
      return this;
    }

    public Builder webServer(URI v) {
      webServer = v;
      return this;
    }

    public Builder loadStatus(URI v) {
      loadStatus = v;
      return this;
    }

    public Builder hostServer(InetSocketAddress address, PublicKey key) {
      hostServers.add(new HostServer(address, key));
      return this;
    }

    public Builder bundle(Path jar, Path signature) {
      bundleJar = jar;
      bundleSignature = signature;
      return this;
    }

    public Builder preheat(String glob) {
      preheat.add(glob);
      return this;
    }

    /** Files matching {@code glob} are templates (see {@link DocrootGlobs}). */
    public Builder template(String glob) {
      templates.add(glob);
      return this;
    }

    public Builder preheatBytes(long v) {
      preheatBytes = v;
      return this;
    }

    public Builder maxObjectBytes(long v) {
      maxObjectBytes = v;
      return this;
    }

    public Builder accessRules(String v) {
      accessRules = v;
      return this;
    }

    public Builder slot(String name, List<String> values) {
      slots.put(name, values);
      return this;
    }

    public Builder placement(PlacementPolicy.Settings v) {
      placement = v;
      return this;
    }

    public Builder namePrefix(String v) {
      namePrefix = v;
      return this;
    }

    public Builder drainMillis(long v) {
      drainMillis = v;
      return this;
    }

    public Builder fetchTimeout(Duration v) {
      fetchTimeout = v;
      return this;
    }

    public Builder originProbeInterval(Duration v) {
      originProbeInterval = v;
      return this;
    }

    public Builder removeOnClose(boolean v) {
      removeOnClose = v;
      return this;
    }

    public ManagerConfig build() {
      checkAddresses();
      checkOrigin();
      checkHostServerFamilies();
      checkPlacementInputs();
      checkLimits();
      checkContentRules();
      return new ManagerConfig(
          managerAddress,
          managerAddress6,
          originKey,
          docroot,
          webServer,
          loadStatus,
          hostServers,
          bundleJar,
          bundleSignature,
          preheat,
          templates,
          preheatBytes,
          maxObjectBytes,
          accessRules,
          slots,
          placement,
          namePrefix,
          drainMillis,
          fetchTimeout,
          originProbeInterval,
          removeOnClose);
    }

    /** The manager's own addresses: IPv4 in one field, unicast IPv6 in the other, one at least. */
    private void checkAddresses() {
      check(
          managerAddress == null || managerAddress instanceof Inet4Address,
          "managerAddress must be an IPv4 address (an IPv6 one is managerAddress6: address6 in"
              + " the config)");
      check(
          managerAddress6 == null
              || managerAddress6 instanceof Inet6Address
                  && !managerAddress6.isAnyLocalAddress()
                  && !managerAddress6.isLinkLocalAddress()
                  && !managerAddress6.isMulticastAddress(),
          "managerAddress6 must be a unicast IPv6 address: " + managerAddress6);
      check(
          managerAddress != null || managerAddress6 != null,
          "the manager needs an address (IPv4, or IPv6 for IPv6 host servers)");
    }

    /** The origin the manager serves from: its docroot and its web server. */
    private void checkOrigin() {
      check(
          docroot != null && Files.isDirectory(docroot), "docroot is not a directory: " + docroot);
      check(
          webServer != null && "http".equals(webServer.getScheme()) && webServer.getHost() != null,
          "webServer must be an http:// URL" + bracketsHint(webServer) + ": " + webServer);
    }

    /** An address of each host server's family to connect from. */
    private void checkHostServerFamilies() {
      for (HostServer h : hostServers) {
        // The host server checks that the manager connects from the address it authorised, of
        // the host server's own family: version-1 HELLO over IPv4, version 2 over IPv6.
        boolean v4 = h.address().getAddress() instanceof Inet4Address;
        check(
            v4 ? managerAddress != null : managerAddress6 != null,
            "host server "
                + h
                + " is "
                + (v4 ? "IPv4" : "IPv6")
                + ": the manager needs an "
                + (v4 ? "IPv4 address (address)" : "IPv6 address (address6)")
                + " to connect from");
      }
    }

    /** What placement works from: the load status, the host servers, the signed bundle. */
    private void checkPlacementInputs() {
      check(
          loadStatus == null || "http".equals(loadStatus.getScheme()),
          "loadStatus must be an http:// URL: " + loadStatus);
      check(!hostServers.isEmpty(), "at least one host server is needed");
      check(
          bundleJar != null && Files.isRegularFile(bundleJar), "bundle jar missing: " + bundleJar);
      check(
          bundleSignature != null && Files.isRegularFile(bundleSignature),
          "bundle signature missing: " + bundleSignature);
    }

    /** The sizes, times and names within their ranges. */
    private void checkLimits() {
      check(preheatBytes >= 0, "preheatBytes must be ≥ 0");
      check(
          maxObjectBytes > 0 && maxObjectBytes <= (15L << 20),
          "maxObjectBytes must be 1..15 MiB (a channel payload is at most 16 MiB): "
              + maxObjectBytes);
      check(
          namePrefix != null && namePrefix.matches("[a-z0-9][a-z0-9-]{0,20}"),
          "namePrefix must be [a-z0-9][a-z0-9-]{0,20}: " + namePrefix);
      check(drainMillis >= 0 && drainMillis <= 0xffffffffL, "drainMillis out of range");
      check(
          fetchTimeout != null && !fetchTimeout.isNegative() && !fetchTimeout.isZero(),
          "fetchTimeout must be > 0");
      check(
          originProbeInterval != null
              && originProbeInterval.toMillis() >= 100
              && originProbeInterval.toMillis() <= 600_000,
          "originProbeInterval must be 100 ms..600 s: " + originProbeInterval);
    }

    /** The placement policy, the globs, the slots and the access rules, each parsed. */
    private void checkContentRules() {
      Objects.requireNonNull(placement, "placement");
      DocrootGlobs.compile(preheat, "preheat"); // each says which glob is wrong, and why
      DocrootGlobs.compile(templates, "templates");
      slots.forEach(Builder::checkSlot);
      if (accessRules != null) {
        net.hydranet.hydraweb.AccessRules.parse(accessRules); // says which line is wrong
      }
    }

    /** What a SLOT can carry, and a name a template can name ({@code WebObject.template}). */
    private static void checkSlot(String name, List<String> values) {
      check(
          name != null && name.matches("[A-Za-z0-9._-]+"),
          "slots: '"
              + name
              + "' is not a slot name: a template's {{name}} has letters, digits, '-', '_', '.'");
      check(values != null && values.size() <= 0xffff, "slots." + name + ": at most 65535 values");
      for (String v : values) {
        check(
            v != null && v.getBytes(StandardCharsets.UTF_8).length <= 0xffff,
            "slots." + name + ": a value is at most 65535 bytes of UTF-8");
      }
    }

    /** A URL whose host is an IPv6 address without brackets parses with no host at all. */
    public static String bracketsHint(URI u) {
      String authority = u == null ? null : u.getRawAuthority();
      return authority != null && authority.indexOf(':') != authority.lastIndexOf(':')
          ? " (an IPv6 address goes in brackets: http://[2001:2::10]:80)"
          : "";
    }

    private static void check(boolean ok, String message) {
      if (!ok) {
        throw new IllegalArgumentException(message);
      }
    }
  }
}
