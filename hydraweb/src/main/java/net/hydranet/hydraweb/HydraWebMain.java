package net.hydranet.hydraweb;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import net.hydranet.hydraweb.channel.ReplicaChannel;
import net.hydranet.replica.OriginAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replica as a process: {@code java -jar hydraweb.jar --listen ADDRESS:PORT --root DIR}, run
 * under {@code hydranet vhost --origin ADDRESS -- …} so that it answers under the origin's address.
 */
public final class HydraWebMain {
  private static final Logger LOG = LoggerFactory.getLogger(HydraWebMain.class);

  private static final String USAGE =
      """
      Usage: hydraweb --listen ADDRESS:PORT [--root DIR] [--cache-bytes N] [--cache-entries N]
                      [--threads N] [--access-rules FILE] [--channel PATH] [--drain-ms N]
                      [--miss-timeout-ms N]
      HydraWeb's replica: an HTTP/1.1 server answering GET and HEAD from its object cache.
        --listen ADDRESS:PORT   where to listen (default 127.0.0.1:8080); IPv6 in brackets:
                                [2001:2::10]:80, or [::]:80 for both families
        --root DIR              pre-load every regular file under DIR into the cache: DIR/a/b.html
                                is /a/b.html, and DIR/x/index.html is also /x/
        --cache-bytes N         cache capacity in bytes; k, m, g suffixes (default 256m)
        --cache-entries N       cache capacity in objects (default 100000)
        --threads N             event-loop threads (default 1)
        --access-rules FILE     allow/deny rules, one a line: "deny 10.0.0.0/8 /private/"
        --channel PATH          the replica manager's channel (a Unix socket); default: the
                                environment's HYDRANET_CHANNEL, as the host server sets it
        --drain-ms N            on SIGTERM, finish responses in progress for up to N ms (4000)
        --miss-timeout-ms N     a miss the manager has not answered by then is a 504 (10000):
                                the bound when the origin, manager and all, is unreachable; keep
                                it above the manager's fetchTimeoutMillis
      Example:
        hydranet vhost --origin 198.18.2.10 -- java -jar hydraweb.jar --listen 0.0.0.0:80 --root site/
        hydranet vhost --origin 2001:2::10 -- java -jar hydraweb.jar --listen [::]:80 --root site/
      """;

  private HydraWebMain() {}

