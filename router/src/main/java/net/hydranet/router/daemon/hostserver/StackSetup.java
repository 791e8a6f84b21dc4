package net.hydranet.router.daemon.hostserver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import net.hydranet.forwarding.io.live.TunDevice;
import net.hydranet.router.daemon.DaemonLoggers;
import net.hydranet.router.error.UserError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This host's stack for injection: the TUN device opened and up, rp_filter off and accept_local on
 * for it, IPv4 and IPv6 forwarding on; each setting logged.
 */
public final class StackSetup {
  private static final Logger LOG = LoggerFactory.getLogger(DaemonLoggers.HOST_SERVER);

  private StackSetup() {}

  public static TunDevice openTun(String tun) {
    try {
      return TunDevice.open(tun);
    } catch (IOException e) {
      throw new UserError("--tun " + tun + ": " + e.getMessage());
    }
  }

  /** The stack settings injection needs; each is logged, none is silent. */
  public static void prepare(String tun) throws IOException, InterruptedException {
    run("ip", "link", "set", tun, "up");
    sysctl("net/ipv4/conf/all/rp_filter", "0");
    sysctl("net/ipv4/conf/" + tun + "/rp_filter", "0");
    // Passed-on packets enter through the TUN with this host's own address as their source.
    sysctl("net/ipv4/conf/" + tun + "/accept_local", "1");
    sysctl("net/ipv4/ip_forward", "1");
    if (Files.exists(Path.of("/proc/sys/net/ipv6/conf/all/forwarding"))) {
      // Inner IPv6 packets are routed from the TUN to the virtual hosts' links, as IPv4 ones.
      // (A host that takes its own IPv6 route from router advertisements then needs
      // accept_ra = 2 on its uplink: a forwarding host ignores them otherwise.)
      sysctl("net/ipv6/conf/all/forwarding", "1");
    } else {
      LOG.warn("no IPv6 in this kernel: IPv6 virtual hosts cannot be served");
    }
  }

  private static void sysctl(String key, String value) throws IOException {
    Path p = Path.of("/proc/sys").resolve(key);
    String before = Files.readString(p).strip();
    if (!before.equals(value)) {
      Files.writeString(p, value);
      LOG.info("set {} = {} (was {})", key.replace('/', '.'), value, before);
    }
  }

  private static void run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new UserError(String.join(" ", cmd) + ": " + out.strip());
    }
  }
}
