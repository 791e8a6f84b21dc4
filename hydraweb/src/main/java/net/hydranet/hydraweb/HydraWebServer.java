package net.hydranet.hydraweb;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HydraWeb's replica: an HTTP/1.1 server (GET and HEAD, keep-alive, pipelining, conditional
 * requests, single byte ranges) answering from an {@link ObjectCache}, with access rules, template
 * slots and a miss handler that the replica manager sets. Event loops on plain JDK NIO share one
 * listening socket; each owns its connections.
 *
 * <p>The manager's side: {@link #cache()} ({@code put}/{@code remove}), {@link #slots()}, {@link
 * #setAccessRules}, {@link #setMissHandler}, and for hit metering {@link ObjectCache#hitCounts()}.
 * All may be called from any thread while the server runs.
 */
public final class HydraWebServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HydraWebServer.class);

  /** Settings, each default beside its name; {@link #conclude()} says which one is wrong. */
  public static final class Config {
    public static final int DEFAULT_THREADS = 1;
    public static final int DEFAULT_MAX_CONNECTIONS_PER_LOOP = 4096;
    public static final int DEFAULT_MAX_REQUEST_LINE = 4096;
    public static final int DEFAULT_MAX_REQUEST_HEAD = 8192;
    public static final long DEFAULT_CACHE_BYTES = 256L << 20;
    public static final int DEFAULT_CACHE_ENTRIES = 100_000;
    public static final long DEFAULT_HEADER_TIMEOUT_MS = 10_000;
    public static final long DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 60_000;
    public static final long DEFAULT_WRITE_TIMEOUT_MS = 60_000;

    /**
     * When the origin is unreachable manager and all, no answer comes: this bounds the wait. Above
     * the manager's own fetch timeout (5 s by default), whose 502 or 504 says more.
     */
    public static final long DEFAULT_MISS_TIMEOUT_MS = 10_000;

    private InetSocketAddress listen = new InetSocketAddress("127.0.0.1", 0);
    private int threads = DEFAULT_THREADS;
    private int maxConnectionsPerLoop = DEFAULT_MAX_CONNECTIONS_PER_LOOP;
    private int maxRequestLine = DEFAULT_MAX_REQUEST_LINE;
    private int maxRequestHead = DEFAULT_MAX_REQUEST_HEAD;
    private long cacheBytes = DEFAULT_CACHE_BYTES;
    private int cacheEntries = DEFAULT_CACHE_ENTRIES;
    private long headerTimeoutMillis = DEFAULT_HEADER_TIMEOUT_MS;
    private long keepAliveTimeoutMillis = DEFAULT_KEEP_ALIVE_TIMEOUT_MS;
    private long writeTimeoutMillis = DEFAULT_WRITE_TIMEOUT_MS;
    private long missTimeoutMillis = DEFAULT_MISS_TIMEOUT_MS;

    public Config listen(InetSocketAddress v) {
      listen = v;
      return this;
    }

    /** Event-loop threads. */
    public Config threads(int v) {
      threads = v;
      return this;
    }

    public Config maxConnectionsPerLoop(int v) {
      maxConnectionsPerLoop = v;
      return this;
    }

    /** Longest request line (method, target, version): longer is 414. */
    public Config maxRequestLine(int v) {
      maxRequestLine = v;
      return this;
    }

    /** Longest request head, request line included: longer is 431. Each connection's buffer. */
    public Config maxRequestHead(int v) {
      maxRequestHead = v;
      return this;
    }

    public Config cacheBytes(long v) {
      cacheBytes = v;
      return this;
    }

    public Config cacheEntries(int v) {
      cacheEntries = v;
      return this;
    }

    /** A request head must arrive within this time from its first byte. */
    public Config headerTimeoutMillis(long v) {
      headerTimeoutMillis = v;
      return this;
    }

    public Config keepAliveTimeoutMillis(long v) {
      keepAliveTimeoutMillis = v;
      return this;
    }

    /** A blocked write must make progress within this time. */
    public Config writeTimeoutMillis(long v) {
      writeTimeoutMillis = v;
      return this;
    }

    /** A miss unanswered this long is answered 504. */
    public Config missTimeoutMillis(long v) {
      missTimeoutMillis = v;
      return this;
    }

    /** Checks every setting; the exception names the first that is wrong. */
    public Config conclude() {
      Objects.requireNonNull(listen, "listen");
      check(threads >= 1 && threads <= 64, "threads must be 1..64: " + threads);
      check(maxConnectionsPerLoop >= 1, "maxConnectionsPerLoop must be ≥ 1");
      check(maxRequestLine >= 64, "maxRequestLine must be ≥ 64: " + maxRequestLine);
      check(
          maxRequestHead >= maxRequestLine && maxRequestHead <= 1 << 20,
          "maxRequestHead must be maxRequestLine..1 MiB: " + maxRequestHead);
      check(cacheBytes > 0, "cacheBytes must be > 0: " + cacheBytes);
      check(cacheEntries > 0, "cacheEntries must be > 0: " + cacheEntries);
      check(headerTimeoutMillis > 0, "headerTimeoutMillis must be > 0");
      check(keepAliveTimeoutMillis > 0, "keepAliveTimeoutMillis must be > 0");
      check(writeTimeoutMillis > 0, "writeTimeoutMillis must be > 0");
      check(missTimeoutMillis > 0, "missTimeoutMillis must be > 0");
      return this;
    }

    private static void check(boolean ok, String message) {
      if (!ok) {
        throw new IllegalArgumentException(message);
      }
    }

    public InetSocketAddress listen() {
      return listen;
    }

    public int threads() {
      return threads;
    }

    public int maxConnectionsPerLoop() {
      return maxConnectionsPerLoop;
    }

    public int maxRequestLine() {
      return maxRequestLine;
    }

    public int maxRequestHead() {
      return maxRequestHead;
    }

    public long cacheBytes() {
      return cacheBytes;
    }

    public int cacheEntries() {
      return cacheEntries;
    }

    public long headerTimeoutMillis() {
      return headerTimeoutMillis;
    }

    public long keepAliveTimeoutMillis() {
      return keepAliveTimeoutMillis;
    }

    public long writeTimeoutMillis() {
      return writeTimeoutMillis;
    }

    public long missTimeoutMillis() {
      return missTimeoutMillis;
    }
  }

  private final Config config;
  private final ObjectCache cache;
  private final Slots slots = new Slots();
  private volatile AccessRules accessRules = AccessRules.ALLOW_ALL;
  private volatile MissHandler missHandler = MissHandler.NOT_FOUND;
  private final List<EventLoop> loops = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private ServerSocketChannel listener;

  public HydraWebServer(Config config) {
    this.config = config.conclude();
    this.cache = new ObjectCache(config.cacheBytes(), config.cacheEntries());
  }

  /** Binds and starts the event loops. */
  public synchronized HydraWebServer start() throws IOException {
    if (listener != null) {
      throw new IllegalStateException("started already");
    }
    listener = ServerSocketChannel.open();
    listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
    listener.bind(config.listen(), 1024);
    listener.configureBlocking(false);
    for (int i = 0; i < config.threads(); i++) {
      EventLoop loop = new EventLoop(this, listener);
      loops.add(loop);
      Thread t = new Thread(loop, "hydraweb-loop-" + i);
      threads.add(t);
      t.start();
    }
    LOG.info(
        "HydraWeb replica listening on {} with {} event loop(s), cache {} B / {} objects",
        localAddress(),
        config.threads(),
        config.cacheBytes(),
        config.cacheEntries());
    return this;
  }

  /** The bound address (the real port when the config asked for port 0). */
  public InetSocketAddress localAddress() {
    try {
      return (InetSocketAddress) listener.getLocalAddress();
    } catch (IOException e) {
      throw new IllegalStateException("not bound", e);
    }
  }

  public Config config() {
    return config;
  }

  public ObjectCache cache() {
    return cache;
  }

  public Slots slots() {
    return slots;
  }

  public AccessRules accessRules() {
    return accessRules;
  }

  /** Replaces the rules; requests parsed afterwards are checked against the new set. */
  public void setAccessRules(AccessRules rules) {
    accessRules = Objects.requireNonNull(rules, "rules");
  }

  public MissHandler missHandler() {
    return missHandler;
  }

  public void setMissHandler(MissHandler handler) {
    missHandler = Objects.requireNonNull(handler, "handler");
  }

  /** Every counter summed over the loops. */
  public Map<ServerCounter, Long> counters() {
    Map<ServerCounter, Long> m = new EnumMap<>(ServerCounter.class);
    for (ServerCounter c : ServerCounter.values()) {
      long sum = 0;
      for (EventLoop l : loops) {
        sum += l.counter(c);
      }
      m.put(c, sum);
    }
    return m;
  }

  public long counter(ServerCounter c) {
    long sum = 0;
    for (EventLoop l : loops) {
      sum += l.counter(c);
    }
    return sum;
  }

  /**
   * Service time of the requests answered from the cache, summed over the loops: from the request
   * parsed to its whole response queued for the client (conditions and ranges included; the
   * client's own reading is not).
   */
  public LatencyHistogram.Snapshot hitLatency() {
    List<LatencyHistogram> h = new ArrayList<>();
    loops.forEach(l -> h.add(l.hitLatency));
    return LatencyHistogram.snapshot(h);
  }

  /**
   * Service time of the requests that missed the cache, as {@link #hitLatency}: it includes the
   * wait for the miss handler's answer (the manager's ANSWER, or the timeout's 504).
   */
  public LatencyHistogram.Snapshot missLatency() {
    List<LatencyHistogram> h = new ArrayList<>();
    loops.forEach(l -> h.add(l.missLatency));
    return LatencyHistogram.snapshot(h);
  }

  /** The event-loop threads (tests measure their allocation). */
  List<Thread> loopThreads() {
    return List.copyOf(threads);
  }

  /** Open connections now. */
  public int connections() {
    int n = 0;
    for (EventLoop l : loops) {
      n += l.connectionCount();
    }
    return n;
  }

  /**
   * Stops gracefully, for SIGTERM and a replica's removal: stops accepting at once, lets every
   * connection finish the response it owes (a pending miss too; the last response says {@code
   * Connection: close}), closes idle keep-alive connections, and waits up to {@code timeoutMillis}
   * for all of that; then {@link #close}s whatever is left. True if everything finished in time.
   */
  public boolean drain(long timeoutMillis) {
    synchronized (this) {
      if (listener == null) {
        return true;
      }
      for (EventLoop l : loops) {
        l.drain();
      }
      try {
        listener.close(); // new connections are refused once every loop has let go of it
      } catch (IOException ignored) {
        // closing anyway
      }
    }
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
    boolean clean = true;
    for (Thread t : threads) {
      long left = (deadline - System.nanoTime()) / 1_000_000L;
      try {
        t.join(Math.max(1, left));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        clean = false;
        break;
      }
      clean &= !t.isAlive();
    }
    close();
    return clean;
  }

  /** Stops accepting, closes every connection and waits for the loops to end. */
  @Override
  public synchronized void close() {
    for (EventLoop l : loops) {
      l.stop();
    }
    for (Thread t : threads) {
      try {
        t.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    if (listener != null) {
      try {
        listener.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }
}
