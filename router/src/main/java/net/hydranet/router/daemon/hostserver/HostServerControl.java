package net.hydranet.router.daemon.hostserver;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import net.hydranet.control.agent.HostServerAgent;
import net.hydranet.control.auth.Keys;
import net.hydranet.control.wire.Service;
import net.hydranet.forwarding.pipeline.Pipeline;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.hostserver.replica.Launcher;
import net.hydranet.hostserver.replica.Origin;
import net.hydranet.hostserver.replica.ReplicaService;
import net.hydranet.replica.OriginAddress;
import net.hydranet.replica.Resources;
import net.hydranet.router.config.ConfigException;
import net.hydranet.router.config.ControlConfig;
import net.hydranet.router.control.ControlPlane;
import net.hydranet.router.error.UserError;
import net.hydranet.router.metrics.ControlMetrics;
import net.hydranet.router.metrics.MetricsEndpoint;

/**
 * The host server's control plane ({@code --control}): the routing agent that announces the virtual
 * hosts' ports, and the replica service of its {@code replicas:} section, which drains a bundle's
 * services through the agent.
 */
public final class HostServerControl {
  private final Path control;
  private final Path stateDir;
  private final Supplier<List<String>> hydranet;
  private volatile HostServerAgent agent;
  private volatile ReplicaService replicas;

  /**
   * @param hydranet how to run this same {@code hydranet}, for the replicas' launcher
   */
  public HostServerControl(Path control, Path stateDir, Supplier<List<String>> hydranet) {
    this.control = control;
    this.stateDir = stateDir;
    this.hydranet = hydranet;
  }

  /** The routing agent, or null without {@code --control}. */
  public HostServerAgent agent() {
    return agent;
  }

  /** The replica service, or null without a {@code replicas:} section. */
  public ReplicaService replicas() {
    return replicas;
  }

  /** The routing agent and the replica service of the control config, not started yet. */
  public void start(ControlConfig controlConfig, Pipeline pipeline) throws IOException {
    if (controlConfig == null) {
      return;
    }
    try {
      agent = ControlPlane.hostServer(controlConfig, ControlPlane::hostLoad);
    } catch (ConfigException e) {
      pipeline.close();
      throw new UserError(control + ": " + e.getMessage());
    }
    if (controlConfig.replicas() != null) {
      try {
        replicas = startReplicas(controlConfig);
      } catch (ConfigException | IOException | IllegalArgumentException e) {
        pipeline.close();
        agent.close();
        throw new UserError(control + ": replicas: " + e.getMessage());
      }
    }
  }

  public void startAgent(MetricsEndpoint metrics) {
    if (agent == null) {
      return;
    }
    if (metrics != null) {
      ControlMetrics.bind(metrics.registry(), agent.counters());
    }
    agent.start();
  }

  /**
   * The replica service of the control config's {@code replicas:} section: on the control address
   * (IPv4 managers) and {@code replicas.address6} (IPv6 managers) alone, launching each replica in
   * its origin's virtual host with this same {@code hydranet}.
   */
  private ReplicaService startReplicas(ControlConfig c) throws ConfigException, IOException {
    ControlConfig.Replicas r = c.replicas();
    List<Origin> origins = new ArrayList<>();
    for (ControlConfig.ReplicaOrigin o : r.origins()) {
      try {
        origins.add(
            new Origin(
                o.manager(),
                Keys.readPublic(o.key()),
                o.addresses(),
                new Resources(o.memoryBytes(), o.milliCpus(), o.pids(), o.files()),
                o.maxReplicas()));
      } catch (IOException e) {
        throw new ConfigException(
            "key of manager " + OriginAddress.text(o.manager()) + ": " + e.getMessage());
      }
    }
    ReplicaService.Context ctx =
        new ReplicaService.Context()
            .address(c.address())
            .address6(r.address6())
            .port(r.port())
            .firstUid(r.firstUid())
            .cgroupParent(r.cgroupParent())
            .logBytes(r.logBytes())
            .key(Keys.readPrivate(c.key()))
            .stateDir(stateDir)
            .origins(origins)
            .launcher(Launcher.vhost(hydranet.get(), stateDir))
            .drainer(
                new ReplicaService.Drainer() {
                  @Override
                  public void drain(InetAddress origin, List<String> ports) {
                    for (Service service : services(origin, ports)) {
                      if (agent != null) {
                        agent.drainService(service);
                      }
                    }
                  }

                  @Override
                  public void drained(InetAddress origin, List<String> ports) {
                    for (Service service : services(origin, ports)) {
                      if (agent != null) {
                        agent.undrainService(service);
                      }
                    }
                  }
                });
    return new ReplicaService(ctx).start();
  }

  /** A bundle's ports ("tcp/80") of its origin (IPv4 or IPv6) as the control plane's services. */
  public static List<Service> services(InetAddress origin, List<String> ports) {
    List<Service> out = new ArrayList<>();
    byte[] a = origin.getAddress();
    ByteBuffer b = ByteBuffer.wrap(a);
    for (String p : ports) {
      int slash = p.indexOf('/');
      int protocol = p.startsWith("tcp") ? Ipv4Header.PROTOCOL_TCP : Ipv4Header.PROTOCOL_UDP;
      int port = Integer.parseInt(p.substring(slash + 1));
      out.add(
          a.length == 4
              ? Service.ipv4(b.getInt(0), protocol, port)
              : Service.ipv6(b.getLong(0), b.getLong(8), protocol, port));
    }
    return out;
  }
}
