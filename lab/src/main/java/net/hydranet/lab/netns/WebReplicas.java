package net.hydranet.lab.netns;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.hydranet.control.auth.Keys;
import net.hydranet.replica.Bundle;
import net.hydranet.replica.BundleBuilder;
import net.hydranet.replica.Resources;

/**
 * Replica management in a {@link WebNetwork}: the host server's grant to the origin, HydraWeb's
 * signed bundle, the origin's replica manager and what an operator asks of it.
 */
public final class WebReplicas {
  /** What hs1 grants the origin; the HydraWeb bundle asks for less. */
  public static final String GRANT = "memory: 512m, cpus: 1.0, pids: 256, files: 4096";

  /** The client LAN may not read /private/, over either family. */
  public static final String ACCESS_RULES =
      "deny 198.18.1.0/24 /private/\ndeny 2001:2:0:1::/64 /private/\n";

  /** The banner slot's values, rotated per response by the replicas. */
  public static final List<String> BANNERS = List.of("BANNER-ONE", "BANNER-TWO", "BANNER-THREE");

  private final WebNetwork net;
  private final Path hydrawebJar;
  private final String origin;
  private Resources asked = hydrawebAsks();

  public WebReplicas(WebNetwork net, Path hydrawebJar) {
    this(net, hydrawebJar, WebNetwork.ORIGIN);
  }

  /**
   * Replicas of {@code origin}: {@link WebNetwork#ORIGIN}, or {@link WebNetwork#ORIGIN6} on a
   * dual-stack network (the bundle serves as that address, misses are fetched from nginx on it).
   */
  public WebReplicas(WebNetwork net, Path hydrawebJar, String origin) {
    this.net = net;
    this.hydrawebJar = hydrawebJar;
    this.origin = origin;
  }

  private boolean ipv6() {
    return origin.indexOf(':') >= 0;
  }

  /** The origin as a URL's host: IPv6 in brackets. */
  private String host() {
    return ipv6() ? "[" + origin + "]" : origin;
  }

  /** One GET of {@code path} from the client to the origin's address of this family. */
  public ExecResult curl(String path, double maxSeconds) {
    return ipv6() ? net.curl6(path, maxSeconds) : net.curl(path, maxSeconds);
  }

  /** The {@code replicas:} section of hs1's control config. */
  public String hostServerConfig() {
    // Its own cgroup parent: test networks side by side on one machine (and one kernel's v1
    // hierarchies) must not share replica groups, or removing one network's "web-1" signals the
    // processes of every other's.
    return "replicas:\n"
        + "  cgroupParent: hydranet-"
        + net.topology().prefix()
        + "\n"
        + "  origins:\n"
        + "    - { manager: "
        + WebNetwork.MANAGER
        + ", key: keys/origin.pub, addresses: [198.18.2.0/28, \"2001:2:0:2::/64\"], "
        + GRANT
        + ", maxReplicas: 2 }\n";
  }

  /** HydraWeb's jar made into a bundle for the origin, signed with {@code keyName}'s key. */
  public Path bundle(String name, String keyName, Resources asked) throws IOException {
    byte[] jar =
        BundleBuilder.build(
            Files.readAllBytes(hydrawebJar),
            new BundleBuilder.Declaration(
                "net.hydranet.hydraweb.HydraWebMain",
                origin,
                List.of("tcp/80"),
                // An IPv6 virtual host holds only its IPv6 address: listen on both families.
                (ipv6() ? "--listen [::]:80" : "--listen 0.0.0.0:80") + " --threads 1",
                asked));
    return signed(name, jar, keyName);
  }

  /** {@code jar} written as {@code name.jar} with {@code name.jar.sig} by {@code keyName}. */
  public Path signed(String name, byte[] jar, String keyName) throws IOException {
    Path file = net.workDir().resolve(name + ".jar");
    Files.write(file, jar);
    byte[] sig = Bundle.sign(jar, Keys.readPrivate(net.keyDir().resolve(keyName + ".key")));
    Files.writeString(
        file.resolveSibling(name + ".jar.sig"), java.util.Base64.getEncoder().encodeToString(sig));
    return file;
  }

