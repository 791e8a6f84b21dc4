package net.hydranet.harness.live;

import static net.hydranet.harness.live.Ipv6Shell.read;
import static net.hydranet.harness.live.Ipv6Shell.sh;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import net.hydranet.harness.fixture.RedirectorUnderTest;

/**
 * One IPv6 system test's lab ({@link HostServerIpv6IT}, {@link RedirectorIpv6IT}, {@link
 * Ipv6ClientsIT}): its namespaces, made afresh and removed with what a run left; a work directory;
 * the daemons it spawned, each with its log; the bounded wait that fails with every log; and the
 * set-up they share — {@code hydranet} from router/target/hydranet.jar, the control plane's keys
 * and files, and a redirector and a host server that learn of each other over it.
 */
final class Ipv6Lab {
  final Path work;
  final String hydranet;
  private final List<String> namespaces;
  private final String origin;
  private final long awaitSeconds;
  private final List<Process> daemons = new ArrayList<>();
  private final Map<String, Supplier<String>> logs = new LinkedHashMap<>();

  private Ipv6Lab(
      List<String> namespaces, String origin, Path work, String hydranet, long awaitSeconds) {
    this.namespaces = namespaces;
    this.origin = origin;
    this.work = work;
    this.hydranet = hydranet;
    this.awaitSeconds = awaitSeconds;
  }

  /**
   * Skips the test unless it runs as root on an IPv6 kernel with the jar built and {@code tools}
   * installed; then removes what an earlier run left and makes {@code namespaces} (loopback up).
   * {@code hydranet} runs the jar with {@code heap}; waits last up to {@code awaitSeconds}.
   */
  static Ipv6Lab start(
      String tag,
      List<String> namespaces,
      String origin,
      String heap,
      long awaitSeconds,
      List<String> tools)
      throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
    Path jar = RedirectorUnderTest.repositoryRoot().resolve("router/target/hydranet.jar");
    assumeTrue(Files.exists(jar), "router/target/hydranet.jar is built by mvn package");
    assumeTrue(Files.exists(Path.of("/proc/sys/net/ipv6")), "IPv6 in this kernel");
    for (String tool : tools) {
      assumeTrue(Ipv6Shell.onPath(tool), tool + " is installed (bin/setup)");
    }
    Ipv6Shell.cleanup(namespaces, origin);
    String java = ProcessHandle.current().info().command().orElse("java");
    Ipv6Lab lab =
        new Ipv6Lab(
            namespaces,
            origin,
            Files.createTempDirectory(tag),
            java + " -Xmx" + heap + " -jar " + jar,
            awaitSeconds);
    for (String ns : namespaces) {
      sh("ip netns add " + ns);
      sh("ip -n " + ns + " link set lo up");
    }
    return lab;
  }

  Path path(String name) {
    return work.resolve(name);
  }

  /**
   * Spawns {@code command} in {@code ns}, its output to {@code <name>.log}, shown by {@link #logs}.
   */
  Process spawn(String ns, String name, String command) throws Exception {
    Path log = path(name + ".log");
    Process p = Ipv6Shell.spawn(ns, command, log);
    daemons.add(p);
    logs.put(name, () -> read(log));
    return p;
  }

  /** One more section of {@link #logs}: a status file or a daemon's answer. */
  void showInLogs(String name, Supplier<String> text) {
    logs.put(name, text);
  }

  /** Every log and status shown, for a failure's message. */
  String logs() {
    StringBuilder out = new StringBuilder();
    logs.forEach((name, text) -> out.append("\n--- ").append(name).append('\n').append(text.get()));
    return out.toString();
  }

  /**
   * Waits for {@code condition} up to this lab's bound; fails with {@link #logs} if it never holds.
   */
  void await(String what, BooleanSupplier condition) throws InterruptedException {
    Ipv6Shell.await(what, condition, awaitSeconds, this::logs);
  }

  /** Stops the daemons (SIGTERM, then SIGKILL) and removes the namespaces and stale vhosts. */
  void stop() throws Exception {
    Ipv6Shell.stop(daemons);
    Ipv6Shell.cleanup(namespaces, origin);
  }

  /**
   * {@code hydranet vhost} of the origin in {@code ns}, on the host server's state, running {@code
   * command}.
   */
  void vhost(String ns, Path state, String command) throws Exception {
    spawn(
        ns,
        "vhost",
        hydranet + " vhost --state-dir " + state + " --origin " + origin + " -- " + command);
  }

  /**
   * A redirector in {@code redirectorNs} (interfaces {@code interfacesYaml}, control address {@code
   * redirectorAddress}) and a host server in {@code hostServerNs} on {@code hostServerInterface}
   * with {@code hostServerAddress} and the tunnel {@code tun}, each trusting the other's key over
   * the control plane, which authorises the host server for the origin. Returns the host server's
   * state directory (for {@link #vhost}); its status file is {@code hs.status}, the daemons' ctl
   * sockets {@code r.ctl} and {@code hs.ctl}.
   */
  Path redirectorAndHostServer(
      String redirectorNs,
      String interfacesYaml,
      String redirectorAddress,
      String hostServerNs,
      String hostServerInterface,
      String hostServerAddress,
      String tun)
      throws Exception {
    Files.createDirectories(path("keys"));
    sh(hydranet + " keygen " + path("keys/r"));
    sh(hydranet + " keygen " + path("keys/hs"));
    Files.writeString(path("r.yaml"), interfacesYaml + "redirects: []\n");
    Files.writeString(
        path("r-control.yaml"),
        "address: "
            + redirectorAddress
            + "\nkey: keys/r.key\nholdMillis: 1500\n"
            + "hostServers:\n  - { address: "
            + hostServerAddress
            + ", key: keys/hs.pub, cost: 1 }\n"
            + "authorise:\n  - { origins: \""
            + origin
            + "/128\", hostServers: ["
            + hostServerAddress
            + "] }\n");
    Files.writeString(
        path("hs-control.yaml"),
        "address: "
            + hostServerAddress
            + "\nkey: keys/hs.key\nholdMillis: 1500\n"
            + "redirectors:\n  - { address: "
            + redirectorAddress
            + ", key: keys/r.pub }\n");
    spawn(
        redirectorNs,
        "redirector",
        hydranet
            + " redirector --config "
            + path("r.yaml")
            + " --control "
            + path("r-control.yaml")
            + " --ctl-socket "
            + path("r.ctl")
            + " --metrics off");
    Path state = path("hs-state");
    spawn(
        hostServerNs,
        "hostserver",
        hydranet
            + " hostserver --interface "
            + hostServerInterface
            + " --address "
            + hostServerAddress
            + " --tun "
            + tun
            + " --metrics off --state-dir "
            + state
            + " --status "
            + path("hs.status")
            + " --control "
            + path("hs-control.yaml")
            + " --ctl-socket "
            + path("hs.ctl"));
    return state;
  }
}
