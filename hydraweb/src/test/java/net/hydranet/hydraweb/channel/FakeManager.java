package net.hydranet.hydraweb.channel;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The host server's end of a replica channel, driven by a test as if it were the manager: binds the
 * Unix socket, accepts the replica, exchanges decoded messages. Every wait is bounded.
 */
final class FakeManager implements AutoCloseable {
  private final Path path;
  private ServerSocketChannel listener;
  private SocketChannel replica;
  private final ExecutorService io = Executors.newSingleThreadExecutor();

  FakeManager(Path path) throws IOException {
    this.path = path;
    listen();
  }

  void listen() throws IOException {
    Files.deleteIfExists(path);
    listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    listener.bind(UnixDomainSocketAddress.of(path));
  }

  /** Waits for the replica to connect and say READY. */
  AppMessage.Ready accept() throws Exception {
    Future<SocketChannel> f = io.submit(() -> listener.accept());
    replica = f.get(10, TimeUnit.SECONDS);
    return (AppMessage.Ready) receive();
  }

  void send(AppMessage m) throws IOException {
    sendRaw(AppCodec.encode(m));
  }

  void sendRaw(byte[] payload) throws IOException {
    ChannelFraming.write(replica, payload);
  }

  AppMessage receive() throws Exception {
    Future<byte[]> f = io.submit(() -> ChannelFraming.read(replica));
    byte[] p = f.get(10, TimeUnit.SECONDS);
    if (p == null) {
      throw new IOException("replica closed the channel");
    }
    return AppCodec.decode(p);
  }

  /** Drops the replica's connection and stops listening: the channel is down. */
  void down() throws IOException {
    replica.close();
    listener.close();
    Files.deleteIfExists(path);
  }

  @Override
  public void close() throws IOException {
    io.shutdownNow();
    if (replica != null) {
      replica.close();
    }
    listener.close();
  }
}