  public static void main(String[] args) throws Exception {
    Options o = options(args);
    if (o == null) {
      return; // the usage printed, or what is wrong said
    }
    HydraWebServer server = new HydraWebServer(o.config());
    if (o.rulesFile() != null) {
      server.setAccessRules(AccessRules.parse(Files.readString(o.rulesFile())));
      LOG.info("access rules: {}", server.accessRules());
    }
    if (o.root() != null) {
      preload(server.cache(), o.root());
    }
    server.start();
    ReplicaChannel channel =
        o.channelPath() == null
            ? null
            : new ReplicaChannel(server, ReplicaChannel.Config.of(o.channelPath())).start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(() -> stop(server, channel, o.drainMillis(), stopped), "hydraweb-shutdown"));
    stopped.await();
  }

  /** What the command line asks for. */
  private record Options(
      HydraWebServer.Config config,
      Path root,
      Path rulesFile,
      Path channelPath,
      long drainMillis) {}

  /** The command line's options, or null once the usage is printed or what is wrong said. */
  private static Options options(String[] args) {
    HydraWebServer.Config config = new HydraWebServer.Config();
    config.listen(new InetSocketAddress("127.0.0.1", 8080));
    Path root = null;
    Path rulesFile = null;
    String channelEnv = System.getenv("HYDRANET_CHANNEL");
    Path channelPath = channelEnv == null || channelEnv.isEmpty() ? null : Path.of(channelEnv);
    long drainMillis = 4_000;
    try {
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (a.equals("--help") || a.equals("-h")) {
          System.out.print(USAGE);
          return null;
        }
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException(a + " needs a value");
        }
        String v = args[++i];
        switch (a) {
          case "--listen" -> config.listen(address(v));
          case "--root" -> root = Path.of(v);
          case "--cache-bytes" -> config.cacheBytes(size(v));
          case "--cache-entries" -> config.cacheEntries(Integer.parseInt(v));
          case "--threads" -> config.threads(Integer.parseInt(v));
          case "--access-rules" -> rulesFile = Path.of(v);
          case "--channel" -> channelPath = Path.of(v);
          case "--drain-ms" -> drainMillis = Long.parseLong(v);
          case "--miss-timeout-ms" -> config.missTimeoutMillis(Long.parseLong(v));
          default -> throw new IllegalArgumentException("unknown option " + a);
        }
      }
      config.conclude();
      if (drainMillis < 0) {
        throw new IllegalArgumentException("--drain-ms must be ≥ 0");
      }
    } catch (IllegalArgumentException e) {
      fail(System.err, e.getMessage());
      return null;
    }
    return new Options(config, root, rulesFile, channelPath, drainMillis);
  }

  /**
   * SIGTERM (a removal, after its drain time): finish what is in progress; the channel stays up
   * meanwhile, as pending misses need their answers.
   */
  private static void stop(
      HydraWebServer server, ReplicaChannel channel, long drain, CountDownLatch stopped) {
    boolean clean = server.drain(drain);
    if (channel != null) {
      channel.close();
    }
    LOG.info(
        "stopped ({}); cache {}; counters {}{}",
        clean ? "drained" : "drain timed out",
        server.cache().stats(),
        nonZero(server),
        channel == null ? "" : "; channel " + channel.counters());
    stopped.countDown();
  }

  private static Map<ServerCounter, Long> nonZero(HydraWebServer server) {
    Map<ServerCounter, Long> m = server.counters();
    m.values().removeIf(v -> v == 0);
    return m;
  }

  /** Puts every regular file under {@code root} into {@code cache}; returns how many. */
  public static int preload(ObjectCache cache, Path root) throws IOException {
    if (!Files.isDirectory(root)) {
      throw new IOException("--root is not a directory: " + root);
    }
    List<Path> files = new ArrayList<>();
    try (Stream<Path> s = Files.walk(root)) {
      s.filter(Files::isRegularFile).sorted().forEach(files::add);
    }
    int stored = 0;
    long bytes = 0;
    for (Path f : files) {
      String rel = root.relativize(f).toString().replace(f.getFileSystem().getSeparator(), "/");
      BasicFileAttributes attrs = Files.readAttributes(f, BasicFileAttributes.class);
      long mtime = attrs.lastModifiedTime().toMillis();
      byte[] body = Files.readAllBytes(f);
      WebObject o = WebObject.of("/" + rel, body, contentType(rel), mtime / 1000, mtime);
      if (put(cache, o)) {
        stored++;
        bytes += body.length;
      }
      if (rel.equals("index.html") || rel.endsWith("/index.html")) {
        String dir = "/" + rel.substring(0, rel.length() - "index.html".length());
        put(cache, WebObject.of(dir, body, contentType(rel), mtime / 1000, mtime));
      }
    }
    LOG.info("pre-loaded {} files ({} bytes) from {}", stored, bytes, root);
    return stored;
  }

  private static boolean put(ObjectCache cache, WebObject o) {
    ObjectCache.PutResult r = cache.put(o);
    if (r == ObjectCache.PutResult.TOO_LARGE || r == ObjectCache.PutResult.STALE) {
      LOG.warn("not cached: {} ({})", o, r);
      return false;
    }
    return true;
  }

  /** A content type by file name extension; application/octet-stream when unknown. */
  public static String contentType(String name) {
    int dot = name.lastIndexOf('.');
    String ext = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
    return switch (ext) {
      case "html", "htm", "shtml" -> "text/html; charset=utf-8";
      case "txt" -> "text/plain; charset=utf-8";
      case "css" -> "text/css; charset=utf-8";
      case "js" -> "text/javascript; charset=utf-8";
      case "json" -> "application/json";
      case "png" -> "image/png";
      case "jpg", "jpeg" -> "image/jpeg";
      case "gif" -> "image/gif";
      case "svg" -> "image/svg+xml";
      case "ico" -> "image/x-icon";
      case "pdf" -> "application/pdf";
      default -> "application/octet-stream";
    };
  }

  static InetSocketAddress address(String v) {
    int colon = v.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("--listen wants ADDRESS:PORT, not " + v);
    }
    int port;
    try {
      port = Integer.parseInt(v.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--listen: not a port in " + v, e);
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("--listen: port out of range in " + v);
    }
    String host = v.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
      try {
        return new InetSocketAddress(OriginAddress.parseIpv6(host), port);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--listen: " + e.getMessage(), e);
      }
    }
    if (host.indexOf(':') >= 0 || host.indexOf('[') >= 0 || host.indexOf(']') >= 0) {
      // 2001:2::10:80 could be port 80 of 2001:2::10 or the address 2001:2::10:80 itself.
      throw new IllegalArgumentException(
          "--listen: an IPv6 address goes in brackets, like [2001:2::10]:80, not " + v);
    }
    return new InetSocketAddress(host, port);
  }

  static long size(String v) {
    try {
      return net.hydranet.replica.Resources.parseSize(v);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--cache-bytes: not a size: " + v, e);
    }
  }

  private static void fail(PrintStream err, String message) {
    err.println("hydraweb: " + message);
    err.print(USAGE);
    System.exit(2);
  }
}
