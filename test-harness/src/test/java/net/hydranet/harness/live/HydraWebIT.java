package net.hydranet.harness.live;

import static net.hydranet.lab.netns.WebNetwork.HS1;
import static net.hydranet.lab.netns.WebNetwork.ORIGIN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.hydranet.harness.replica.MemoryHog;
import net.hydranet.lab.netns.ExecResult;
import net.hydranet.lab.netns.WebNetwork;
import net.hydranet.lab.netns.WebReplicas;
import net.hydranet.replica.BundleBuilder;
import net.hydranet.replica.Resources;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * HydraWeb end to end in namespaces ({@link WebNetwork}): the origin's replica manager installs a
 * signed, confined HydraWeb replica on the host server; the redirector learns it with no static
 * entry; it is pre-heated, serves misses through the manager, enforces the origin's access rule, is
 * kept hot by pushes, renders the origin's template with rotating banners, reports hits the origin
 * can read; hostile bundles are refused or contained while it serves; and it is removed under load
 * without a failed request. The steps build on each other and run in order on one topology.
 */
@TestMethodOrder(OrderAnnotation.class)
@Timeout(180)
class HydraWebIT {
  private static final Pattern NGINX_REQUESTS = Pattern.compile("\\n\\s*\\d+\\s+\\d+\\s+(\\d+)");
  private static final Pattern BANNER = Pattern.compile("<p class=\"banner\">([^<]*)</p>");

  /** The manager's {@code acked PATH}: the docroot's version, then web-1's. */
  private static final Pattern ACKED = Pattern.compile("docroot v(\\d+)\\nweb-1 v(\\d+) acked");

  private static WebNetwork net;
  private static WebReplicas replicas;
  private static HydraWebSteps steps;

  @BeforeAll
  static void start() throws Exception {
    List<String> lab = HydraWebSteps.labCommand();
    Path hydraweb = HydraWebSteps.hydrawebJar();
    net = new WebNetwork("hnweb", lab, 10);
    steps = new HydraWebSteps(net, false);
    replicas = new WebReplicas(net, hydraweb);
    net.start(replicas.hostServerConfig());
    // The tests below count the origin's requests: no probe of the manager's between two counts.
    replicas.originProbeMillis = 600_000;
    replicas.startManager(false);
  }

  @AfterAll
  static void stop() {
    if (net != null) {
      net.close();
    }
  }

  @Test
  @Order(1)
  void beforeAnyReplicaTheOriginsNginxAnswersAcrossTheWan() throws Exception {
    assertTrue(Files.readString(net.workDir().resolve("r1.yaml")).contains("redirects: []"));
    steps.assertServed("/page-007.html", "nginx", "page 007");
    assertFalse(net.ctl("r1", "table").contains(HS1), net.ctl("r1", "table"));
  }

  @Test
  @Order(2)
  void theManagerInstallsASignedReplicaThatTheRedirectorLearns() throws Exception {
    steps.install(replicas, "replica answering through r1");
    String table = net.ctl("r1", "table");
    assertTrue(table.contains(ORIGIN) && table.contains(HS1), table);
    String hs = net.ctl("hs1", "replicas");
    assertTrue(hs.contains("web") && hs.contains("running"), hs);
    // Confined: the replica's processes run as an unprivileged user of their own.
    ExecResult ps = net.topology().exec("hs1", "ps", "-eo", "uid,comm,args");
    boolean confined = false;
    for (String line : ps.stdout().split("\n")) {
      // The replica's own JVM, not the vhost and wrappers that started it (they name it too).
      String[] f = line.trim().split("\\s+", 3);
      if (f.length == 3
          && f[1].equals("java")
          && f[2].contains("-cp bundle.jar")
          && !f[2].contains("HydraNetCommand")) {
        int uid = Integer.parseInt(line.trim().split("\\s+")[0]);
        confined |= uid >= 61000;
        assertTrue(uid >= 61000, "the replica runs as " + uid + ": " + line);
      }
    }
    assertTrue(confined, "no replica process seen:\n" + ps.stdout());
  }

  @Test
  @Order(3)
  void theReplicaIsPreHeatedItsFirstRequestIsAHitTheOriginNeverSees() throws Exception {
    long before = nginxRequests();
    steps.assertServed("/page-042.html", "HydraWeb", "page 042");
    // Only our own status request reached the origin's nginx.
    assertEquals(before + 1, nginxRequests());
    net.await("the hit to be metered", () -> steps.hits("/page-042.html") >= 1);
  }

