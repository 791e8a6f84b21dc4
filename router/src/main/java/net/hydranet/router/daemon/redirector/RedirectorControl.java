package net.hydranet.router.daemon.redirector;

import java.io.IOException;
import java.nio.file.Path;
import net.hydranet.control.agent.ControlAgent;
import net.hydranet.control.agent.RedirectorAgent;
import net.hydranet.control.rib.TableWriter;
import net.hydranet.control.wire.Entry;
import net.hydranet.control.wire.Service;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.router.config.ConfigException;
import net.hydranet.router.config.ControlConfig;
import net.hydranet.router.config.RedirectorConfig;
import net.hydranet.router.control.ControlPlane;
import net.hydranet.router.daemon.DaemonLoggers;
import net.hydranet.router.error.UserError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The redirector's control plane ({@code --control}): the agent started with its table writes bound
 * to the forwarding plane's command queue, the wait for the table before forwarding starts, and its
 * close at the stop.
 */
public final class RedirectorControl {
  private static final Logger LOG = LoggerFactory.getLogger(DaemonLoggers.REDIRECTOR);

  private final Path control;
  private final KnownServices services;
  private volatile RedirectorAgent agent;

  public RedirectorControl(Path control, KnownServices services) {
    this.control = control;
    this.services = services;
  }

  /** The running agent, or null without {@code --control} (or before it starts). */
  public RedirectorAgent agent() {
    return agent;
  }

  /**
   * Starts the control plane. Its table writes go through the forwarding plane's command queue;
   * static redirects from the config file join its RIB (they override learned ones).
   */
  public void start(ControlConfig c, ForwardingPlane plane, RedirectorConfig cfg)
      throws IOException {
    TableWriter writer =
        new TableWriter() {
          @Override
          public void put(int origin, int protocol, int port, int[] hostServers, int[] weights) {
            plane.addRedirect(origin, protocol, port, hostServers, weights);
            services.learned.add(Entry.service(origin, protocol, port));
            services.changed(cfg);
          }

          @Override
          public void remove(int origin, int protocol, int port) {
            plane.removeRedirect(origin, protocol, port);
            services.learned.remove(Entry.service(origin, protocol, port));
            services.changed(cfg);
          }

          @Override
          public void hostServerDead(int hostServer) {
            plane.hostServerDead(hostServer);
          }

          @Override
          public void putIpv6(
              long high, long low, int protocol, int port, int[] hostServers, int[] weights) {
            Ipv6Redirects.put(plane, high, low, protocol, port, hostServers, weights);
            services.learned.add(Service.ipv6(high, low, protocol, port));
            services.changed(cfg);
          }

          @Override
          public void removeIpv6(long high, long low, int protocol, int port) {
            Ipv6Redirects.remove(plane, high, low, protocol, port);
            services.learned.remove(Service.ipv6(high, low, protocol, port));
            services.changed(cfg);
          }
        };
    RedirectorAgent a;
    try {
      a = ControlPlane.redirector(c, writer, plane.context().maxHostServers());
    } catch (ConfigException e) {
      throw new UserError(control + ": " + e.getMessage());
    }
    a.setStatic(StaticRedirects.of(cfg, plane));
    a.start();
    agent = a;
  }

  /**
   * A redirector that has just started knows no learned service: were it to forward at once, the
   * packets of connections open to replicas — it was restarted, or took over a flow from another —
   * would go to the origin, whose stack answers them with a RST. So it first waits until the
   * control plane has heard every host server and redirector it is configured with (each answers
   * its HELLO at once: a round trip) and committed what they said, or {@code --table-wait} at the
   * most (a node that is down). Meanwhile the transit drop keeps the kernel from forwarding and
   * nothing is sent: TCP retransmits what is lost in the gap, so the connections survive.
   */
  public void awaitTable(ControlConfig c, long tableWaitMillis) throws InterruptedException {
    RedirectorAgent a = agent;
    if (tableWaitMillis <= 0) {
      return;
    }
    long start = System.nanoTime();
    long deadline = start + tableWaitMillis * 1_000_000L;
    int hostServers = c.hostServers().size();
    int redirectors = c.redirectors().size();
    while (System.nanoTime() < deadline
        && (a.hostServersUp() < hostServers || a.peersUp() < redirectors)) {
      Thread.sleep(ControlAgent.TICK_MILLIS);
    }
    boolean heard = a.hostServersUp() >= hostServers && a.peersUp() >= redirectors;
    if (heard) {
      // The ANNOUNCE rides just behind the KEEPALIVE that made the node count: one more
      // recomputation so that the table holds what it said.
      Thread.sleep(5L * ControlAgent.TICK_MILLIS);
    }
    long waited = (System.nanoTime() - start) / 1_000_000L;
    if (heard) {
      LOG.info(
          "forwarding starts: table learned in {} ms ({} services, {} host servers, {} peers)",
          waited,
          a.services(),
          a.hostServersUp(),
          a.peersUp());
    } else {
      LOG.warn(
          "forwarding starts after --table-wait {} ms without hearing every node: {} of {} host"
              + " servers, {} of {} redirectors; {} services",
          tableWaitMillis,
          a.hostServersUp(),
          hostServers,
          a.peersUp(),
          redirectors,
          a.services());
    }
  }

  public void close() {
    if (agent != null) {
      agent.close();
    }
  }
}
