package net.hydranet.hydraweb.channel;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.hydranet.replica.Body;
import net.hydranet.replica.ProtocolException;

/**
 * Encodes and strictly decodes {@link AppMessage}s: {@code u8 type} then the fields of REPLICAS.md,
 * with the replica management protocol's encodings. Decoding checks every length and count against
 * the bytes left before it allocates, so a hostile payload costs at most its own size; anything
 * malformed (unknown type, short, trailing bytes, an out-of-range field) is a {@link
 * ProtocolException} naming what is wrong.
 */
public final class AppCodec {
  /** The channel's largest payload (REPLICAS.md, "The replica's channel"). */
  public static final int MAX_PAYLOAD = 16 << 20;

  /** Smallest encoding of one HITS entry: an empty string and a u64. */
  private static final int MIN_HITS_ENTRY = 2 + 8;

  /** Smallest encoding of one SLOT value: an empty string. */
  private static final int MIN_SLOT_VALUE = 2;

  /** The flags byte of an object (PUT, 200 ANSWER): its body is a template. */
  public static final int FLAG_TEMPLATE = 0x01;

  /** Every flag this version knows; any other bit set is a malformed message, not ignored. */
  static final int KNOWN_FLAGS = FLAG_TEMPLATE;

  private AppCodec() {}

  public static byte[] encode(AppMessage m) {
    Body.Writer w = new Body.Writer().u8(m.type());
    if (m instanceof AppMessage.Put p) {
      content(w.u64(p.id()), p.content());
    } else if (m instanceof AppMessage.Delete d) {
      w.u64(d.id()).str(d.path());
    } else if (m instanceof AppMessage.Rules r) {
      w.u64(r.id()).str(r.rules());
    } else if (m instanceof AppMessage.Slot s) {
      if (s.values().size() > 0xffff) {
        throw new IllegalArgumentException("a slot has at most 65535 values");
      }
      w.u64(s.id()).str(s.name()).u16(s.values().size());
      s.values().forEach(w::str);
    } else if (m instanceof AppMessage.HitsQuery q) {
      w.u64(q.id());
    } else if (m instanceof AppMessage.Ack a) {
      w.u64(a.id()).u8(a.result());
    } else if (m instanceof AppMessage.Miss x) {
      w.u64(x.missId()).str(x.path()).u8(x.head() ? 1 : 0);
    } else if (m instanceof AppMessage.Answer a) {
      w.u64(a.missId()).u16(a.status());
      if (a.status() == 200) {
        content(w, a.content()).u8(a.cache() ? 1 : 0);
      }
    } else if (m instanceof AppMessage.Hits h) {
      w.u64(h.id()).u32(h.hits().size());
      h.hits().forEach((path, n) -> w.str(path).u64(n));
      w.u64(h.misses()).u64(h.requests());
      latency(w, h.hitLatency());
      latency(w, h.missLatency());
    } else if (m instanceof AppMessage.Ready r) {
      w.str(r.version());
    }
    return w.toByteArray();
  }

  private static void latency(Body.Writer w, AppMessage.Latency l) {
    int n = l.bounds();
    w.u8(n);
    for (int i = 0; i < n; i++) {
      w.u64(l.boundNanos(i));
    }
    for (int i = 0; i < n; i++) {
      w.u64(l.cumulative(i));
    }
    w.u64(l.count()).u64(l.sumNanos());
  }

  private static Body.Writer content(Body.Writer w, AppMessage.Content c) {
    return w.u8(c.template() ? FLAG_TEMPLATE : 0)
        .str(c.path())
        .str(c.contentType())
        .u64(c.lastModifiedMillis())
        .u64(c.version())
        .bytes(c.body());
  }

  public static AppMessage decode(byte[] payload) throws ProtocolException {
    if (payload.length > MAX_PAYLOAD) {
      throw new ProtocolException("payload of " + payload.length + " bytes exceeds " + MAX_PAYLOAD);
    }
    Body.Reader r = new Body.Reader(payload);
    int type = r.u8();
    AppMessage m =
        switch (type) {
          case AppMessage.PUT -> new AppMessage.Put(r.u64(), content(r));
          case AppMessage.DELETE -> new AppMessage.Delete(r.u64(), path(r));
          case AppMessage.RULES -> new AppMessage.Rules(r.u64(), str(r));
          case AppMessage.SLOT -> slot(r);
          case AppMessage.HITS_QUERY -> new AppMessage.HitsQuery(r.u64());
          case AppMessage.ACK -> new AppMessage.Ack(r.u64(), range(r.u8(), 0, 3, "ACK result"));
          case AppMessage.MISS ->
              new AppMessage.Miss(r.u64(), path(r), range(r.u8(), 0, 1, "MISS head") == 1);
          case AppMessage.ANSWER -> answer(r);
          case AppMessage.HITS -> hits(r);
          case AppMessage.READY -> new AppMessage.Ready(str(r));
          default -> throw new ProtocolException("unknown HydraWeb message type " + type);
        };
    r.end();
    return m;
  }