  @Test
  @Order(4)
  void aMissIsServedThroughTheManagerFromTheOriginsNginx() throws Exception {
    long before = nginxRequests();
    steps.assertServed("/nostore/page.html", "HydraWeb", "page 999");
    // The manager's fetch and our status request.
    assertEquals(before + 2, nginxRequests());
    // The origin says no-store: the replica kept no copy, so the next request is a miss again.
    assertTrue(net.curl("/nostore/page.html", 5).stdout().contains("page 999"));
    assertEquals(before + 4, nginxRequests());
    ExecResult absent = net.curl("/no-such-page.html", 5);
    assertTrue(absent.stdout().startsWith("HTTP/1.1 404"), absent.stdout());
  }

  @Test
  @Order(5)
  void theOriginsAccessRuleIsEnforcedAtTheReplica() {
    steps.assertAccessRuleAtTheReplica();
  }

  @Test
  @Order(6)
  void aChangedPageIsPushedAndServedOnceAcknowledged() throws Exception {
    steps.pushChangedPage("the replica to serve the new page-001", "served by the replica");
  }

  /**
   * Issue 11, the paper's banners: the origin's template page is pushed as a template; each
   * response carries the next of the slot values the manager pushed; an edit of the template is
   * rendered from the moment the replica ACKs it.
   */
  @Test
  @Order(7)
  void aPushedTemplateIsRenderedWithRotatingBannersAndItsEditOnceAcked() throws Exception {
    String page = WebNetwork.TEMPLATE_PAGE;
    List<String> seen = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      seen.add(banner(net.curl(page, 5), "offers of the day"));
    }
    assertTrue(WebReplicas.BANNERS.containsAll(seen), seen.toString());
    assertNotEquals(seen.get(0), seen.get(1), "two responses, two banners");

