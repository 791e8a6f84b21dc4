package net.hydranet.replica;

import java.io.EOFException;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An origin's connection to one host server's replica service (REPLICAS.md): requests answered by
 * OK, REFUSED or STATUS_REPLY, and APP payloads both ways. One reader thread delivers replies,
 * application payloads and events; requests may come from any thread.
 */
public final class ReplicaClient implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReplicaClient.class);

  /** Replies and events are small; only the manager's own INSTALL is big, and it only sends it. */
  private static final int MAX_INCOMING_FRAME = 16 << 20;

  /** Application payloads from a replica, on the client's reader thread. */
  @FunctionalInterface
  public interface AppListener {
    void onApp(String replica, byte[] payload);
  }

  /** Unsolicited news of a replica (exited, killed), on the client's reader thread. */
  @FunctionalInterface
  public interface EventListener {
    void onEvent(String replica, String state, String text);
  }

  /** The answer to INSTALL or REMOVE. */
  public record Reply(boolean ok, Refusal refusal, String text) {
    @Override
    public String toString() {
      return ok ? "OK " + text : "REFUSED (" + refusal + ") " + text;
    }
  }

  private final ReplicaSession session;
  private final AppListener app;
  private final EventListener events;
  private final Map<Long, CompletableFuture<Frame>> pending = new ConcurrentHashMap<>();
  private final Thread reader;
  private volatile boolean open = true;

  private ReplicaClient(ReplicaSession session, AppListener app, EventListener events) {
    this.session = session;
    this.app = app;
    this.events = events;
    this.reader = new Thread(this::read, "replica-client-" + session.remote().getHostAddress());
    reader.setDaemon(true);
  }

  /**
   * Connects from the IPv4 address {@code selfAddress} (the origin's manager address the host
   * server knows) to {@code hostServer} and authenticates both ends.
   */
  public static ReplicaClient connect(
      InetSocketAddress hostServer,
      int selfAddress,
      PrivateKey originKey,
      PublicKey hostServerKey,
      AppListener app,
      EventListener events)
      throws IOException {
    return connect(
        hostServer, ReplicaSession.ipv4(selfAddress), originKey, hostServerKey, app, events);
  }

  /**
   * Connects from {@code selfAddress} (the origin's manager address the host server knows, of the
   * host server's family) to {@code hostServer} and authenticates both ends. Each end's HELLO is
   * version 1 over IPv4, byte for byte as before version 2, and version 2 over IPv6.
   */
  public static ReplicaClient connect(
      InetSocketAddress hostServer,
      InetAddress selfAddress,
      PrivateKey originKey,
      PublicKey hostServerKey,
      AppListener app,
      EventListener events)
      throws IOException {
    InetAddress expected = hostServer.getAddress();
    if (expected == null) {
      throw new IOException("host server " + hostServer.getHostString() + " is not an address");
    }
    if ((expected instanceof Inet4Address) != (selfAddress instanceof Inet4Address)) {
      // The host server checks that the manager connects from the address it says in HELLO, so
      // the manager needs an address of the host server's family (address or address6).
      throw new IOException(
          "host server "
              + OriginAddress.text(expected)
              + " is "
              + family(expected)
              + " but the manager address "
              + OriginAddress.text(selfAddress)
              + " is "
              + family(selfAddress)
              + ": the manager connects from an address of the host server's family");
    }
    Socket socket = new Socket();
    try {
      socket.bind(new InetSocketAddress(selfAddress, 0));
      socket.connect(hostServer, 5000);
      socket.setTcpNoDelay(true);
      long deadline = System.nanoTime() + 5_000_000_000L; // the host server's HELLO, whole
      ReplicaSession s =
          ReplicaSession.open(
              socket,
              ReplicaSession.ROLE_MANAGER,
              selfAddress,
              originKey,
              (address, role, remote) -> {
                if (role != ReplicaSession.ROLE_HOST_SERVER) {
                  throw new ProtocolException("peer is not a host server (role " + role + ")");
                }
                if (!address.equals(expected)) {
                  throw new ProtocolException(
                      "host server says it is "
                          + OriginAddress.text(address)
                          + ", not the address"
                          + " connected to");
                }
                return hostServerKey;
              },
              MAX_INCOMING_FRAME,
              deadline);
      socket.setSoTimeout(0);
      ReplicaClient c = new ReplicaClient(s, app, events);
      c.reader.start();
      return c;
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  private static String family(InetAddress a) {
    return a instanceof Inet4Address ? "IPv4" : "IPv6";
  }

  public Reply install(String name, byte[] jar, byte[] signature, Duration timeout)
      throws IOException, TimeoutException {
    if (signature.length != ReplicaSession.SIGNATURE) {
      throw new IllegalArgumentException("a bundle signature is 64 bytes, not " + signature.length);
    }
    byte[] body = new Body.Writer().str(name).raw(signature).bytes(jar).toByteArray();
    return reply(request(RmType.INSTALL, body, timeout));
  }

  public Reply remove(String name, long drainMillis, Duration timeout)
      throws IOException, TimeoutException {
    byte[] body = new Body.Writer().str(name).u32(drainMillis).toByteArray();
    return reply(request(RmType.REMOVE, body, timeout));
  }

  /** Every replica of this origin on the host server ({@code name} empty), or the one named. */
  public List<ReplicaStatus> status(String name, Duration timeout)
      throws IOException, TimeoutException {
    Frame f = request(RmType.STATUS, new Body.Writer().str(name).toByteArray(), timeout);
    Body.Reader r = f.reader();
    r.u64();
    if (f.type() == RmType.REFUSED) {
      throw new IOException("status refused: " + Refusal.of(r.u8()) + " " + r.str());
    }
    if (f.type() != RmType.STATUS_REPLY) {
      throw new ProtocolException("STATUS answered by " + f.type());
    }
    int n = r.u16();
    List<ReplicaStatus> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(ReplicaStatus.decode(r));
    }
    r.end();
    return out;
  }

  /** Sends {@code payload} to the replica's channel. */
  public void sendApp(String replica, byte[] payload) throws IOException {
    session.send(RmType.APP, new Body.Writer().str(replica).bytes(payload).toByteArray());
  }

  public boolean isOpen() {
    return open;
  }

  public InetAddress hostServer() {
    return session.remote();
  }

  private Frame request(RmType type, byte[] body, Duration timeout)
      throws IOException, TimeoutException {
    if (!open) {
      throw new IOException("connection to " + session.remote().getHostAddress() + " is closed");
    }
    CompletableFuture<Frame> f;
    long seq;
    // The sequence number is known only once sent, and the reader may see the reply before this
    // thread registers it (the reader takes no lock): whichever comes first makes the future.
    synchronized (session) {
      seq = session.send(type, body);
      f = pending.computeIfAbsent(seq, k -> new CompletableFuture<>());
    }
    // The reader may have ended (the host server closed) between the check above and now, after
    // it failed every pending request: this one would wait its whole timeout for nothing.
    if (!open) {
      f.completeExceptionally(
          new IOException("connection to " + session.remote().getHostAddress() + " closed"));
    }
    try {
      return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    } catch (ExecutionException e) {
      throw new IOException(e.getCause().getMessage(), e.getCause());
    } finally {
      pending.remove(seq);
    }
  }

  private static Reply reply(Frame f) throws ProtocolException {
    Body.Reader r = f.reader();
    r.u64();
    return switch (f.type()) {
      case OK -> new Reply(true, null, r.str());
      case REFUSED -> {
        Refusal why = Refusal.of(r.u8());
        yield new Reply(false, why, r.str());
      }
      default -> throw new ProtocolException("request answered by " + f.type());
    };
  }

  private void read() {
    IOException end = null;
    try {
      while (open) {
        Frame f = session.receive();
        switch (f.type()) {
          case OK, REFUSED, STATUS_REPLY -> {
            long seq = f.reader().u64();
            if (seq <= session.sentCount()) {
              pending.computeIfAbsent(seq, k -> new CompletableFuture<>()).complete(f);
            }
          }
          case APP -> {
            Body.Reader r = f.reader();
            String replica = r.str();
            byte[] payload = r.bytes();
            r.end();
            try {
              app.onApp(replica, payload);
            } catch (RuntimeException e) {
              LOG.warn("app listener failed on a payload from {}: {}", replica, e.toString());
            }
          }
          case EVENT -> {
            Body.Reader r = f.reader();
            String replica = r.str();
            String state = r.str();
            String text = r.str();
            try {
              events.onEvent(replica, state, text);
            } catch (RuntimeException e) {
              LOG.warn("event listener failed: {}", e.toString());
            }
          }
          default -> throw new ProtocolException("a host server does not send " + f.type());
        }
      }
    } catch (EOFException e) {
      end = new IOException("host server closed the connection");
    } catch (IOException e) {
      end = e;
    } finally {
      open = false;
      IOException why = end != null ? end : new IOException("closed");
      if (end != null) {
        LOG.info("{} ended: {}", session, end.getMessage());
      }
      pending.values().forEach(f -> f.completeExceptionally(why));
      try {
        session.close();
      } catch (IOException ignored) {
        // closing a broken socket
      }
    }
  }

  @Override
  public void close() {
    open = false;
    try {
      session.close();
    } catch (IOException ignored) {
      // already closed
    }
  }
}
