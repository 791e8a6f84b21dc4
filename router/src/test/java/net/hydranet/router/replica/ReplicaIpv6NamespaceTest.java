package net.hydranet.router.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import net.hydranet.control.auth.Keys;
import net.hydranet.router.cli.HostServerCommand;
import net.hydranet.router.cli.HydraNetCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The replica management protocol over IPv6 end to end, in two network namespaces made here (only
 * 2001:2::/48 inside): an IPv6-only host server (its replica service on {@code 2001:2:0:9::1}
 * alone, {@link Ipv6ReplicaHost}) and an origin's manager on {@code 2001:2:0:9::2} across a veth.
 * The operator's {@code hydranet replica install --address6} installs a signed bundle of an IPv6
 * origin over HELLO version 2; the host server runs it confined in the origin's virtual host, which
 * then answers on the origin's address; {@code status} sees it running and {@code remove} takes it
 * away. Nothing listens on IPv4, nor on a wildcard.
 */
class ReplicaIpv6NamespaceTest {
  private static final String HS6 = "2001:2:0:9::1";
  private static final String MANAGER6 = "2001:2:0:9::2";
  private static final String PREFIX = "replv6-";

  @Test
  @Timeout(240)
  void aManagerInstallsASignedReplicaOntoAnIpv6OnlyHostServerOverIpv6() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
    assumeTrue(Files.exists(Path.of("/proc/sys/net/ipv6")), "IPv6 in this kernel");
    assumeTrue(run(10, "ip", "-V").code == 0, "iproute2 installed");
    removeStale();
    String tag = Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36), 36);
    String hsNs = PREFIX + "hs-" + tag;
    String mNs = PREFIX + "m-" + tag;
    String origin =
        "2001:2:0:fa::" + Integer.toHexString(ThreadLocalRandom.current().nextInt(2, 0xfff0));
    Path dir = Files.createTempDirectory(PREFIX);
    Path state = Files.createTempDirectory(Path.of("/run"), PREFIX);
    Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwx--x--x"));
    Process hs = null;
    StringBuilder log = new StringBuilder();
    try {
      for (String ns : List.of(hsNs, mNs)) {
        sh("ip", "netns", "add", ns);
        sh("ip", "-n", ns, "link", "set", "lo", "up");
      }
      sh("ip", "-n", hsNs, "link", "add", "m0", "type", "veth", "peer", "name", "h0", "netns", mNs);
      sh("ip", "-n", hsNs, "-6", "addr", "add", HS6 + "/64", "dev", "m0", "nodad");
      sh("ip", "-n", mNs, "-6", "addr", "add", MANAGER6 + "/64", "dev", "h0", "nodad");
      sh("ip", "-n", hsNs, "link", "set", "m0", "up");
      sh("ip", "-n", mNs, "link", "set", "h0", "up");
      Keys.write(Keys.generate(), dir.resolve("hs"));
      Keys.write(Keys.generate(), dir.resolve("origin"));
      Path jar = dir.resolve("replica.jar");
      Files.write(jar, jar(origin));
      int signed =
          HydraNetCommand.execute(
              "bundle", "sign", "--key", key("origin.key", dir), jar.toString());
      assertEquals(0, signed, "hydranet bundle sign");

      List<String> host = new ArrayList<>(List.of("ip", "netns", "exec", hsNs));
      host.addAll(java());
      host.addAll(
          List.of(
              Ipv6ReplicaHost.class.getName(),
              state.toString(),
              key("hs.key", dir),
              key("origin.pub", dir),
              HS6,
              MANAGER6,
              "2001:2:0:fa::/64",
              "replv6",
              "64000"));
      hs = new ProcessBuilder(host).redirectErrorStream(true).start();
      Thread reader = copy(hs.getInputStream(), log);
      long up = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!contains(log, "listening on port 6227") && hs.isAlive() && System.nanoTime() < up) {
        Thread.sleep(100);
      }
      assertTrue(
          contains(log, "listening on port 6227"), "the host server's replica service: " + log);
      String listening = sh("ip", "netns", "exec", hsNs, "ss", "-Htln");
      assertTrue(listening.contains("[" + HS6 + "]:6227"), "on its IPv6 address: " + listening);
      assertFalse(
          listening.contains("0.0.0.0:6227")
              || listening.contains("*:6227")
              || listening.contains("[::]:6227")
              || listening.contains("127.0.0.1:6227"),
          "on nothing else: " + listening);

      String[] manager = {
        "--host-server",
        HS6, // bare IPv6: port 6227
        "--host-server-key",
        key("hs.pub", dir),
        "--key",
        key("origin.key", dir),
        "--address6",
        MANAGER6
      };
      Ran installed =
          hydranet(
              mNs,
              90,
              concat(new String[] {"replica", "install"}, manager, "web6", jar.toString()));
      assertEquals(
          0, installed.code, "install over IPv6: " + installed.out + "\nhost server:\n" + log);
      assertTrue(installed.out.matches("(?s)(.*\n)?OK .*"), installed.out);

      // The replica answers on the origin's address, inside its virtual host, from the host
      // server's namespace (which routes the origin's /128 into it).
      String served = "";
      long serving = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!served.contains("hello") && System.nanoTime() < serving) {
        Ran r =
            run(
                10,
                "ip",
                "netns",
                "exec",
                hsNs,
                "timeout",
                "5",
                "bash",
                "-c",
                "exec 3<>/dev/tcp/" + origin + "/80 && head -c 6 <&3");
        served = r.out;
        if (!served.contains("hello")) {
          Thread.sleep(300);
        }
      }
      assertEquals("hello\n", served, "the replica of " + origin + " serves; host server:\n" + log);

      Ran status = hydranet(mNs, 60, concat(new String[] {"replica", "status"}, manager));
      assertEquals(0, status.code, status.out);
      assertTrue(status.out.matches("(?s)(.*\n)?web6\\s+running\\s.*"), status.out);
      Ran removed = hydranet(mNs, 90, concat(new String[] {"replica", "remove"}, manager, "web6"));
      assertEquals(0, removed.code, removed.out);
      assertTrue(removed.out.matches("(?s)(.*\n)?OK .*"), removed.out);
      assertTrue(contains(log, "manager " + MANAGER6 + " connected"), log.toString());
      System.out.println("host server's log:\n" + log);
    } finally {
      if (hs != null) {
        try (OutputStream in = hs.getOutputStream()) {
          in.flush(); // closing its input stops it, its replicas removed
        } catch (IOException e) {
          // already gone
        }
        if (!hs.waitFor(30, TimeUnit.SECONDS)) {
          hs.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      }
      run(10, "ip", "netns", "del", hsNs);
      run(10, "ip", "netns", "del", mNs);
      run(30, "rm", "-rf", state.toString(), dir.toString());
    }
  }

  /** Namespaces an earlier run of this test left. */
  private static void removeStale() throws Exception {
    for (String line : run(10, "ip", "netns", "list").out.split("\n")) {
      String name = line.trim().split("\\s+")[0];
      if (name.startsWith(PREFIX)) {
        run(10, "ip", "netns", "del", name);
      }
    }
  }

  static String key(String name, Path dir) {
    return dir.resolve(name).toString();
  }

  private static List<String> java() {
    List<String> hydranet = HostServerCommand.hydranet();
    // java, its log options, -cp CLASSPATH: all but the main class
    return new ArrayList<>(hydranet.subList(0, hydranet.size() - 1));
  }

  /** {@code hydranet ARGS} in namespace {@code ns}, as its own process. */
  static Ran hydranet(String ns, int seconds, String... args) throws Exception {
    List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    argv.addAll(HostServerCommand.hydranet());
    argv.addAll(List.of(args));
    return run(seconds, argv.toArray(String[]::new));
  }

  static String[] concat(String[] a, String[] b, String... c) {
    List<String> all = new ArrayList<>(List.of(a));
    all.addAll(List.of(b));
    all.addAll(List.of(c));
    return all.toArray(String[]::new);
  }

  record Ran(int code, String out) {}

  static Ran run(int seconds, String... argv) throws Exception {
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    StringBuilder out = new StringBuilder();
    Thread t = copy(p.getInputStream(), out);
    if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
    }
    t.join(5000);
    synchronized (out) {
      return new Ran(p.exitValue(), out.toString());
    }
  }

  static String sh(String... argv) throws Exception {
    Ran r = run(30, argv);
    assertEquals(0, r.code, String.join(" ", argv) + ": " + r.out);
    return r.out;
  }

  static Thread copy(InputStream in, StringBuilder into) {
    Thread t =
        new Thread(
            () -> {
              byte[] b = new byte[4096];
              try {
                int n;
                while ((n = in.read(b)) >= 0) {
                  synchronized (into) {
                    into.append(new String(b, 0, n, StandardCharsets.UTF_8));
                  }
                }
              } catch (IOException e) {
                // the process ended
              }
            },
            "replv6-output");
    t.setDaemon(true);
    t.start();
    return t;
  }

  static boolean contains(StringBuilder b, String what) {
    synchronized (b) {
      return b.indexOf(what) >= 0;
    }
  }

  /** A bundle of {@link VhostListener} serving as {@code origin} on TCP 80. */
  static byte[] jar(String origin) throws IOException {
    Manifest mf = new Manifest();
    Attributes a = mf.getMainAttributes();
    a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
    a.putValue("Main-Class", VhostListener.class.getName());
    a.putValue("HydraNet-Origin", origin);
    a.putValue("HydraNet-Ports", "tcp/80");
    a.putValue("HydraNet-Arguments", "80");
    a.putValue("HydraNet-Memory", "128m");
    a.putValue("HydraNet-Cpus", "0.5");
    a.putValue("HydraNet-Pids", "64");
    a.putValue("HydraNet-Files", "256");
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    try (JarOutputStream j = new JarOutputStream(b, mf)) {
      String entry = VhostListener.class.getName().replace('.', '/') + ".class";
      j.putNextEntry(new JarEntry(entry));
      try (InputStream in = VhostListener.class.getClassLoader().getResourceAsStream(entry)) {
        in.transferTo(j);
      }
      j.closeEntry();
    }
    return b.toByteArray();
  }
}