  /** What the manager's HydraWeb bundle asks for (default {@link #hydrawebAsks()}). */
  public WebReplicas asking(Resources r) {
    asked = r;
    return this;
  }

  /** The bundle HydraWeb asks for: 256 MiB, half a core, 128 tasks, 1024 files. */
  public static Resources hydrawebAsks() {
    return new Resources(256L << 20, 500, 128, 1024);
  }

  /**
   * The manager's {@code originProbeMillis}, or 0 for its default (2 s). A test that counts the
   * origin's requests sets it long, so no probe ({@code HEAD /}) lands between two of its counts.
   */
  public int originProbeMillis;

  /**
   * The manager's config; {@code placement} true lets load decide (install above 20 requests/s for
   * 2 s, remove below 5 for 8 s), false leaves installs to {@code hydranet ctl … install}.
   */
  public String managerConfig(boolean placement) throws IOException {
    Path bundle = bundle("hydraweb-bundle", "origin", asked);
    return "address: "
        + WebNetwork.MANAGER
        + "\nkey: "
        + net.keyDir().resolve("origin.key")
        + "\ndocumentRoot: "
        + net.site()
        + "\nwebServer: http://"
        + host()
        + ":80\n"
        + "bundle: { jar: "
        + bundle
        + ", signature: "
        + bundle
        + ".sig }\n"
        + "namePrefix: web\ndrainSeconds: 2\nremoveOnExit: false\n"
        + (originProbeMillis > 0 ? "originProbeMillis: " + originProbeMillis + "\n" : "")
        + "hostServers:\n  - { address: "
        + WebNetwork.HS1
        + ", key: "
        + net.keyDir().resolve("hs1.pub")
        + " }\n"
        + "preheat: [\"/*.html\", \"/index.html\", \"**/*.shtml\"]\n"
        + "templates: [\"**/*.shtml\"]\n"
        + "slots:\n  banner: [\""
        + String.join("\", \"", BANNERS)
        + "\"]\n"
        + "accessRules: |\n  "
        + ACCESS_RULES.strip().replace("\n", "\n  ")
        + "\n"
        + (placement
            ? "placement:\n  loadUrl: http://"
                + host()
                + "/nginx_status\n  installAbove: 20\n  installAfterSeconds: 2\n"
                + "  removeBelow: 5\n  removeAfterSeconds: 8\n  minimumLifetimeSeconds: 10\n"
            : "");
  }

  public Process startManager(boolean placement) throws IOException, InterruptedException {
    Process p = net.startManager(managerConfig(placement));
    try {
      net.await("the manager to start", () -> net.ctl("manager", "status").startsWith("origin "));
    } catch (IllegalStateException e) {
      throw new IllegalStateException(
          e.getMessage() + "\n" + net.ctl("manager", "status") + "\n" + net.logs(), e);
    }
    return p;
  }

  /**
   * Asks the manager to install the replica on hs1 (the only host server); waits until it is hot.
   */
  public void install() throws InterruptedException {
    String answer = net.ctl("manager", "install " + WebNetwork.HS1);
    if (!answer.startsWith("OK")) {
      throw new IllegalStateException("install: " + answer + "\n" + net.logs());
    }
    awaitServedByReplica();
  }

  public void awaitServedByReplica() throws InterruptedException {
    try {
      net.await(
          "r1 to learn the replica on hs1", () -> net.ctl("r1", "table").contains(WebNetwork.HS1));
      net.await(
          "the replica to answer the client",
          () -> curl("/index.html", 2).stdout().contains("Server: HydraWeb"));
      // Pre-heated: every pushed object acknowledged (the manager's status says "hot").
      net.await(
          "the replica to be pre-heated",
          () -> net.ctl("manager", "status").matches("(?s).*\\n\\S+-\\d+\\s+\\S+\\s+hot\\s.*"));
    } catch (IllegalStateException e) {
      throw new IllegalStateException(e.getMessage() + "\n" + net.logs(), e);
    }
  }
}
