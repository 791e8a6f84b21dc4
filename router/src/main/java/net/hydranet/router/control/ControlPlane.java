package net.hydranet.router.control;

import java.io.IOException;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import net.hydranet.control.agent.ControlAgent;
import net.hydranet.control.agent.HostServerAgent;
import net.hydranet.control.agent.RedirectorAgent;
import net.hydranet.control.auth.Authorisations;
import net.hydranet.control.auth.Gatekeeper;
import net.hydranet.control.auth.Keys;
import net.hydranet.control.auth.Peer;
import net.hydranet.control.auth.Signer;
import net.hydranet.control.rib.Rib;
import net.hydranet.control.rib.TableWriter;
import net.hydranet.control.wire.Message;
import net.hydranet.router.config.ConfigException;
import net.hydranet.router.config.ControlConfig;

/** Builds the control-plane agents from a {@link ControlConfig}: keys, trust, authorisations. */
public final class ControlPlane {
  private ControlPlane() {}

  /**
   * @param maxHostServers the forwarding plane's limit of host servers per service
   */
  public static RedirectorAgent redirector(ControlConfig c, TableWriter writer, int maxHostServers)
      throws ConfigException, IOException {
    Rib.Settings rib =
        new Rib.Settings(
            3L * c.refreshMillis() * 1_000_000L,
            c.dampingHalfLifeSeconds() * 1_000_000_000L,
            c.loadBand(),
            maxHostServers);
    return new RedirectorAgent(settings(c), signer(c), gatekeeper(c), rib, writer);
  }

  public static HostServerAgent hostServer(ControlConfig c, java.util.function.IntSupplier load)
      throws ConfigException, IOException {
    return new HostServerAgent(settings(c), signer(c), gatekeeper(c), c.weight(), load);
  }

  private static ControlAgent.Settings settings(ControlConfig c) {
    return new ControlAgent.Settings(
        c.address(),
        c.port(),
        c.holdMillis(),
        c.refreshMillis(),
        ControlAgent.TICK_MILLIS,
        c.ratePerSecond(),
        c.replayWindowSeconds() * 1_000_000L);
  }

  private static Signer signer(ControlConfig c) throws ConfigException {
    try {
      PrivateKey key = Keys.readPrivate(c.key());
      return new Signer(key);
    } catch (IOException | IllegalArgumentException e) {
      throw new ConfigException("key: " + e.getMessage());
    }
  }

  static Gatekeeper gatekeeper(ControlConfig c) throws ConfigException {
    Map<Integer, Peer> trusted = new HashMap<>();
    for (ControlConfig.Node n : c.hostServers()) {
      trusted.put(n.address(), peer(n, Message.ROLE_HOST_SERVER));
    }
    for (ControlConfig.Node n : c.redirectors()) {
      trusted.put(n.address(), peer(n, Message.ROLE_REDIRECTOR));
    }
    List<Authorisations.Rule> rules = new ArrayList<>();
    List<Authorisations.Rule6> rules6 = new ArrayList<>();
    for (ControlConfig.Authorise a : c.authorise()) {
      if (a.ipv6()) {
        rules6.add(
            new Authorisations.Rule6(
                a.high(), a.low(), a.length(), new HashSet<>(a.hostServers())));
      } else {
        rules.add(new Authorisations.Rule(a.prefix(), a.length(), new HashSet<>(a.hostServers())));
      }
    }
    return new Gatekeeper(
        trusted, new Authorisations(rules, rules6), c.replayWindowSeconds() * 1_000_000L);
  }

  private static Peer peer(ControlConfig.Node n, int role) throws ConfigException {
    try {
      return new Peer(n.address(), role, Keys.readPublic(n.key()), n.cost(), n.ttlSecurity());
    } catch (IOException e) {
      throw new ConfigException(
          "key of "
              + net.hydranet.control.wire.Addresses.format(n.address())
              + ": "
              + e.getMessage());
    }
  }

  /** The host's load for announcements: the 1-minute load average per CPU, as 0..100. */
  public static int hostLoad() {
    try {
      String avg = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg"));
      double l = Double.parseDouble(avg.substring(0, avg.indexOf(' ')));
      return (int) Math.min(100, Math.round(100 * l / Runtime.getRuntime().availableProcessors()));
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }
}
