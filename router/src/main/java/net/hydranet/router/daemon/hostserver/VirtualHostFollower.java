package net.hydranet.router.daemon.hostserver;

import java.util.function.Supplier;
import net.hydranet.control.agent.HostServerAgent;
import net.hydranet.control.wire.Service;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.hostserver.HostServerPath;
import net.hydranet.hostserver.SockDiag;
import net.hydranet.hostserver.VirtualHostDirectory;
import net.hydranet.hostserver.VirtualHostLinkScan;
import net.hydranet.hostserver.VirtualHostTable;
import net.hydranet.router.daemon.DaemonLoggers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the directory scan finds ({@code hydranet vhost}'s virtual hosts and their ports), applied:
 * the path's tables through its command queue, the socket table and link ring of each virtual host,
 * and the control plane's announcements. Main thread.
 */
public final class VirtualHostFollower implements VirtualHostDirectory.Listener {
  private static final Logger LOG = LoggerFactory.getLogger(DaemonLoggers.HOST_SERVER);

  private final HostServerPath path;
  private final VirtualHostTable table;
  private final SockDiag sockets;
  private final SocketTables socketTables;
  private final VirtualHostLinkScan linkScan;
  private final Supplier<HostServerAgent> agent;

  public VirtualHostFollower(
      HostServerPath path,
      VirtualHostTable table,
      SockDiag sockets,
      SocketTables socketTables,
      VirtualHostLinkScan linkScan,
      Supplier<HostServerAgent> agent) {
    this.path = path;
    this.table = table;
    this.sockets = sockets;
    this.socketTables = socketTables;
    this.linkScan = linkScan;
    this.agent = agent;
  }

  @Override
  public void virtualHostAdded(int origin) {
    LOG.info("virtual host {} installed", Ipv4Header.formatAddress(origin));
    path.command(() -> table.addVirtualHost(origin));
    // Its replica may not run yet: tried again when it binds a port.
    socketTables.open(origin, false);
    linkScan.added(origin); // its link, once the kernel knows the MAC
  }

  @Override
  public void virtualHostProcess(int origin, long pid) {
    socketTables.process(origin, pid);
  }

  @Override
  public void scanned() {
    socketTables.check();
  }

  @Override
  public void virtualHostRemoved(int origin) {
    LOG.info("virtual host {} removed", Ipv4Header.formatAddress(origin));
    path.command(() -> table.removeVirtualHost(origin));
    path.command(() -> sockets.remove(origin));
    socketTables.forget(origin);
    linkScan.removed(origin);
  }

  @Override
  public void portBound(int origin, String protocol, int port) {
    LOG.info(
        "announce {}:{}/{} (virtual host listening)",
        Ipv4Header.formatAddress(origin),
        port,
        protocol);
    int p = protocol.equals("tcp") ? Ipv4Header.PROTOCOL_TCP : Ipv4Header.PROTOCOL_UDP;
    path.command(() -> table.bind(origin, p, port));
    socketTables.open(origin, true);
    HostServerAgent agent = this.agent.get();
    if (agent != null) {
      agent.portBound(origin, p, port);
    }
  }

  @Override
  public void portClosed(int origin, String protocol, int port) {
    LOG.info("withdraw {}:{}/{} (port closed)", Ipv4Header.formatAddress(origin), port, protocol);
    int p = protocol.equals("tcp") ? Ipv4Header.PROTOCOL_TCP : Ipv4Header.PROTOCOL_UDP;
    HostServerAgent agent = this.agent.get();
    if (agent != null) {
      agent.portClosed(origin, p, port);
    }
    path.command(() -> table.unbind(origin, p, port));
  }

  @Override
  public void virtualHost6Added(long high, long low) {
    LOG.info("virtual host {} installed", Ipv6Header.formatAddress(high, low));
    linkScan.added6(high, low);
    path.command(
        () -> {
          if (!table.addVirtualHost6(high, low)) {
            LOG.warn(
                "virtual host {} refused: this host server holds {} IPv6 virtual hosts",
                Ipv6Header.formatAddress(high, low),
                VirtualHostTable.MAX_IPV6_VIRTUAL_HOSTS);
          }
        });
  }

  @Override
  public void virtualHost6Removed(long high, long low) {
    LOG.info("virtual host {} removed", Ipv6Header.formatAddress(high, low));
    path.command(() -> table.removeVirtualHost6(high, low));
    linkScan.removed6(high, low);
  }

  @Override
  public void port6Bound(long high, long low, String protocol, int port) {
    Service s = Service.ipv6(high, low, protocolNumber(protocol), port);
    LOG.info("announce {} (virtual host listening)", s);
    path.command(() -> table.bind6(high, low, s.protocol(), port));
    HostServerAgent agent = this.agent.get();
    if (agent != null) {
      agent.portBound(s);
    }
  }

  @Override
  public void port6Closed(long high, long low, String protocol, int port) {
    Service s = Service.ipv6(high, low, protocolNumber(protocol), port);
    LOG.info("withdraw {} (port closed)", s);
    HostServerAgent agent = this.agent.get();
    if (agent != null) {
      agent.portClosed(s);
    }
    path.command(() -> table.unbind6(high, low, s.protocol(), port));
  }

  private static int protocolNumber(String protocol) {
    return protocol.equals("tcp") ? Ipv4Header.PROTOCOL_TCP : Ipv4Header.PROTOCOL_UDP;
  }
}