  private static AppMessage.Content content(Body.Reader r) throws ProtocolException {
    int flags = r.u8();
    if ((flags & ~KNOWN_FLAGS) != 0) {
      // A bit this replica does not know changes how the object must be served: serving it as if
      // the bit were clear would be wrong, so the message is refused, never half understood.
      throw new ProtocolException(
          "object flags 0x"
              + Integer.toHexString(flags)
              + " have unknown bits 0x"
              + Integer.toHexString(flags & ~KNOWN_FLAGS));
    }
    String path = path(r);
    String type = str(r);
    long modified = nonNegative(r.u64(), "last-modified");
    long version = nonNegative(r.u64(), "version");
    byte[] body = r.bytes();
    return new AppMessage.Content(
        path, type, modified, version, body, (flags & FLAG_TEMPLATE) != 0);
  }

  private static AppMessage.Slot slot(Body.Reader r) throws ProtocolException {
    long id = r.u64();
    String name = str(r);
    int n = r.u16();
    if ((long) n * MIN_SLOT_VALUE > r.remaining()) {
      throw new ProtocolException("SLOT claims " + n + " values, " + r.remaining() + " bytes left");
    }
    List<String> values = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      values.add(str(r));
    }
    return new AppMessage.Slot(id, name, values);
  }

  private static AppMessage.Answer answer(Body.Reader r) throws ProtocolException {
    long id = r.u64();
    int status = range(r.u16(), 100, 599, "ANSWER status");
    if (status != 200) {
      return new AppMessage.Answer(id, status, null, false);
    }
    AppMessage.Content c = content(r);
    boolean cache = range(r.u8(), 0, 1, "ANSWER cache") == 1;
    return new AppMessage.Answer(id, status, c, cache);
  }

  private static AppMessage.Hits hits(Body.Reader r) throws ProtocolException {
    long id = r.u64();
    long n = r.u32();
    if (n * MIN_HITS_ENTRY > r.remaining()) {
      throw new ProtocolException("HITS claims " + n + " paths, " + r.remaining() + " bytes left");
    }
    Map<String, Long> hits = new LinkedHashMap<>();
    for (long i = 0; i < n; i++) {
      String path = str(r);
      long h = nonNegative(r.u64(), "hits");
      if (hits.put(path, h) != null) {
        throw new ProtocolException("HITS names " + path + " twice");
      }
    }
    long misses = nonNegative(r.u64(), "misses");
    long requests = nonNegative(r.u64(), "requests");
    AppMessage.Latency hitLatency = latency(r, "hit");
    AppMessage.Latency missLatency = latency(r, "miss");
    return new AppMessage.Hits(id, hits, misses, requests, hitLatency, missLatency);
  }

  /** {@code u8 n, n × u64 bound, n × u64 cumulative count, u64 count, u64 sum}, checked. */
  private static AppMessage.Latency latency(Body.Reader r, String which) throws ProtocolException {
    int n = r.u8();
    if (n < 1 || n > AppMessage.Latency.MAX_BOUNDS) {
      throw new ProtocolException(
          "HITS "
              + which
              + " histogram has "
              + n
              + " bounds, not 1.."
              + AppMessage.Latency.MAX_BOUNDS);
    }
    if (n * 16L + 16 > r.remaining()) {
      throw new ProtocolException(
          "HITS " + which + " histogram claims " + n + " bounds, " + r.remaining() + " bytes left");
    }
    long[] bounds = new long[n];
    long[] cumulative = new long[n];
    for (int i = 0; i < n; i++) {
      bounds[i] = r.u64();
    }
    for (int i = 0; i < n; i++) {
      cumulative[i] = nonNegative(r.u64(), "HITS " + which + " histogram count");
    }
    long count = nonNegative(r.u64(), "HITS " + which + " histogram count");
    long sum = r.u64();
    String wrong = AppMessage.Latency.wrong(bounds, cumulative, count, sum);
    if (wrong != null) {
      throw new ProtocolException("HITS " + which + " histogram: " + wrong);
    }
    return new AppMessage.Latency(bounds, cumulative, count, sum);
  }

  /** A string whose bytes must be well-formed UTF-8 (the lenient decoder would hide garbage). */
  private static String str(Body.Reader r) throws ProtocolException {
    byte[] b = r.raw(r.u16());
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(b))
          .toString();
    } catch (CharacterCodingException e) {
      throw new ProtocolException("string is not UTF-8");
    }
  }

  private static String path(Body.Reader r) throws ProtocolException {
    String p = str(r);
    if (p.isEmpty() || p.charAt(0) != '/') {
      throw new ProtocolException("path must start with '/': \"" + p + "\"");
    }
    return p;
  }

  private static int range(int v, int min, int max, String what) throws ProtocolException {
    if (v < min || v > max) {
      throw new ProtocolException(what + " must be " + min + ".." + max + ", not " + v);
    }
    return v;
  }

  private static long nonNegative(long v, String what) throws ProtocolException {
    if (v < 0) {
      throw new ProtocolException(what + " out of range: " + Long.toUnsignedString(v));
    }
    return v;
  }
}
