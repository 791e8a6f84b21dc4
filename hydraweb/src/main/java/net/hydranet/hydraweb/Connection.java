package net.hydranet.hydraweb;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import net.hydranet.replica.OriginAddress;

/**
 * One client connection, driven by its event loop only: reads request heads into a fixed buffer,
 * answers each in order into the loop's output buffer, and writes. Pipelined requests are answered
 * in order; while a response cannot be written (the client does not read) or a miss is being
 * answered, the connection reads nothing more, so its memory stays bounded by its input buffer and
 * at most one output buffer of backlog.
 */
final class Connection {
  /** Room a response head needs in the output buffer (measured heads are under 700 bytes). */
  static final int HEAD_ROOM = 1024;

  private static final long LINGER_MS = 2_000;

  private final EventLoop loop;
  private final HydraWebServer server;
  private final SocketChannel channel;
  private final SelectionKey key;
  private final ByteBuffer in;
  private final RequestParser parser;
  private final HttpRequest req;
  // The client's address for the access rules: AccessRules.IPV4 (in clientLow), IPV6, or UNKNOWN.
  private final int clientFamily;
  private final long clientHigh;
  private final long clientLow;
  private final InetSocketAddress remote;
  int index; // in the loop's list
  private int interest = SelectionKey.OP_READ;
  private int consumed; // in.array()[0, consumed) is answered
  // Output not yet written: a copy of the loop buffer's rest, then the rest of a body.
  private ByteBuffer backlog;
  private byte[] body;
  private int bodyPos;
  private int bodyEnd;
  private boolean closeAfterWrite;
  private boolean lingering;
  private boolean inputClosed;
  private boolean closed;
  private Miss waiting;
  private Miss answered;
  // Range of the current 206, set by range().
  private long rangeFirst;
  private long rangeLast;
  // Clocks, in the loop's milliseconds; 0 = not running.
  private long lastActivity;
  private long partialSince;
  private long lastWriteProgress;
  private long missSince;
  private long lingerSince;
  // System.nanoTime() when the request being answered was parsed: its service time starts there.
  private long parsedAt;

  Connection(EventLoop loop, HydraWebServer server, SocketChannel channel, SelectionKey key) {
    this.loop = loop;
    this.server = server;
    this.channel = channel;
    this.key = key;
    HydraWebServer.Config c = server.config();
    this.in = ByteBuffer.allocate(c.maxRequestHead());
    this.parser = loop.parser();
    this.req = new HttpRequest(c.maxRequestLine());
    InetSocketAddress r = null;
    try {
      r = (InetSocketAddress) channel.getRemoteAddress();
    } catch (IOException ignored) {
      // closed already: the first read fails and closes us
    }
    this.remote = r;
    InetAddress ia = r == null ? null : r.getAddress();
    if (ia == null) {
      clientFamily = AccessRules.UNKNOWN;
      clientHigh = 0;
      clientLow = 0;
    } else {
      // The JDK gives an IPv4-mapped IPv6 peer of a dual-stack socket as an Inet4Address already.
      ByteBuffer b = ByteBuffer.wrap(ia.getAddress());
      clientFamily = ia instanceof Inet4Address ? AccessRules.IPV4 : AccessRules.IPV6;
      clientHigh = ia instanceof Inet4Address ? 0 : b.getLong(0);
      clientLow = ia instanceof Inet4Address ? b.getInt(0) & 0xffffffffL : b.getLong(8);
    }
    this.lastActivity = loop.now();
  }

  void onReadable() throws IOException {
    if (lingering) {
      drainLinger();
      return;
    }
    if (waiting != null || closeAfterWrite || backlog != null || body != null) {
      return; // a stale event: we read nothing more until the output is written
    }
    if (consumed > 0) {
      int n = in.position() - consumed;
      System.arraycopy(in.array(), consumed, in.array(), 0, n);
      in.position(n);
      consumed = 0;
    }
    int n = channel.read(in);
    if (n < 0) {
      inputClosed = true;
    } else if (n > 0) {
      lastActivity = loop.now();
    }
    service();
  }

  void onWritable() throws IOException {
    service();
  }

  /** A miss was answered from another thread; runs on the loop. */
  void missAnswered(Miss m) {
    if (closed || waiting != m) {
      return;
    }
    waiting = null;
    answered = m;
    try {
      service();
    } catch (IOException e) {
      loop.count(ServerCounter.IO_ERRORS);
      close();
    }
  }