    String before = net.ctl("manager", "acked " + page);
    Matcher was = ACKED.matcher(before);
    assertTrue(was.find() && was.group(1).equals(was.group(2)), "pushed and ACKed: " + before);
    Path file = net.site().resolve(page.substring(1));
    Files.writeString(file, WebNetwork.offers("offers of the week"));
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(2)));
    Instant changed = Instant.now();
    net.await(
        "web-1 to ACK the edited template",
        () -> {
          Matcher m = ACKED.matcher(net.ctl("manager", "acked " + page));
          return m.find() && m.group(1).equals(m.group(2)) && !m.group(1).equals(was.group(1));
        });
    System.out.printf(
        "template edited on the origin -> new version ACKed by the replica: %d ms%n",
        Duration.between(changed, Instant.now()).toMillis());
    // ACKed: from now on every response renders the new text, with the banners still rotating.
    seen.clear();
    for (int i = 0; i < 3; i++) {
      seen.add(banner(net.curl(page, 5), "offers of the week"));
    }
    assertTrue(WebReplicas.BANNERS.containsAll(seen), seen.toString());
    assertEquals(3, new java.util.HashSet<>(seen).size(), "three responses, three banners");
  }

  /** The banner of a template response from the replica whose headline is {@code headline}. */
  private static String banner(ExecResult r, String headline) {
    assertTrue(r.ok(), r.describe());
    String out = r.stdout();
    assertTrue(out.contains("Server: HydraWeb"), out);
    assertTrue(out.contains("Cache-Control: no-store"), out);
    assertFalse(out.contains("ETag:"), "a template has no strong ETag: " + out);
    assertTrue(out.contains("<h1>" + headline + "</h1>"), out);
    Matcher m = BANNER.matcher(out);
    assertTrue(m.find(), out);
    return m.group(1);
  }

  @Test
  @Order(8)
  void theOriginReadsItsReplicasHitCounts() throws Exception {
    for (int i = 0; i < 5; i++) {
      assertTrue(net.curl("/page-050.html", 5).ok());
    }
    net.await("five hits on /page-050.html to be metered", () -> steps.hits("/page-050.html") == 5);
    String report = net.ctl("manager", "hits");
    System.out.println(report);
    assertTrue(report.contains("/page-042.html"), report);
  }

  @Test
  @Order(9)
  void hostileBundlesAreRefusedOrContainedWhileTheReplicaServes() throws Exception {
    byte[] hogApp = hogJar();
    // Another virtual host of the origin's (its grant covers 198.18.2.0/28): one host server
    // gives each virtual host address one namespace.
    Resources small = new Resources(64L << 20, 200, 64, 256);
    byte[] hog =
        BundleBuilder.build(
            hogApp,
            new BundleBuilder.Declaration(
                MemoryHog.class.getName(),
                "198.18.2.12",
                List.of("tcp/8081"),
                "198.18.2.12 8081",
                small));
    Path forged = replicas.signed("forged", hog, "stranger");
    ExecResult r = replicaCli("install", "forged", forged.toString());
    assertTrue(
        r.stdout().contains("bad signature") || r.stderr().contains("bad signature"), r.describe());
    Path greedy = replicas.bundle("greedy", "origin", new Resources(2L << 30, 500, 128, 1024));
    r = replicaCli("install", "greedy", greedy.toString());
    assertTrue(
        (r.stdout() + r.stderr()).toLowerCase().contains("exceeds")
            || (r.stdout() + r.stderr()).contains("granted"),
        r.describe());
    Path hogBundle = replicas.signed("hog", hog, "origin");
    r = replicaCli("install", "hog", hogBundle.toString());
    assertTrue(r.ok(), r.describe());
    net.await(
        "the kernel to stop the hog at its memory limit",
        () -> net.ctl("hs1", "replicas").matches("(?s).*hog\\s+killed.*"));
    String status = net.ctl("hs1", "replicas");
    System.out.println(status);
    assertTrue(status.matches("(?s).*web-1\\s+running.*"), status);
    assertTrue(net.daemon("hs1").isAlive(), "the host server survived");
    ExecResult served = net.curl("/page-042.html", 5);
    assertTrue(served.stdout().contains("Server: HydraWeb"), served.stdout());
    replicaCli("remove", "hog");
  }

  @Test
  @Order(10)
  void theReplicaIsRemovedUnderLoadWithoutAFailedRequest() throws Exception {
    CompletableFuture<ExecResult> load =
        CompletableFuture.supplyAsync(
            () ->
                net.topology()
                    .exec(
                        "client",
                        Duration.ofSeconds(60),
                        "ab",
                        "-t",
                        "10",
                        "-n",
                        "1000000",
                        "-c",
                        "4",
                        "-s",
                        "10",
                        "http://" + ORIGIN + "/page-042.html"));
    Thread.sleep(2000);
    String answer = net.ctl("manager", "remove web-1");
    assertTrue(answer.startsWith("OK"), answer);
    ExecResult ab = load.get();
    System.out.println(ab.stdout());
    assertTrue(ab.stdout().contains("Failed requests:        0"), ab.describe());
    assertTrue(ab.stdout().contains("Non-2xx responses") == false, ab.describe());
    ExecResult after = net.curl("/page-042.html", 5);
    assertTrue(after.stdout().contains("Server: nginx"), after.stdout());
    assertFalse(net.ctl("hs1", "replicas").contains("web-1 "), net.ctl("hs1", "replicas"));
  }

  private static ExecResult replicaCli(String... args) {
    List<String> argv = new ArrayList<>();
    argv.addAll(net.hydranet("replica"));
    argv.add(args[0]);
    argv.addAll(
        List.of(
            "--host-server",
            HS1,
            "--host-server-key",
            net.keyDir().resolve("hs1.pub").toString(),
            "--key",
            net.keyDir().resolve("origin.key").toString(),
            "--address",
            WebNetwork.MANAGER));
    argv.addAll(List.of(args).subList(1, args.length));
    return net.topology().exec("origin", Duration.ofSeconds(30), argv.toArray(new String[0]));
  }

  /** The origin's nginx: requests handled so far (stub_status, asked from the origin itself). */
  private static long nginxRequests() {
    ExecResult r =
        net.topology()
            .exec("origin", "curl", "-s", "-m", "5", "http://" + ORIGIN + "/nginx_status");
    Matcher m = NGINX_REQUESTS.matcher(r.stdout());
    assertTrue(m.find(), "no stub_status: " + r.describe());
    return Long.parseLong(m.group(1));
  }

  /** A jar holding MemoryHog's class, with it as the main class. */
  private static byte[] hogJar() throws Exception {
    String entry = MemoryHog.class.getName().replace('.', '/') + ".class";
    byte[] klass;
    try (var in = MemoryHog.class.getClassLoader().getResourceAsStream(entry)) {
      klass = in.readAllBytes();
    }
    Manifest m = new Manifest();
    m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, MemoryHog.class.getName());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JarOutputStream jar = new JarOutputStream(out, m)) {
      jar.putNextEntry(new JarEntry(entry));
      jar.write(klass);
      jar.closeEntry();
    }
    return out.toByteArray();
  }
}
