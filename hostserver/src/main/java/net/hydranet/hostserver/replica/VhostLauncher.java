package net.hydranet.hostserver.replica;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import net.hydranet.forwarding.io.live.KernelChecks;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.hostserver.VirtualHostDirectory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs each replica inside its origin's virtual host ({@link Launcher#vhost}). */
final class VhostLauncher implements Launcher {
  private static final Logger LOG = LoggerFactory.getLogger(VhostLauncher.class);

  private final List<String> hydranet;
  private final Path stateDir;

  VhostLauncher(List<String> hydranet, Path stateDir) {
    this.hydranet = List.copyOf(hydranet);
    this.stateDir = stateDir;
  }

  @Override
  public Process launch(String origin, List<String> confined) throws IOException {
    List<String> argv = new ArrayList<>(hydranet);
    argv.addAll(List.of("vhost", "--origin", origin, "--state-dir", stateDir.toString(), "--"));
    argv.addAll(confined);
    return Launcher.start(argv);
  }

  /**
   * A killed virtual host still publishes its ports, and its namespace and link would keep the next
   * replica of the origin from making its own: withdraw and delete them here.
   */
  @Override
  public void killed(String origin, Process killed) {
    // The same names 'hydranet vhost' gave them, by family (VirtualHostDirectory).
    Path file;
    String link;
    String namespace;
    if (origin.indexOf(':') >= 0) {
      long[] a = Ipv6Header.parseAddress(origin);
      file = VirtualHostDirectory.file6(stateDir, a[0], a[1]);
      link = VirtualHostDirectory.hostLink6(a[0], a[1]);
      namespace = VirtualHostDirectory.namespace6(a[0], a[1], killed.pid());
    } else {
      int a = Ipv4Header.parseAddress(origin);
      file = VirtualHostDirectory.file(stateDir, a);
      link = VirtualHostDirectory.hostLink(a);
      namespace = VirtualHostDirectory.namespace(a, killed.pid());
    }
    try {
      if (Files.deleteIfExists(file)) {
        LOG.info("virtual host {}: withdrawn for its killed process {}", origin, killed.pid());
      }
    } catch (IOException e) {
      LOG.warn("virtual host {}: cannot withdraw: {}", origin, e.getMessage());
    }
    run("ip", "link", "del", link);
    run("ip", "netns", "del", namespace);
  }

  /** Runs a clean-up command, bounded; what it could not remove is only logged. */
  private static void run(String... argv) {
    try {
      KernelChecks.run(new byte[0], List.of(argv));
    } catch (IOException e) {
      LOG.warn("{}", e.getMessage());
    }
  }
}