  /** Answers what can be answered and writes until done or the socket is full. */
  private void service() throws IOException {
    ByteBuffer out = loop.out();
    while (!closed) {
      out.clear();
      fill(out);
      if (out.position() == 0) {
        break;
      }
      out.flip();
      if (channel.write(out) > 0) {
        lastWriteProgress = loop.now();
      }
      if (out.hasRemaining()) {
        backlog = ByteBuffer.allocate(out.remaining()); // only when the client reads slowly
        backlog.put(out).flip();
        break;
      }
    }
    afterService();
  }

  private void fill(ByteBuffer out) {
    if (backlog != null) {
      if (backlog.remaining() > out.remaining()) {
        int limit = backlog.limit();
        backlog.limit(backlog.position() + out.remaining());
        out.put(backlog);
        backlog.limit(limit);
        return;
      }
      out.put(backlog);
      backlog = null;
    }
    while (true) {
      if (body != null) {
        int n = Math.min(bodyEnd - bodyPos, out.remaining());
        out.put(body, bodyPos, n);
        bodyPos += n;
        if (bodyPos < bodyEnd) {
          return;
        }
        body = null;
      }
      if (answered != null) {
        Miss m = answered;
        answered = null;
        finishMiss(m, out);
        req.reset();
        continue;
      }
      if (waiting != null || closeAfterWrite || out.remaining() < HEAD_ROOM) {
        return;
      }
      int r = parser.parse(in.array(), consumed, in.position(), req);
      if (r == RequestParser.NEED_MORE) {
        return;
      }
      if (r < 0) {
        writeError(out, -r, false, false);
        return;
      }
      parsedAt = System.nanoTime();
      consumed += r;
      partialSince = 0;
      lastActivity = loop.now();
      respond(out);
      if (waiting == null) {
        req.reset();
      }
    }
  }

  private void afterService() {
    if (closed) {
      return;
    }
    if (consumed == in.position()) {
      in.clear();
      consumed = 0;
      partialSince = 0;
    } else if (partialSince == 0 && waiting == null) {
      partialSince = loop.now();
    }
    if (backlog != null || body != null) {
      interest(SelectionKey.OP_WRITE);
    } else if (closeAfterWrite) {
      startLinger();
    } else if (inputClosed) {
      close();
    } else if (waiting != null) {
      interest(0);
    } else {
      interest(SelectionKey.OP_READ);
    }
  }

  private void interest(int ops) {
    if (interest != ops) {
      key.interestOps(ops);
      interest = ops;
    }
  }

  private void respond(ByteBuffer out) {
    loop.count(ServerCounter.REQUESTS);
    boolean keep = req.keepAlive();
    if (req.method == HttpRequest.OTHER) {
      writeError(out, 405, false, keep);
      return;
    }
    if (!server.accessRules().allows(clientFamily, clientHigh, clientLow, req.path)) {
      writeError(out, 403, req.isHead(), keep);
      return;
    }
    WebObject o = server.cache().lookup(req.path);
    if (o != null) {
      writeObject(out, o, keep);
      loop.hitLatency.record(System.nanoTime() - parsedAt);
      return;
    }
    Miss m = new Miss(req.path.toString(), req.isHead(), clientText(), loop, this);
    waiting = m;
    missSince = loop.now();
    try {
      server.missHandler().onMiss(m);
    } catch (RuntimeException e) {
      loop.count(ServerCounter.HANDLER_ERRORS);
      loop.logOnce("miss handler failed", e);
      m.answerError(500);
    }
    if (m.answeredInline()) {
      waiting = null;
      finishMiss(m, out);
    } else {
      loop.count(ServerCounter.MISSES_WAITING);
    }
  }

  private void finishMiss(Miss m, ByteBuffer out) {
    boolean keep = req.keepAlive();
    if (m.object() != null) {
      writeObject(out, m.object(), keep);
    } else {
      writeError(out, m.status(), req.isHead(), keep);
    }
    loop.missLatency.record(System.nanoTime() - parsedAt);
  }

