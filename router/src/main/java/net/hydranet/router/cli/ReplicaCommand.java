package net.hydranet.router.cli;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeoutException;
import net.hydranet.control.auth.Keys;
import net.hydranet.replica.OriginAddress;
import net.hydranet.replica.ReplicaClient;
import net.hydranet.replica.ReplicaSession;
import net.hydranet.replica.ReplicaStatus;
import net.hydranet.router.error.UserError;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code hydranet replica install|remove|status}: an operator acting as an origin's replica manager
 * against one host server (REPLICAS.md). Exit 0 on OK, 3 on REFUSED (the reason printed).
 */
@Command(
    name = "replica",
    mixinStandardHelpOptions = true,
    description = {
      "Installs, removes or reports replicas on a host server, as the origin's manager.",
      "",
      "Examples:",
      "  hydranet replica install --host-server 198.18.1.20 --host-server-key keys/hs1.pub \\\\",
      "      --key keys/origin.key --address 198.18.2.1 web-1 hydraweb-replica.jar",
      "  hydranet replica status  --host-server 198.18.1.20 --host-server-key keys/hs1.pub \\\\",
      "      --key keys/origin.key --address 198.18.2.1",
      "  hydranet replica remove  ... --drain-ms 5000 web-1",
      "  hydranet replica status  --host-server '[2001:2:0:3::2]' --host-server-key keys/hs1.pub \\\\",
      "      --key keys/origin.key --address6 2001:2:0:2::100"
    })
public final class ReplicaCommand implements Callable<Integer> {
  static final int REFUSED = 3;

  @Parameters(index = "0", paramLabel = "ACTION", description = "install, remove or status")
  String action;

  @Parameters(index = "1", arity = "0..1", paramLabel = "NAME", description = "the replica")
  String name;

  @Parameters(index = "2", arity = "0..1", paramLabel = "JAR", description = "the bundle (install)")
  Path jar;

  @Option(names = "--host-server", required = true, description = "ADDRESS[:PORT] (port 6227)")
  String hostServer;

  @Option(names = "--host-server-key", required = true, description = "the host server's .pub")
  String hostServerKey;

  @Option(names = "--key", required = true, description = "the origin's private key")
  Path key;

  @Option(
      names = "--address",
      description = {
        "the manager's IPv4 address the host server knows (the socket binds to it), for an IPv4",
        "host server"
      })
  String address;

  @Option(
      names = "--address6",
      description = {
        "the manager's IPv6 address the host server knows, for an IPv6 host server",
        "([2001:2:0:3::2]:6227): HELLO version 2"
      })
  String address6;

  @Option(names = "--signature", description = "the bundle's signature (default: JAR.sig)")
  Path signature;

  @Option(names = "--drain-ms", defaultValue = "0", description = "remove: drain time")
  long drainMillis;

  @Option(names = "--timeout", defaultValue = "60", description = "seconds to wait for the answer")
  int timeoutSeconds;

  @Override
  public Integer call() {
    InetSocketAddress target = hostServer();
    InetAddress self = self(target);
    PrivateKey originKey;
    PublicKey hsKey;
    try {
      originKey = Keys.readPrivate(key);
      hsKey = Keys.readPublic(hostServerKey);
    } catch (IOException e) {
      throw new UserError(e.getMessage());
    }
    Duration timeout = Duration.ofSeconds(timeoutSeconds);
    try (ReplicaClient c =
        ReplicaClient.connect(
            target,
            self,
            originKey,
            hsKey,
            (r, p) -> {},
            (r, s, t) -> System.err.println("event: " + r + " " + s + " " + t))) {
      return act(c, timeout);
    } catch (TimeoutException e) {
      throw new UserError(hostServer + ": no answer within " + timeout.toSeconds() + " s");
    } catch (IOException e) {
      throw new UserError(hostServer + ": " + e.getMessage());
    }
  }

