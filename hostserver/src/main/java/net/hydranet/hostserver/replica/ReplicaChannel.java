package net.hydranet.hostserver.replica;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A replica's channel (REPLICAS.md): a Unix stream socket in its directory, mode 0600 and owned by
 * the replica's user, carrying {@code u32 length, payload} frames. One connection at a time; a
 * frame over the limit ends that connection (counted) and the replica may connect again.
 *
 * <p>{@link #send} never blocks its caller (the thread serving an origin's manager): payloads wait
 * in a queue of at most {@link #MAX_QUEUED} bytes that a writer thread drains. A replica that stops
 * reading fills it, and the next send closes the connection (counted as a stall) rather than wait,
 * so one stuck replica cannot hold up its origin's other replicas or the host server's memory.
 */
final class ReplicaChannel implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReplicaChannel.class);
  static final int MAX_PAYLOAD = 16 << 20;

  /** Bytes waiting for a replica before it counts as stalled: two of the largest payloads. */
  static final long MAX_QUEUED = 2L * (MAX_PAYLOAD + 4);

  /** Where a payload from the replica goes. */
  @FunctionalInterface
  interface Sink {
    void payload(byte[] payload);
  }

  private final String name;
  private final Path path;
  private final ServerSocketChannel server;
  private final ReplicaCounters counters;
  private final Object writeLock = new Object();
  // Guarded by writeLock: frames for the current connection, oldest first, and their size.
  private final ArrayDeque<ByteBuffer> queue = new ArrayDeque<>();
  private long queuedBytes;
  private volatile SocketChannel connection;
  private Thread thread;
  private Thread writer;

  private ReplicaChannel(
      String name, Path path, ServerSocketChannel server, ReplicaCounters counters) {
    this.name = name;
    this.path = path;
    this.server = server;
    this.counters = counters;
  }

  /** Binds {@code path} and hands it to {@code uid}. */
  static ReplicaChannel open(String name, Path path, int uid, ReplicaCounters counters)
      throws IOException {
    Files.deleteIfExists(path);
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      server.bind(UnixDomainSocketAddress.of(path));
      Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
      chown(path, uid);
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
    return new ReplicaChannel(name, path, server, counters);
  }

  static void chown(Path path, int uid) throws IOException {
    Files.setAttribute(path, "unix:uid", uid);
    Files.setAttribute(path, "unix:gid", uid);
  }

  void start(Sink sink) {
    thread = new Thread(() -> serve(sink), "hydranet-replica-channel-" + name);
    thread.setDaemon(true);
    thread.start();
    writer = new Thread(this::drain, "hydranet-replica-writer-" + name);
    writer.setDaemon(true);
    writer.start();
  }

  private void use(SocketChannel c) {
    synchronized (writeLock) {
      queue.clear(); // anything queued was for the connection before
      queuedBytes = 0;
      connection = c;
    }
  }

  /** The writer thread: blocking writes of the queue's head, one connection at a time. */
  private void drain() {
    while (server.isOpen()) {
      ByteBuffer frame;
      SocketChannel c;
      synchronized (writeLock) {
        while (queue.isEmpty() && server.isOpen()) {
          try {
            writeLock.wait(1000);
          } catch (InterruptedException e) {
            return;
          }
        }
        frame = queue.peek();
        c = connection;
      }
      if (frame == null) {
        continue;
      }
      try {
        while (frame.hasRemaining()) {
          c.write(frame);
        }
      } catch (IOException | RuntimeException e) {
        // Closed under us: by the replica, by a stall below, or by close(). The queue goes with
        // the connection (use() clears it when the connection changes).
        LOG.debug("replica {}: channel write: {}", name, e.toString());
      }
      synchronized (writeLock) {
        if (queue.peek() == frame) {
          queue.poll();
          queuedBytes -= frame.capacity();
        }
      }
    }
  }

  private void serve(Sink sink) {
    while (server.isOpen()) {
      try (SocketChannel c = server.accept()) {
        use(c);
        ByteBuffer head = ByteBuffer.allocate(4);
        while (true) {
          head.clear();
          readFully(c, head);
          long length = head.getInt(0) & 0xffffffffL;
          if (length > MAX_PAYLOAD) {
            counters.add(ReplicaCounter.CHANNEL_ERRORS);
            LOG.warn(
                "replica {}: channel frame of {} bytes (limit {}): connection closed",
                name,
                length,
                MAX_PAYLOAD);
            break;
          }
          ByteBuffer payload = ByteBuffer.allocate((int) length);
          readFully(c, payload);
          sink.payload(payload.array());
        }
      } catch (EOFException e) {
        LOG.debug("replica {}: channel closed by the replica", name);
      } catch (IOException | RuntimeException e) {
        if (server.isOpen()) {
          counters.add(ReplicaCounter.CHANNEL_ERRORS);
          LOG.warn("replica {}: channel: {}", name, e.toString());
        }
      } finally {
        use(null);
      }
    }
  }

  private static void readFully(SocketChannel c, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      if (c.read(b) < 0) {
        throw new EOFException();
      }
    }
  }

  /**
   * Queues one payload for the replica; false when it has no connection open, or when it has
   * stopped reading (then the connection is closed and counted).
   */
  boolean send(byte[] payload) throws IOException {
    synchronized (writeLock) {
      SocketChannel c = connection;
      if (c == null || !c.isOpen()) {
        return false;
      }
      int size = 4 + payload.length;
      if (queuedBytes > 0 && queuedBytes + size > MAX_QUEUED) {
        counters.add(ReplicaCounter.CHANNEL_STALLS);
        LOG.warn(
            "replica {}: channel not read ({} bytes waiting): connection closed",
            name,
            queuedBytes);
        queue.clear();
        queuedBytes = 0;
        c.close();
        return false;
      }
      ByteBuffer b = ByteBuffer.allocate(size);
      b.putInt(payload.length).put(payload).flip();
      queue.add(b);
      queuedBytes += size;
      writeLock.notifyAll();
      return true;
    }
  }

  /** Bytes queued for the replica and not yet written. */
  long queuedBytes() {
    synchronized (writeLock) {
      return queuedBytes;
    }
  }

  boolean connected() {
    SocketChannel c = connection;
    return c != null && c.isOpen();
  }

  @Override
  public void close() {
    try {
      server.close();
      synchronized (writeLock) {
        writeLock.notifyAll();
      }
      SocketChannel c = connection;
      if (c != null) {
        c.close();
      }
      Files.deleteIfExists(path);
    } catch (IOException e) {
      LOG.debug("replica {}: closing channel: {}", name, e.getMessage());
    }
  }
}