  private void writeObject(ByteBuffer out, WebObject o, boolean keep) {
    boolean head = req.isHead();
    if (o.isTemplate()) {
      byte[] rendered = o.render(server.slots());
      status(out, Responses.STATUS_200, keep);
      out.put(o.typeHeaders());
      out.put(Responses.CONTENT_LENGTH);
      Responses.putDecimal(out, rendered.length);
      out.put(Responses.CRLF);
      out.put(o.validatorHeaders());
      out.put(Responses.CRLF);
      if (!head) {
        body(out, rendered, 0, rendered.length);
      }
      loop.count(ServerCounter.RESPONSES_200);
      return;
    }
    if (notModified(o)) {
      status(out, Responses.STATUS_304, keep);
      out.put(o.notModifiedHeaders());
      loop.count(ServerCounter.RESPONSES_304);
      return;
    }
    if (req.method == HttpRequest.GET && req.rangeStart >= 0 && !req.rangeRepeated) {
      int kind = ifRangeHolds(o) ? range(o.length()) : Ranges.IGNORE;
      if (kind == Ranges.UNSATISFIABLE) {
        status(out, Responses.STATUS_416, keep);
        out.put(Responses.SERVER_LINE);
        out.put(Responses.CONTENT_RANGE);
        out.put((byte) '*');
        out.put((byte) '/');
        Responses.putDecimal(out, o.length());
        out.put(Responses.CRLF);
        out.put(Responses.NO_CONTENT);
        loop.count(ServerCounter.RESPONSES_416);
        return;
      }
      if (kind == Ranges.SATISFIABLE) {
        status(out, Responses.STATUS_206, keep);
        out.put(o.typeHeaders());
        out.put(Responses.CONTENT_RANGE);
        Responses.putDecimal(out, rangeFirst);
        out.put((byte) '-');
        Responses.putDecimal(out, rangeLast);
        out.put((byte) '/');
        Responses.putDecimal(out, o.length());
        out.put(Responses.CRLF);
        out.put(Responses.CONTENT_LENGTH);
        Responses.putDecimal(out, rangeLast - rangeFirst + 1);
        out.put(Responses.CRLF);
        out.put(o.validatorHeaders());
        out.put(Responses.CRLF);
        body(out, o.bodyArray(), (int) rangeFirst, (int) (rangeLast - rangeFirst + 1));
        loop.count(ServerCounter.RESPONSES_206);
        return;
      }
    }
    status(out, Responses.STATUS_200, keep);
    out.put(o.head200());
    if (!head) {
      body(out, o.bodyArray(), 0, o.length());
    }
    loop.count(ServerCounter.RESPONSES_200);
  }

  /** RFC 9110 §13.2.2: If-None-Match (weak comparison) decides; without it, If-Modified-Since. */
  private boolean notModified(WebObject o) {
    byte[] b = req.buf;
    if (req.ifNoneMatchCount > 0) {
      for (int i = 0; i < req.ifNoneMatchCount; i++) {
        if (Ranges.etagListMatches(
            b, req.ifNoneMatchStart[i], req.ifNoneMatchEnd[i], o.etagBytes())) {
          return true;
        }
      }
      return false;
    }
    if (req.ifModifiedSinceStart >= 0) {
      int s = req.ifModifiedSinceStart;
      long t = HttpDate.parse(b, s, req.ifModifiedSinceEnd - s);
      return t >= 0 && o.lastModified() <= t;
    }
    return false;
  }

  /** RFC 9110 §13.1.5: an If-Range that does not match turns the range request into a 200. */
  private boolean ifRangeHolds(WebObject o) {
    if (req.ifRangeStart < 0) {
      return true;
    }
    byte[] b = req.buf;
    int s = req.ifRangeStart;
    int e = req.ifRangeEnd;
    if (s < e && b[s] == '"') {
      byte[] tag = o.etagBytes();
      return java.util.Arrays.equals(b, s, e, tag, 0, tag.length); // strong comparison
    }
    long t = HttpDate.parse(b, s, e - s);
    return t >= 0 && t == o.lastModified();
  }

  private int range(long length) {
    long r = Ranges.parse(req.buf, req.rangeStart, req.rangeEnd, length);
    if (r < 0) {
      return (int) r;
    }
    rangeFirst = Ranges.first(r);
    rangeLast = Ranges.last(r);
    return Ranges.SATISFIABLE;
  }