  /**
   * The manager's own address of the host server's family ({@code --address} or {@code
   * --address6}), which the host server knows it by.
   */
  private InetAddress self(InetSocketAddress target) {
    boolean v6 = target.getAddress() instanceof Inet6Address;
    String mine = v6 ? address6 : address;
    String option = v6 ? "--address6" : "--address";
    if (mine == null) {
      throw new UserError(
          "--host-server "
              + hostServer
              + " is "
              + (v6 ? "IPv6" : "IPv4")
              + ": give "
              + option
              + ", the manager's address of that family the host server knows");
    }
    InetAddress self = literal(mine, option);
    if ((self instanceof Inet6Address) != v6) {
      throw new UserError(
          option + ": '" + mine + "' is not an " + (v6 ? "IPv6" : "IPv4") + " address");
    }
    return self;
  }

  /** The ACTION, over the connection to the host server. */
  private int act(ReplicaClient c, Duration timeout) throws IOException, TimeoutException {
    switch (action) {
      case "install" -> {
        if (name == null || jar == null) {
          throw new UserError("install needs NAME and JAR");
        }
        byte[] bytes = Files.readAllBytes(jar);
        byte[] sig =
            BundleCommand.readSignature(
                signature != null ? signature : jar.resolveSibling(jar.getFileName() + ".sig"));
        return print(c.install(name, bytes, sig, timeout));
      }
      case "remove" -> {
        if (name == null) {
          throw new UserError("remove needs NAME");
        }
        return print(c.remove(name, drainMillis, timeout.plusMillis(drainMillis)));
      }
      case "status" -> {
        List<ReplicaStatus> all = c.status(name == null ? "" : name, timeout);
        for (ReplicaStatus s : all) {
          System.out.println(s);
        }
        return 0;
      }
      default -> throw new UserError("ACTION is install, remove or status, not '" + action + "'");
    }
  }

  /** {@code --host-server}: IPv4[:PORT], or IPv6 bare or as [IPv6]:PORT; port 6227 by default. */
  private InetSocketAddress hostServer() {
    String host = hostServer;
    int port = ReplicaSession.PORT;
    String portText = null;
    if (hostServer.startsWith("[")) {
      int close = hostServer.indexOf(']');
      if (close < 0) {
        throw new UserError("--host-server: no ']' in '" + hostServer + "'");
      }
      host = hostServer.substring(1, close);
      String rest = hostServer.substring(close + 1);
      if (!rest.isEmpty()) {
        if (!rest.startsWith(":")) {
          throw new UserError("--host-server: '" + hostServer + "' is not [IPv6]:PORT");
        }
        portText = rest.substring(1);
      }
    } else if (hostServer.indexOf(':') == hostServer.lastIndexOf(':')
        && hostServer.indexOf(':') > 0) {
      host = hostServer.substring(0, hostServer.indexOf(':'));
      portText = hostServer.substring(hostServer.indexOf(':') + 1);
    }
    if (portText != null) {
      try {
        port = Integer.parseInt(portText);
      } catch (NumberFormatException e) {
        throw new UserError("--host-server: bad port in '" + hostServer + "'");
      }
      if (port < 1 || port > 65_535) {
        throw new UserError("--host-server: port " + port + " outside 1..65535");
      }
    }
    return new InetSocketAddress(literal(host, "--host-server"), port);
  }

  /** An address literal of either family (never a name to resolve). */
  private static InetAddress literal(String text, String option) {
    try {
      return OriginAddress.parse(text);
    } catch (IllegalArgumentException e) {
      throw new UserError(option + ": '" + text + "' is not an IPv4 or IPv6 address");
    }
  }

  /** "OK text", or "REFUSED (bad signature) text": the reason in words, for people and scripts. */
  private static int print(ReplicaClient.Reply r) {
    if (r.ok()) {
      System.out.println("OK " + r.text());
      return 0;
    }
    String why = r.refusal().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ');
    System.out.println("REFUSED (" + why + ") " + r.text());
    return REFUSED;
  }
}
