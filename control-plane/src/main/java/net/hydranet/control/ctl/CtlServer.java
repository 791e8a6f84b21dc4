package net.hydranet.control.ctl;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local-only operator interface: a Unix domain socket (mode 0600, so root only) on which one
 * connection carries one command line and gets one text answer. No TCP port, so nothing off the
 * host can reach it.
 */
public final class CtlServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CtlServer.class);
  private static final int MAX_COMMAND = 256;

  private final Path path;
  private final ServerSocketChannel server;
  private final Thread thread;

  private CtlServer(Path path, ServerSocketChannel server, Function<String, String> handler) {
    this.path = path;
    this.server = server;
    this.thread = new Thread(() -> serve(handler), "hydranet-ctl");
    thread.setDaemon(true);
  }

  public static CtlServer start(Path path, Function<String, String> handler) throws IOException {
    Files.createDirectories(path.toAbsolutePath().getParent());
    Files.deleteIfExists(path);
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(path));
    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
    CtlServer s = new CtlServer(path, server, handler);
    s.thread.start();
    return s;
  }

  private void serve(Function<String, String> handler) {
    while (server.isOpen()) {
      try (SocketChannel c = server.accept()) {
        ByteBuffer in = ByteBuffer.allocate(MAX_COMMAND);
        while (in.hasRemaining() && c.read(in) > 0) {
          if (in.get(in.position() - 1) == '\n') {
            break;
          }
        }
        String command = new String(in.array(), 0, in.position(), StandardCharsets.UTF_8).strip();
        String answer;
        try {
          answer = handler.apply(command);
        } catch (RuntimeException e) {
          answer = "error: " + e.getMessage() + "\n";
        }
        ByteBuffer out = ByteBuffer.wrap(answer.getBytes(StandardCharsets.UTF_8));
        while (out.hasRemaining()) {
          c.write(out);
        }
      } catch (IOException e) {
        if (server.isOpen()) {
          LOG.debug("ctl connection: {}", e.getMessage());
        }
      }
    }
  }

  /** Sends one command to a running daemon and returns its answer. */
  public static String request(Path path, String command) throws IOException {
    try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
      c.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.UTF_8)));
      c.shutdownOutput();
      ByteBuffer buf = ByteBuffer.allocate(1 << 16);
      StringBuilder sb = new StringBuilder();
      while (c.read(buf) > 0 || buf.position() > 0) {
        buf.flip();
        sb.append(StandardCharsets.UTF_8.decode(buf));
        buf.clear();
      }
      return sb.toString();
    }
  }

  @Override
  public void close() {
    try {
      server.close();
      Files.deleteIfExists(path);
    } catch (IOException e) {
      LOG.debug("closing ctl socket: {}", e.getMessage());
    }
  }
}
