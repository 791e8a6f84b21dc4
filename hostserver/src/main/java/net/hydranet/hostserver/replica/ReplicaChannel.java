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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A replica's channel (REPLICAS.md): a Unix stream socket in its directory, mode 0600 and owned by
 * the replica's user, carrying {@code u32 length, payload} frames. One connection at a time; a
 * frame over the limit ends that connection (counted) and the replica may connect again.
 */
final class ReplicaChannel implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReplicaChannel.class);
  static final int MAX_PAYLOAD = 16 << 20;

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
  private volatile SocketChannel connection;
  private Thread thread;

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
  }

  private void serve(Sink sink) {
    while (server.isOpen()) {
      try (SocketChannel c = server.accept()) {
        connection = c;
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
        connection = null;
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

  /** Writes one payload to the replica; false when it has no connection open. */
  boolean send(byte[] payload) throws IOException {
    synchronized (writeLock) {
      SocketChannel c = connection;
      if (c == null || !c.isOpen()) {
        return false;
      }
      ByteBuffer b = ByteBuffer.allocate(4 + payload.length);
      b.putInt(payload.length).put(payload).flip();
      while (b.hasRemaining()) {
        c.write(b);
      }
      return true;
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
