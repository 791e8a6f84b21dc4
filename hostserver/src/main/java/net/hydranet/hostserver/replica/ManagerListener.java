package net.hydranet.hostserver.replica;

import static net.hydranet.hostserver.replica.ReplicaService.LOG;
import static net.hydranet.hostserver.replica.ReplicaService.format;

import java.io.Closeable;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.PublicKey;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.hydranet.replica.ProtocolException;
import net.hydranet.replica.ReplicaSession;
import net.hydranet.replica.UnsupportedHelloException;

/**
 * The service's TCP listener and its admission: the acceptor thread takes each connection within
 * the limits, and a reader thread per connection runs the HELLO exchange, admits the origin's
 * manager within its own limit and then serves its requests ({@link ManagerConnection}).
 *
 * <p>Admission (REPLICAS.md, "Limits"), decided on the acceptor thread before a byte is read or
 * signed: a connection from an address that is no configured manager's is closed at once (it could
 * never pass HELLO, which must come from the manager's own address); from a manager's address, at
 * most {@link ReplicaService.Context#maxHandshakesPerSource} may be in their HELLO at once — one
 * more closes the oldest of them, so idle or slow connections cannot keep the manager out, only
 * make it race connections it completes in a round trip — and {@link
 * ReplicaService.Context#maxHandshakes} in all. The whole HELLO must arrive within {@link
 * ReplicaService.Context#helloTimeoutMillis} of the accept. Every refusal is counted by reason.
 *
 * <p>It listens on the control address when an origin's manager is IPv4 and on {@link
 * ReplicaService.Context#address6} when one is IPv6 (each alone, never a wildcard), one acceptor
 * thread each; on each connection it says HELLO with the address the connection reached, so version
 * 1 over IPv4 and version 2 over IPv6.
 */
final class ManagerListener implements Closeable {
  private final ReplicaService.Context ctx;
  private final ReplicaCounters counters;
  private final Managers managers;
  private final ManagerConnection.Handlers handlers;
  private final Map<InetAddress, Origin> byManager = new HashMap<>();
  private final Object lock = new Object();
  // Guarded by lock: connections accepted and not yet closed; of them, those still in their
  // HELLO, oldest first per source address, and their number.
  private int connectionCount;
  private final Map<InetAddress, ArrayDeque<Socket>> handshaking = new HashMap<>();
  private int handshakeCount;
  private final List<ServerSocket> listeners = new ArrayList<>();
  private volatile boolean open = true;

  ManagerListener(
      ReplicaService.Context ctx,
      ReplicaCounters counters,
      Managers managers,
      ManagerConnection.Handlers handlers) {
    this.ctx = ctx;
    this.counters = counters;
    this.managers = managers;
    this.handlers = handlers;
    for (Origin o : ctx.origins) {
      byManager.put(o.manager(), o);
    }
  }

  /**
   * Binds the addresses the managers' families need (the control address for IPv4 managers, {@code
   * address6} for IPv6 ones) and starts an acceptor thread on each. With port 0 (tests) the second
   * takes the port the first was given.
   */
  void start() throws IOException {
    List<InetAddress> addresses = new ArrayList<>();
    if (byManager.keySet().stream().anyMatch(a -> a instanceof Inet4Address)) {
      addresses.add(ReplicaService.inet(ctx.address));
    }
    if (byManager.keySet().stream().anyMatch(a -> a instanceof Inet6Address)) {
      addresses.add(ctx.address6);
    }
    int port = ctx.port;
    for (InetAddress a : addresses) {
      ServerSocket listener = new ServerSocket();
      try {
        listener.setReuseAddress(true);
        listener.bind(new InetSocketAddress(a, port), 64);
      } catch (IOException e) {
        listener.close();
        close();
        throw new IOException(
            "cannot listen on " + format(a) + " port " + port + ": " + e.getMessage(), e);
      }
      port = listener.getLocalPort();
      listeners.add(listener);
    }
    for (ServerSocket listener : listeners) {
      Thread acceptor =
          new Thread(
              () -> accept(listener),
              "hydranet-replica-accept-" + listener.getInetAddress().getHostAddress());
      acceptor.setDaemon(true);
      acceptor.start();
    }
  }

  int port() {
    return listeners.get(0).getLocalPort();
  }

  /** The addresses listened on, for the log: "198.18.1.20 and 2001:2:0:3::2". */
  String addressesText() {
    return listeners.stream()
        .map(l -> format(l.getInetAddress()))
        .collect(java.util.stream.Collectors.joining(" and "));
  }

  private void accept(ServerSocket listener) {
    while (open) {
      Socket s;
      try {
        s = listener.accept();
      } catch (IOException e) {
        if (open) {
          LOG.warn("replica service: accept: {}", e.getMessage());
        }
        continue;
      }
      long deadline = System.nanoTime() + ctx.helloTimeoutMillis * 1_000_000L;
      ReplicaCounter refused = admit(s);
      if (refused != null) {
        counters.add(refused);
        closeQuietly(s);
        continue;
      }
      counters.add(ReplicaCounter.CONNECTIONS);
      Thread t =
          new Thread(
              () -> serve(s, deadline), "hydranet-replica-" + s.getInetAddress().getHostAddress());
      t.setDaemon(true);
      t.start();
    }
  }

