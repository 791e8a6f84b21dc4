package net.hydranet.hydraweb.channel;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import net.hydranet.hydraweb.AccessRules;
import net.hydranet.hydraweb.HydraWebServer;
import net.hydranet.hydraweb.LatencyHistogram;
import net.hydranet.hydraweb.Miss;
import net.hydranet.hydraweb.MissHandler;
import net.hydranet.hydraweb.ObjectCache;
import net.hydranet.hydraweb.ServerCounter;
import net.hydranet.hydraweb.WebObject;
import net.hydranet.replica.ProtocolException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replica's end of its channel to the manager (the host server's Unix socket named by {@code
 * HYDRANET_CHANNEL}): applies PUT, DELETE, RULES and SLOT to the server and ACKs each once it is in
 * effect, answers HITS?, and is the server's {@link MissHandler} (a miss becomes a MISS; its ANSWER
 * serves it). It reconnects with bounded backoff when the channel drops; hits are served meanwhile
 * and misses are answered 503 at once.
 *
 * <p>Threads: one reader (which also connects and applies), one writer per connection draining a
 * bounded queue, so an event loop only ever offers to a queue.
 */
public final class ReplicaChannel implements MissHandler, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReplicaChannel.class);

  /** What the channel counted. */
  public enum Counter {
    CONNECTS,
    DISCONNECTS,
    MESSAGES_IN,
    MALFORMED,
    ACKS_STORED,
    ACKS_STALE,
    ACKS_TOO_LARGE,
    ACKS_ERROR,
    MISSES_SENT,
    MISSES_REFUSED,
    ANSWERS,
    ANSWERS_LATE,
    HITS_SENT
  }

  /** Settings, defaults beside them. */
  public record Config(
      Path socket, long minBackoffMillis, long maxBackoffMillis, int maxPendingMisses) {
    public static final long DEFAULT_MIN_BACKOFF_MS = 100;
    public static final long DEFAULT_MAX_BACKOFF_MS = 5_000;
    public static final int DEFAULT_MAX_PENDING_MISSES = 4096;

    public static Config of(Path socket) {
      return new Config(
          socket, DEFAULT_MIN_BACKOFF_MS, DEFAULT_MAX_BACKOFF_MS, DEFAULT_MAX_PENDING_MISSES);
    }

    public Config {
      if (socket == null) {
        throw new IllegalArgumentException("channel socket path missing");
      }
      if (minBackoffMillis < 1 || maxBackoffMillis < minBackoffMillis) {
        throw new IllegalArgumentException("backoff must be 1 ≤ min ≤ max ms");
      }
      if (maxPendingMisses < 1) {
        throw new IllegalArgumentException("maxPendingMisses must be ≥ 1");
      }
    }
  }

  private static final int OUT_QUEUE = 1024;
  private static final byte[] STOP = new byte[0];

  private record Pending(Miss miss, long sinceNanos) {}

  private final HydraWebServer server;
  private final Config config;
  private final String version;
  private final Thread reader;
  private final ConcurrentHashMap<Long, Pending> pending = new ConcurrentHashMap<>();
  private final AtomicLong missIds = new AtomicLong();
  private final AtomicLongArray counters = new AtomicLongArray(Counter.values().length);
  private final Set<String> loggedCauses = ConcurrentHashMap.newKeySet();
  private volatile Link link;
  private volatile boolean running = true;

  /** One connection: its socket and the writer that owns its output. */
  private final class Link {
    final SocketChannel socket;
    final BlockingQueue<byte[]> out = new ArrayBlockingQueue<>(OUT_QUEUE);
    final Thread writer;

    Link(SocketChannel socket) {
      this.socket = socket;
      this.writer = new Thread(this::write, "hydraweb-channel-writer");
      writer.setDaemon(true);
    }

    private void write() {
      long nextSweep = System.nanoTime();
      try {
        while (true) {
          byte[] p = out.poll(1, TimeUnit.SECONDS);
          if (p == STOP) {
            return;
          }
          if (p != null) {
            ChannelFraming.write(socket, p);
          }
          if (System.nanoTime() - nextSweep >= 0) {
            nextSweep = System.nanoTime() + 1_000_000_000L;
            sweepPending();
          }
        }
      } catch (IOException e) {
        logOnce("channel write failed", e);
        closeQuietly(socket); // the reader sees it and reconnects
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /** From any thread, never blocking: false if the queue is full. */
    boolean offer(byte[] payload) {
      return out.offer(payload);
    }

    /** From the reader: waits a little for room, then gives up on the connection. */
    void send(byte[] payload) throws IOException {
      try {
        if (!out.offer(payload, 5, TimeUnit.SECONDS)) {
          throw new IOException("manager does not read the channel: output queue full for 5 s");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
    }

    void stop() {
      out.clear();
      out.offer(STOP);
      closeQuietly(socket);
    }
  }

  public ReplicaChannel(HydraWebServer server, Config config) {
    this.server = server;
    this.config = config;
    String v = ReplicaChannel.class.getPackage().getImplementationVersion();
    this.version = v == null ? "dev" : v;
    this.reader = new Thread(this::run, "hydraweb-channel");
    reader.setDaemon(true);
  }

  /** Installs itself as the server's miss handler and starts connecting. */
  public ReplicaChannel start() {
    server.setMissHandler(this);
    reader.start();
    return this;
  }

  /** True while connected to the channel. */
  public boolean isConnected() {
    return link != null;
  }

  public long counter(Counter c) {
    return counters.get(c.ordinal());
  }

  public Map<Counter, Long> counters() {
    Map<Counter, Long> m = new EnumMap<>(Counter.class);
    for (Counter c : Counter.values()) {
      m.put(c, counter(c));
    }
    return m;
  }

  private void count(Counter c) {
    counters.incrementAndGet(c.ordinal());
  }

  private void run() {
    long backoff = config.minBackoffMillis();
    boolean wasDown = false;
    while (running) {
      Link l = null;
      try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
        ch.connect(UnixDomainSocketAddress.of(config.socket()));
        l = new Link(ch);
        l.writer.start();
        l.send(AppCodec.encode(new AppMessage.Ready(version)));
        link = l;
        count(Counter.CONNECTS);
        LOG.info("channel {} connected", config.socket());
        wasDown = false;
        backoff = config.minBackoffMillis();
        while (running) {
          byte[] p = ChannelFraming.read(ch);
          if (p == null) {
            break;
          }
          handle(p, l);
        }
      } catch (IOException e) {
        if (running && !wasDown) {
          LOG.warn("channel {}: {}; reconnecting", config.socket(), e.toString());
          wasDown = true;
        }
      } finally {
        link = null;
        if (l != null) {
          l.stop();
          count(Counter.DISCONNECTS);
          failPending();
        }
      }
      if (!running) {
        break;
      }
      try {
        Thread.sleep(backoff);
      } catch (InterruptedException e) {
        break;
      }
      backoff = Math.min(backoff * 2, config.maxBackoffMillis());
    }
  }

  private void handle(byte[] payload, Link l) throws IOException {
    count(Counter.MESSAGES_IN);
    AppMessage m;
    try {
      m = AppCodec.decode(payload);
    } catch (ProtocolException e) {
      count(Counter.MALFORMED);
      logOnce("malformed message from the manager", e);
      return;
    }
    if (m instanceof AppMessage.Put p) {
      l.send(ack(p.id(), put(p.content())));
    } else if (m instanceof AppMessage.Delete d) {
      server.cache().remove(d.path());
      l.send(ack(d.id(), AppMessage.STORED));
    } else if (m instanceof AppMessage.Rules r) {
      int result = AppMessage.STORED;
      try {
        server.setAccessRules(AccessRules.parse(r.rules()));
        LOG.info("access rules: {}", server.accessRules());
      } catch (IllegalArgumentException e) {
        logOnce("access rules refused", e);
        result = AppMessage.ERROR;
      }
      l.send(ack(r.id(), result));
    } else if (m instanceof AppMessage.Slot s) {
      server.slots().put(s.name(), s.values());
      l.send(ack(s.id(), AppMessage.STORED));
    } else if (m instanceof AppMessage.HitsQuery q) {
      l.send(AppCodec.encode(hits(q.id())));
      count(Counter.HITS_SENT);
    } else if (m instanceof AppMessage.Answer a) {
      answer(a);
    } else {
      count(Counter.MALFORMED);
      logOnce("unexpected message from the manager", new ProtocolException(m.toString()));
    }
  }

  private byte[] ack(long id, int result) {
    count(
        switch (result) {
          case AppMessage.STORED -> Counter.ACKS_STORED;
          case AppMessage.STALE -> Counter.ACKS_STALE;
          case AppMessage.TOO_LARGE -> Counter.ACKS_TOO_LARGE;
          default -> Counter.ACKS_ERROR;
        });
    return AppCodec.encode(new AppMessage.Ack(id, result));
  }

  /** Puts {@code c} in the cache; the result code for its ACK, sent only after this returns. */
  private int put(AppMessage.Content c) {
    WebObject o;
    try {
      o = object(c);
    } catch (IllegalArgumentException e) {
      logOnce("object refused", e);
      return AppMessage.ERROR;
    }
    ObjectCache.PutResult r = server.cache().put(o);
    return switch (r) {
      case STORED, REPLACED -> AppMessage.STORED;
      case STALE -> AppMessage.STALE;
      case TOO_LARGE -> AppMessage.TOO_LARGE;
    };
  }

  private static WebObject object(AppMessage.Content c) {
    long modified = c.lastModifiedMillis() / 1000;
    return c.template()
        ? WebObject.template(c.path(), c.body(), c.contentType(), modified, c.version())
        : WebObject.of(c.path(), c.body(), c.contentType(), modified, c.version());
  }

  private AppMessage.Hits hits(long id) {
    Map<String, Long> all = server.cache().hitCounts();
    Map<String, Long> sent = new LinkedHashMap<>();
    long room = AppCodec.MAX_PAYLOAD - 64L;
    for (Map.Entry<String, Long> e : all.entrySet()) {
      long size = 2 + 8 + (long) e.getKey().length() * 3; // UTF-8 is at most 3 bytes a char
      if (size > room) {
        break; // a cache of millions of long paths: report what fits
      }
      room -= size;
      sent.put(e.getKey(), e.getValue());
    }
    return new AppMessage.Hits(
        id,
        sent,
        server.cache().stats().misses(),
        server.counter(ServerCounter.REQUESTS),
        latency(server.hitLatency()),
        latency(server.missLatency()));
  }

  private static AppMessage.Latency latency(LatencyHistogram.Snapshot s) {
    return new AppMessage.Latency(
        LatencyHistogram.boundsNanos(), s.cumulative(), s.count(), s.sumNanos());
  }

  private void answer(AppMessage.Answer a) {
    Pending p = pending.remove(a.missId());
    if (p == null) {
      count(Counter.ANSWERS_LATE); // timed out (answered 504) or from before a reconnection
      return;
    }
    count(Counter.ANSWERS);
    Miss miss = p.miss();
    switch (a.status()) {
      case 200 -> {
        WebObject o;
        try {
          o = object(a.content());
        } catch (IllegalArgumentException e) {
          logOnce("answer refused", e);
          miss.fail(502);
          return;
        }
        if (a.cache()) {
          server.cache().put(o);
        }
        miss.serve(o);
      }
      case 404 -> miss.notFound();
      case 503, 504 -> miss.fail(a.status());
      default -> miss.fail(502);
    }
  }

  /** On an event loop: must not block. */
  @Override
  public void onMiss(Miss miss) {
    Link l = link;
    if (l == null || pending.size() >= config.maxPendingMisses()) {
      count(Counter.MISSES_REFUSED);
      miss.fail(503);
      return;
    }
    long id = missIds.incrementAndGet();
    pending.put(id, new Pending(miss, System.nanoTime()));
    if (!l.offer(AppCodec.encode(new AppMessage.Miss(id, miss.path(), miss.isHead())))) {
      pending.remove(id);
      count(Counter.MISSES_REFUSED);
      miss.fail(503);
      return;
    }
    count(Counter.MISSES_SENT);
  }

  /** Forgets misses the server has answered 504 already, so the table stays bounded. */
  private void sweepPending() {
    long limit = (server.config().missTimeoutMillis() + 1_000) * 1_000_000L;
    long now = System.nanoTime();
    pending.values().removeIf(p -> now - p.sinceNanos() > limit);
  }

  private void failPending() {
    for (Long id : pending.keySet()) {
      Pending p = pending.remove(id);
      if (p != null) {
        p.miss().fail(503);
      }
    }
  }

  private void logOnce(String what, Exception e) {
    String cause = what + ": " + e.getMessage();
    if (loggedCauses.size() < 256 && loggedCauses.add(cause)) {
      LOG.warn("{} (logged once)", cause);
    }
  }

  private static void closeQuietly(SocketChannel ch) {
    try {
      ch.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  /** Stops reconnecting and closes the channel; pending misses are answered 503. */
  @Override
  public void close() {
    running = false;
    Link l = link;
    if (l != null) {
      l.stop();
    }
    reader.interrupt();
    try {
      reader.join(2_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    failPending();
  }

  @Override
  public String toString() {
    return "channel " + config.socket() + (link != null ? " (connected)" : " (down)");
  }
}
