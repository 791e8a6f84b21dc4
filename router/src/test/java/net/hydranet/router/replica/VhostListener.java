package net.hydranet.router.replica;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A test replica: listens on TCP {@code args[0]} on every address and says hello to each client.
 */
public final class VhostListener {
  private VhostListener() {}

  public static void main(String[] args) throws IOException {
    try (ServerSocket server = new ServerSocket(Integer.parseInt(args[0]))) {
      while (true) {
        try (Socket s = server.accept()) {
          s.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
        }
      }
    }
  }
}
