package net.hydranet.router.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.Base64;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import net.hydranet.control.auth.Keys;
import net.hydranet.hostserver.replica.Origin;
import net.hydranet.hostserver.replica.ReplicaService;
import net.hydranet.replica.Bundle;
import net.hydranet.replica.Resources;
import net.hydranet.router.cli.HydraNetCommand;
import net.hydranet.router.metrics.ReplicaMetrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's tools against a replica service on loopback: {@code hydranet bundle sign}, then
 * {@code hydranet replica install|status|remove} with hostile variants, and the counters they leave
 * as Prometheus meters. Nothing is started: every install here is refused.
 */
@SuppressWarnings("deprecation") // the simpleclient registry MetricsEndpoint uses
class ReplicaCliTest {
  @TempDir Path dir;

  private static String run(String... args) {
    PrintStream old = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      int code = HydraNetCommand.execute(args);
      return code + " " + out.toString(StandardCharsets.UTF_8);
    } finally {
      System.setOut(old);
    }
  }

  private Path jar(String origin, String memory) throws Exception {
    Manifest mf = new Manifest();
    Attributes a = mf.getMainAttributes();
    a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
    a.putValue("Main-Class", "net.example.Main");
    a.putValue("HydraNet-Origin", origin);
    a.putValue("HydraNet-Ports", "tcp/80");
    a.putValue("HydraNet-Memory", memory);
    a.putValue("HydraNet-Cpus", "0.5");
    a.putValue("HydraNet-Pids", "64");
    a.putValue("HydraNet-Files", "256");
    Path p = dir.resolve("b-" + origin + "-" + memory + ".jar");
    try (JarOutputStream j = new JarOutputStream(Files.newOutputStream(p), mf)) {
      j.flush();
    }
    return p;
  }

  @Test
  void shouldBuildABundleFromAnApplicationJarWithWhatItDeclares() throws Exception {
    Manifest mf = new Manifest();
    mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    mf.getMainAttributes().putValue("Main-Class", "net.example.Web");
    Path app = dir.resolve("app.jar");
    try (JarOutputStream j = new JarOutputStream(Files.newOutputStream(app), mf)) {
      j.flush();
    }
    Path out = dir.resolve("bundle.jar");
    String built =
        run(
            "bundle",
            "build",
            "--app",
            app.toString(),
            "--origin",
            "198.18.2.10",
            "--ports",
            "tcp/80,udp/53",
            "--arguments",
            "--listen 0.0.0.0:80",
            "--memory",
            "128m",
            "--cpus",
            "0.25",
            "--out",
            out.toString());
    assertTrue(built.startsWith("0 "), built);
    KeyPair origin = Keys.generate();
    byte[] jar = Files.readAllBytes(out);
    Bundle b = Bundle.open(jar, Bundle.sign(jar, origin.getPrivate()), origin.getPublic());
    assertEquals("net.example.Web", b.mainClass());
    assertEquals(java.util.List.of("tcp/80", "udp/53"), b.ports());
    assertEquals(java.util.List.of("--listen", "0.0.0.0:80"), b.arguments());
    assertEquals(128L << 20, b.resources().memoryBytes());
    assertEquals(250, b.resources().milliCpus());
    String bad =
        run(
            "bundle",
            "build",
            "--app",
            app.toString(),
            "--origin",
            "198.18.2",
            "--ports",
            "tcp/80",
            "--out",
            dir.resolve("x.jar").toString());
    assertTrue(bad.startsWith("2 "), "an origin that is no address is refused: " + bad);
  }

  @Test
  void shouldSignAndBeRefusedForTheRightReasons() throws Exception {
    KeyPair origin = Keys.generate();
    KeyPair other = Keys.generate();
    KeyPair host = Keys.generate();
    Keys.write(origin, dir.resolve("origin"));
    Keys.write(other, dir.resolve("other"));
    Keys.write(host, dir.resolve("hs"));
    Path jar = jar("198.18.2.10", "512m");
    String signed =
        run("bundle", "sign", "--key", dir.resolve("origin.key").toString(), jar.toString());
    assertTrue(signed.startsWith("0 "), signed);
    byte[] sig = Base64.getDecoder().decode(Files.readString(Path.of(jar + ".sig")).strip());
    Bundle.open(Files.readAllBytes(jar), sig, origin.getPublic()); // verifies, or throws
    Path broken = dir.resolve("broken.jar");
    Files.writeString(broken, "not a jar");
    assertTrue(
        run("bundle", "sign", "--key", dir.resolve("origin.key").toString(), broken.toString())
            .startsWith("2 "),
        "a bundle no host server would take is not signed");

    ReplicaService service =
        new ReplicaService(
                new ReplicaService.Context()
                    .address(0x7f000001)
                    .port(0)
                    .key(host.getPrivate())
                    .stateDir(dir.resolve("state"))
                    .origins(
                        List.of(
                            new Origin(
                                0x7f000002,
                                origin.getPublic(),
                                0xc6120200,
                                24,
                                new Resources(256L << 20, 1000, 64, 1024),
                                1)))
                    .launcher(
                        (o, argv) -> {
                          throw new AssertionError("nothing is started");
                        }))
            .start();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    ReplicaMetrics.bind(registry, service.counters());
    try {
      String[] common = {
        "--host-server",
        "127.0.0.1:" + service.port(),
        "--host-server-key",
        dir.resolve("hs.pub").toString(),
        "--key",
        dir.resolve("origin.key").toString(),
        "--address",
        "127.0.0.2"
      };
      String over =
          run(concat(new String[] {"replica", "install"}, common, "web-1", jar.toString()));
      assertEquals("3 REFUSED (exceeds grant) memory 512m > granted 256m\n", over);
      Path forged = jar("198.18.2.10", "128m");
      run("bundle", "sign", "--key", dir.resolve("other.key").toString(), forged.toString());
      String bad =
          run(concat(new String[] {"replica", "install"}, common, "web-1", forged.toString()));
      assertTrue(bad.startsWith("3 REFUSED (bad signature)"), bad);
      Path elsewhere = jar("198.18.9.10", "128m");
      run("bundle", "sign", "--key", dir.resolve("origin.key").toString(), elsewhere.toString());
      String wrong =
          run(concat(new String[] {"replica", "install"}, common, "web-1", elsewhere.toString()));
      assertTrue(wrong.startsWith("3 REFUSED (wrong origin)"), wrong);
      Path elsewhere6 = jar("2001:2:0:9:0:0:0:10", "128m");
      run("bundle", "sign", "--key", dir.resolve("origin.key").toString(), elsewhere6.toString());
      String wrong6 =
          run(concat(new String[] {"replica", "install"}, common, "web-1", elsewhere6.toString()));
      assertTrue(
          wrong6.startsWith("3 REFUSED (wrong origin)")
              && wrong6.contains("2001:2:0:9::10 is outside 198.18.2.0/24"),
          wrong6);
      String[] v6HostServer = common.clone();
      v6HostServer[1] = "[2001:2:0:1::20]:" + service.port();
      String refused = run(concat(new String[] {"replica", "status"}, v6HostServer));
      assertEquals("2 ", refused, "an IPv6 host server is refused before any connection");
      assertEquals("0 ", run(concat(new String[] {"replica", "status"}, common)));
      String gone = run(concat(new String[] {"replica", "remove"}, common, "web-1"));
      assertTrue(gone.startsWith("3 REFUSED (no such replica)"), gone);
      String stranger =
          run(
              "replica",
              "status",
              "--host-server",
              "127.0.0.1:" + service.port(),
              "--host-server-key",
              dir.resolve("hs.pub").toString(),
              "--key",
              dir.resolve("other.key").toString(),
              "--address",
              "127.0.0.2");
      assertTrue(stranger.startsWith("2 "), "a wrong key cannot even ask: " + stranger);
      String scrape = registry.scrape();
      assertTrue(
          scrape.contains("hydranet_replica_refusals_total{reason=\"exceeds_grant\",} 1.0"),
          scrape);
      assertTrue(scrape.contains("hydranet_replica_refusals_total{reason=\"bad_signature\",} 1.0"));
      assertTrue(scrape.contains("hydranet_replica_installs_total 0.0"), scrape);
      assertTrue(scrape.contains("hydranet_replica_handshake_failures_total 1.0"), scrape);
      assertTrue(
          scrape.contains("hydranet_replica_app_frames_total{direction=\"to_manager\",} 0.0"));
    } finally {
      service.close();
    }
  }

  private static String[] concat(String[] a, String[] b, String... c) {
    String[] out = new String[a.length + b.length + c.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    System.arraycopy(c, 0, out, a.length + b.length, c.length);
    return out;
  }
}