  /**
   * Admits {@code s} into its HELLO, or returns the reason it is refused; may close the oldest
   * HELLO in progress from the same address to make room (counted as evicted).
   */
  private ReplicaCounter admit(Socket s) {
    InetAddress source = s.getInetAddress();
    if (!byManager.containsKey(source)) {
      return ReplicaCounter.REFUSED_UNKNOWN_SOURCE;
    }
    Socket evicted = null;
    synchronized (lock) {
      if (connectionCount >= ctx.maxConnections) {
        return ReplicaCounter.CONNECTIONS_OVER_LIMIT;
      }
      ArrayDeque<Socket> mine = handshaking.computeIfAbsent(source, a -> new ArrayDeque<>());
      if (mine.size() >= ctx.maxHandshakesPerSource) {
        evicted = mine.pollFirst();
        handshakeCount--;
      } else if (handshakeCount >= ctx.maxHandshakes) {
        return ReplicaCounter.HANDSHAKES_OVER_LIMIT;
      }
      mine.addLast(s);
      handshakeCount++;
      connectionCount++;
    }
    if (evicted != null) {
      // Its reader sees the close at once and ends; its connection slot is freed there.
      counters.add(ReplicaCounter.HANDSHAKES_EVICTED);
      closeQuietly(evicted);
    }
    return null;
  }

  /** {@code s} has left its HELLO (done, failed or evicted): it no longer counts as in one. */
  private void handshakeOver(Socket s) {
    synchronized (lock) {
      ArrayDeque<Socket> mine = handshaking.get(s.getInetAddress());
      if (mine != null && mine.remove(s)) {
        handshakeCount--;
        if (mine.isEmpty()) {
          handshaking.remove(s.getInetAddress());
        }
      }
    }
  }

  /** One manager connection: handshake by {@code deadline}, then requests until it ends. */
  private void serve(Socket socket, long deadline) {
    ManagerConnection c = null;
    try {
      socket.setTcpNoDelay(true);
      ReplicaSession session = handshake(socket, deadline);
      if (session == null) {
        return;
      }
      Origin origin = byManager.get(session.peerAddress());
      c = new ManagerConnection(session, origin, counters);
      int had = managers.add(c, ctx.maxPerOrigin);
      if (had >= ctx.maxPerOrigin) {
        counters.add(ReplicaCounter.ORIGIN_OVER_LIMIT);
        LOG.info(
            "replica service: manager {} already has {} connections",
            format(origin.manager()),
            had);
        c = null;
        return;
      }
      socket.setSoTimeout(0);
      LOG.info("replica service: manager {} connected", format(origin.manager()));
      c.run(handlers, () -> open);
    } catch (IOException | RuntimeException e) {
      counters.add(ReplicaCounter.PROTOCOL_ERRORS);
      LOG.warn(
          "replica service: connection from {}: {}",
          socket.getInetAddress().getHostAddress(),
          e.toString());
    } finally {
      closeQuietly(socket);
      synchronized (lock) {
        connectionCount--;
      }
      if (c != null) {
        managers.remove(c);
      }
    }
  }

  /** The authenticated session, or null with the failure counted by its reason. */
  private ReplicaSession handshake(Socket socket, long deadline) {
    try {
      return ReplicaSession.open(
          socket,
          ReplicaSession.ROLE_HOST_SERVER,
          socket.getLocalAddress(), // the listener's own: version 1 over IPv4, 2 over IPv6
          ctx.key,
          this::managerKey,
          ctx.maxFrameBytes,
          deadline);
    } catch (IOException e) {
      if (socket.isClosed()) {
        return null; // evicted, and counted so
      }
      if (e instanceof UnsupportedHelloException) {
        // A peer to upgrade or a config to change, not an attack: said at WARN, counted apart.
        counters.add(ReplicaCounter.HANDSHAKE_UNSUPPORTED);
        LOG.warn(
            "replica service: refused {}: {}",
            socket.getInetAddress().getHostAddress(),
            e.getMessage());
        return null;
      }
      counters.add(
          e instanceof ReplicaSession.HelloTimeoutException
              ? ReplicaCounter.HANDSHAKE_TIMEOUTS
              : ReplicaCounter.HANDSHAKE_FAILURES);
      LOG.info(
          "replica service: refused {}: {}",
          socket.getInetAddress().getHostAddress(),
          e.toString());
      return null;
    } finally {
      handshakeOver(socket);
    }
  }

  private PublicKey managerKey(InetAddress address, int role, InetAddress remote)
      throws ProtocolException {
    if (role != ReplicaSession.ROLE_MANAGER) {
      throw new ProtocolException("role " + role + " is not a manager");
    }
    Origin o = byManager.get(address);
    if (o == null) {
      throw new ProtocolException(format(address) + " is no origin's manager here");
    }
    if (!address.equals(remote)) {
      throw new ProtocolException(
          "says it is " + format(address) + " but connects from " + remote.getHostAddress());
    }
    return o.key();
  }

  /** Stops accepting and closes every manager connection. */
  @Override
  public void close() {
    open = false;
    for (ServerSocket listener : listeners) {
      closeQuietly(listener);
    }
    for (ManagerConnection c : managers.all()) {
      c.close();
    }
  }

  static void closeQuietly(Closeable c) {
    try {
      c.close();
    } catch (IOException e) {
      // closing
    }
  }
}