  private void writeError(ByteBuffer out, int status, boolean head, boolean keep) {
    Responses.Error e = Responses.error(status);
    status(out, e.statusLine(), keep && !Responses.closes(e.status()));
    out.put(e.headers());
    if (!head) {
      body(out, e.body(), 0, e.body().length);
    }
    switch (e.status()) {
      case 403 -> loop.count(ServerCounter.RESPONSES_403);
      case 404 -> loop.count(ServerCounter.RESPONSES_404);
      default ->
          loop.count(
              e.status() >= 500 ? ServerCounter.RESPONSES_5XX : ServerCounter.RESPONSES_OTHER_4XX);
    }
  }

  private void status(ByteBuffer out, byte[] statusLine, boolean keep) {
    out.put(statusLine);
    out.put(loop.dateLine());
    if (!keep || loop.draining()) {
      out.put(Responses.CONNECTION_CLOSE);
      closeAfterWrite = true;
    } else if (!req.http11) {
      out.put(Responses.CONNECTION_KEEP_ALIVE);
    }
  }

  private void body(ByteBuffer out, byte[] b, int off, int len) {
    int n = Math.min(len, out.remaining());
    out.put(b, off, n);
    if (n < len) {
      body = b;
      bodyPos = off + n;
      bodyEnd = off + len;
    }
  }

  private String clientText() {
    // [2001:2:0:1::10]:41234, not 2001:2:0:1:0:0:0:10:41234, whose port no one can tell apart.
    return remote == null ? "?" : OriginAddress.hostPort(remote.getAddress(), remote.getPort());
  }

  /** After a closing response: stop sending, read and drop what the client still sends. */
  private void startLinger() {
    try {
      channel.shutdownOutput();
    } catch (IOException e) {
      close();
      return;
    }
    lingering = true;
    lingerSince = loop.now();
    in.clear();
    consumed = 0;
    interest(SelectionKey.OP_READ);
  }

  private void drainLinger() throws IOException {
    // Closing with unread input would reset the connection and could destroy our response in
    // the client's receive queue (RFC 9112 §9.6); read until the client closes or time runs out.
    for (int i = 0; i < 4; i++) {
      in.clear();
      int n = channel.read(in);
      if (n < 0) {
        close();
        return;
      }
      if (n == 0) {
        return;
      }
    }
  }

  /** Once a second: close connections that have waited too long for the client or a miss. */
  void tick(long now) {
    HydraWebServer.Config c = server.config();
    if (lingering) {
      if (now - lingerSince > LINGER_MS) {
        close();
      }
    } else if (backlog != null || body != null) {
      if (now - lastWriteProgress > c.writeTimeoutMillis()) {
        loop.count(ServerCounter.TIMEOUTS_WRITE);
        close();
      }
    } else if (waiting != null) {
      if (now - missSince > c.missTimeoutMillis()) {
        loop.count(ServerCounter.TIMEOUTS_MISS);
        waiting.fail(504);
      }
    } else if (partialSince > 0) {
      if (now - partialSince > c.headerTimeoutMillis()) {
        loop.count(ServerCounter.TIMEOUTS_HEADER);
        close();
      }
    } else if (now - lastActivity > c.keepAliveTimeoutMillis()) {
      loop.count(ServerCounter.TIMEOUTS_IDLE);
      close();
    }
  }

  boolean isClosed() {
    return closed;
  }

  /**
   * While the server drains: closes the connection if it holds no request, response or miss in
   * progress. Reads first, so a request that has arrived is answered (with Connection: close)
   * instead of being cut off.
   */
  void closeIfIdle() {
    if (closed || lingering || busy()) {
      return;
    }
    try {
      onReadable();
    } catch (IOException e) {
      loop.count(ServerCounter.IO_ERRORS);
      close();
      return;
    }
    if (!closed && !lingering && !busy() && in.position() == 0) {
      close();
    }
  }

  private boolean busy() {
    return waiting != null
        || answered != null
        || backlog != null
        || body != null
        || closeAfterWrite;
  }

  /** Bytes of input buffer this connection holds (fixed for its life). */
  int inputCapacity() {
    return in.capacity();
  }

  void close() {
    if (closed) {
      return;
    }
    closed = true;
    key.cancel();
    try {
      channel.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    loop.removed(this);
  }
}
