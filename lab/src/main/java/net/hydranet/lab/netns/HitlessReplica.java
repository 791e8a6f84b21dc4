package net.hydranet.lab.netns;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executors;

/**
 * The replica a {@link ControlNetwork} installs through the replica service (REPLICAS.md) as a
 * signed bundle: an HTTP/1.1 keep-alive server on port 80 whose every answer is {@code REPLICA
 * NAME}, and {@code iperf3 -s} on port 5201 as its child, so the hitless test's real clients (HTTP
 * keep-alive and an iperf3 stream) reach it like the origin. The JDK alone: a bundle carries this
 * one class and nothing else.
 *
 * <p>Arguments: [NAME]; by default the host name, which the replica service sets to the replica's
 * name (its own UTS namespace), so one bundle serves every replica.
 */
public final class HitlessReplica {
  private HitlessReplica() {}

  public static void main(String[] args) throws IOException, InterruptedException {
    // The JDK's server closes a kept-alive connection idle for 30 s; a connection whose client is
    // retransmitting through a redirector's restart looks idle from here, and a server closing it
    // is not what the test measures (nginx keeps 75 s, Python's http.server forever).
    System.setProperty("sun.net.httpserver.idleInterval", "600");
    String name =
        args.length > 0
            ? args[0]
            : Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.UTF_8)
                .strip();
    byte[] body = ("REPLICA " + name + "\n").getBytes(StandardCharsets.UTF_8);
    HttpServer http = HttpServer.create(new InetSocketAddress(80), 64);
    http.createContext(
        "/",
        exchange -> {
          exchange.getRequestBody().readAllBytes();
          exchange.getResponseHeaders().set("Content-Type", "text/plain");
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    http.setExecutor(Executors.newFixedThreadPool(4));
    http.start();
    Process iperf = new ProcessBuilder("iperf3", "-s", "-4", "-p", "5201").inheritIO().start();
    Runtime.getRuntime().addShutdownHook(new Thread(iperf::destroy));
    System.out.println("replica " + name + ": http on 80, iperf3 on 5201");
    System.exit(iperf.waitFor());
  }
}
