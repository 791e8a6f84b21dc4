package net.hydranet.hydraweb;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One event-loop thread: accepts from the shared listening socket, reads, answers and writes for
 * its own connections, and runs commands other threads post to it (answered misses). Its duty
 * cycle: run posted commands, select for at most a second, handle ready keys, once a second check
 * timeouts. Nothing else touches its connections or its output buffer.
 */
final class EventLoop implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(EventLoop.class);
  private static final int OUT_CAPACITY = 64 * 1024;

  private final HydraWebServer server;
  private final Selector selector;
  private final ServerSocketChannel listener;
  private final RequestParser parser;
  private final ByteBuffer out = ByteBuffer.allocateDirect(OUT_CAPACITY);
  private final byte[] dateLine;
  private long dateSecond = -1;
  private final ConcurrentLinkedQueue<Runnable> commands = new ConcurrentLinkedQueue<>();
  private final ArrayList<Connection> connections = new ArrayList<>();
  private final AtomicLongArray counters = new AtomicLongArray(ServerCounter.values().length);

  /** Service time of hits and of misses (a miss's includes the wait for its answer). */
  final LatencyHistogram hitLatency = new LatencyHistogram();

  final LatencyHistogram missLatency = new LatencyHistogram();
  private final Set<String> loggedCauses = ConcurrentHashMap.newKeySet();
  private final Consumer<SelectionKey> onKey = this::onKey;
  private volatile boolean running = true;
  private boolean draining; // loop thread only
  private volatile int connectionCount;
  private long now;
  private long nextTick;

  EventLoop(HydraWebServer server, ServerSocketChannel listener) throws IOException {
    this.server = server;
    this.listener = listener;
    this.selector = Selector.open();
    HydraWebServer.Config c = server.config();
    this.parser = new RequestParser(c.maxRequestLine(), c.maxRequestHead());
    this.dateLine = new byte[Responses.DATE_PREFIX.length + HttpDate.LENGTH + 2];
    System.arraycopy(Responses.DATE_PREFIX, 0, dateLine, 0, Responses.DATE_PREFIX.length);
    dateLine[dateLine.length - 2] = '\r';
    dateLine[dateLine.length - 1] = '\n';
    listener.register(selector, SelectionKey.OP_ACCEPT, listener);
    clock();
  }

  @Override
  public void run() {
    try {
      while (running) {
        doWork();
      }
    } catch (ClosedSelectorException e) {
      // stopped
    } catch (IOException | RuntimeException e) {
      LOG.error("event loop failed; its connections are closed", e);
    } finally {
      for (Connection c : new ArrayList<>(connections)) {
        c.close();
      }
      try {
        selector.close();
      } catch (IOException ignored) {
        // stopping
      }
    }
  }

  /** One duty cycle; returns the number of keys and commands handled. */
  int doWork() throws IOException {
    int work = drainCommands();
    long wait = Math.max(1, nextTick - now);
    work += work > 0 ? selector.selectNow(onKey) : selector.select(onKey, draining ? 50 : wait);
    clock();
    if (draining) {
      for (int i = connections.size() - 1; i >= 0; i--) {
        if (i < connections.size()) {
          connections.get(i).closeIfIdle();
        }
      }
      if (connections.isEmpty()) {
        running = false;
      }
    }
    if (now >= nextTick) {
      nextTick = now + 1000;
      for (int i = connections.size() - 1; i >= 0; i--) {
        if (i < connections.size()) {
          connections.get(i).tick(now);
        }
      }
    }
    return work;
  }

  private int drainCommands() {
    int n = 0;
    Runnable r;
    while ((r = commands.poll()) != null) {
      r.run();
      n++;
    }
    return n;
  }

  private void clock() {
    long ms = System.currentTimeMillis();
    now = ms;
    long second = ms / 1000;
    if (second != dateSecond) {
      dateSecond = second;
      HttpDate.format(second, dateLine, Responses.DATE_PREFIX.length);
    }
  }

  private void onKey(SelectionKey k) {
    Object a = k.attachment();
    if (a == listener) {
      accept();
      return;
    }
    Connection c = (Connection) a;
    try {
      int ready = k.readyOps();
      if ((ready & SelectionKey.OP_READ) != 0) {
        c.onReadable();
      }
      if ((ready & SelectionKey.OP_WRITE) != 0 && !c.isClosed()) {
        c.onWritable();
      }
    } catch (IOException | CancelledKeyException e) {
      count(ServerCounter.IO_ERRORS);
      c.close();
    } catch (RuntimeException e) {
      count(ServerCounter.IO_ERRORS);
      logOnce("unexpected failure serving a connection", e);
      c.close();
    }
  }

  private void accept() {
    for (int i = 0; i < 64; i++) {
      SocketChannel ch;
      try {
        ch = listener.accept();
      } catch (IOException e) {
        logOnce("accept failed", e); // e.g. out of file descriptors: try again on the next event
        return;
      }
      if (ch == null) {
        return; // another loop took it, or none left
      }
      if (connections.size() >= server.config().maxConnectionsPerLoop()) {
        count(ServerCounter.CONNECTIONS_REFUSED);
        closeQuietly(ch);
        continue;
      }
      try {
        ch.configureBlocking(false);
        ch.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
        SelectionKey k = ch.register(selector, SelectionKey.OP_READ);
        Connection c = new Connection(this, server, ch, k);
        k.attach(c);
        c.index = connections.size();
        connections.add(c);
        connectionCount = connections.size();
        count(ServerCounter.CONNECTIONS_ACCEPTED);
      } catch (IOException e) {
        count(ServerCounter.IO_ERRORS);
        closeQuietly(ch);
      }
    }
  }

  private static void closeQuietly(SocketChannel ch) {
    try {
      ch.close();
    } catch (IOException ignored) {
      // nothing to do
    }
  }

  /** Called by a connection as it closes. */
  void removed(Connection c) {
    int i = c.index;
    int last = connections.size() - 1;
    if (i < 0 || i > last || connections.get(i) != c) {
      return;
    }
    Connection moved = connections.remove(last);
    if (i != last) {
      connections.set(i, moved);
      moved.index = i;
    }
    c.index = -1;
    connectionCount = connections.size();
    count(ServerCounter.CONNECTIONS_CLOSED);
  }

  /** Runs {@code r} on this loop's thread; from any thread. */
  void post(Runnable r) {
    commands.add(r);
    selector.wakeup();
  }

  /**
   * Graceful stop, from any thread: accept no more, let every connection finish the request it is
   * answering (its response says Connection: close), close idle ones, end when none is left.
   */
  void drain() {
    post(
        () -> {
          draining = true;
          SelectionKey k = listener.keyFor(selector);
          if (k != null) {
            k.cancel();
          }
        });
  }

  boolean draining() {
    return draining;
  }

  void stop() {
    running = false;
    selector.wakeup();
  }

  void count(ServerCounter c) {
    int i = c.ordinal();
    counters.lazySet(i, counters.get(i) + 1); // single writer: this loop
  }

  long counter(ServerCounter c) {
    return counters.get(c.ordinal());
  }

  int connectionCount() {
    return connectionCount;
  }

  /** Logs a failure once per distinct cause, so a hostile client cannot flood the log. */
  void logOnce(String what, Throwable e) {
    String cause = what + ": " + e.getClass().getName() + ": " + e.getMessage();
    if (loggedCauses.size() < 256 && loggedCauses.add(cause)) {
      LOG.warn("{} (logged once)", what, e);
    }
  }

  long now() {
    return now;
  }

  ByteBuffer out() {
    return out;
  }

  byte[] dateLine() {
    return dateLine;
  }

  RequestParser parser() {
    return parser;
  }
}
