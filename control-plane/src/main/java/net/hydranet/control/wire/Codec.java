package net.hydranet.control.wire;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.hydranet.control.wire.Malformed.Refused;

/**
 * Encodes and decodes the HYDRANET routing protocol's messages (PROTOCOL.md has the diagrams and
 * byte-exact vectors). Big-endian throughout. The decoder checks every length and every field
 * before it returns, and refuses with a {@link Malformed} reason rather than throwing anything
 * else: it is the first thing a hostile datagram meets.
 *
 * <pre>
 *  0               1               2               3
 * +---------------+---------------+---------------+---------------+
 * |  'H' (0x48)   |  'N' (0x4e)   |  version (1)  |     type      |
 * +---------------+---------------+---------------+---------------+
 * |                   sender (IPv4 control address)               |
 * +---------------------------------------------------------------+
 * |              timestamp (µs since the epoch, 64 bits)          |
 * |                                                               |
 * +-------------------------------+-------------------------------+
 * |       hold time (ms)          |        body length            |
 * +-------------------------------+-------------------------------+
 * |                       body (body length bytes)                |
 * +---------------------------------------------------------------+
 * |      Ed25519 signature over every byte above (64 bytes)       |
 * +---------------------------------------------------------------+
 * </pre>
 */
public final class Codec {
  public static final int MAGIC = 0x484e;
  public static final int VERSION = 1;
  public static final int HEADER = 20;
  public static final int SIGNATURE = 64;

  /** The largest datagram sent or accepted: fits any path with a 1500-byte MTU, tunnels too. */
  public static final int MAX_DATAGRAM = 1400;

  public static final int ANNOUNCE_ENTRY = 12;
  public static final int UPDATE_ENTRY = 20;
  public static final int LIST_HEADER = 4;
  public static final int HELLO_BODY = 4;
  public static final int MAX_ANNOUNCE_ENTRIES =
      (MAX_DATAGRAM - HEADER - SIGNATURE - LIST_HEADER) / ANNOUNCE_ENTRY;
  public static final int MAX_UPDATE_ENTRIES =
      (MAX_DATAGRAM - HEADER - SIGNATURE - LIST_HEADER) / UPDATE_ENTRY;

  /** The distance that means "unreachable": an UPDATE entry with it withdraws the route. */
  public static final int INFINITY = 255;

  public static final int MAX_WEIGHT = 1000;
  public static final int MAX_LOAD = 100;

  /** Hold times below this (except 0, "leaving") are refused: they would only make flaps. */
  public static final int MIN_HOLD_MILLIS = 100;

  private Codec() {}

  /**
   * The bytes a signature covers: header and body. Refuses (IllegalArgumentException) a message the
   * decoder would refuse, or one whose fields do not fit theirs: nothing is silently truncated, and
   * nothing is sent that every receiver would drop.
   */
  public static byte[] encodeUnsigned(Message m) {
    validate(m);
    int entrySize = entrySize(m.type());
    int body;
    if (m.type() == MessageType.HELLO) {
      body = HELLO_BODY;
    } else if (entrySize > 0) {
      body = LIST_HEADER + entrySize * m.entries().size();
    } else {
      body = 0;
    }
    if (HEADER + body + SIGNATURE > MAX_DATAGRAM) {
      throw new IllegalArgumentException(
          m.entries().size() + " entries do not fit one " + m.type() + " message");
    }
    ByteBuffer b = ByteBuffer.allocate(HEADER + body);
    b.putShort((short) MAGIC).put((byte) VERSION).put((byte) m.type().code());
    b.putInt(m.sender()).putLong(m.timestamp());
    b.putShort((short) m.holdMillis()).putShort((short) body);
    if (m.type() == MessageType.HELLO) {
      b.put((byte) m.role()).put((byte) 0).putShort((short) 0);
    } else if (entrySize > 0) {
      b.putShort((short) m.entries().size()).putShort((short) 0);
      for (Entry e : m.entries()) {
        b.putInt(e.origin()).put((byte) e.protocol()).put((byte) 0).putShort((short) e.port());
        if (m.type() == MessageType.UPDATE) {
          b.putInt(e.hostServer());
        }
        b.putShort((short) e.weight()).putShort((short) e.load());
        if (m.type() == MessageType.UPDATE) {
          b.putShort((short) e.distance()).putShort((short) 0);
        }
      }
    }
    return b.array();
  }

  private static void validate(Message m) {
    String why = headerProblem(m);
    Set<Key> seen = new HashSet<>();
    for (int i = 0; why == null && i < m.entries().size(); i++) {
      why = entryProblem(m, m.entries().get(i), i);
      if (why == null && !seen.add(new Key(m.entries().get(i).service(), hostServer(m, i)))) {
        why = "entry " + i + ": duplicate";
      }
    }
    if (why != null) {
      throw new IllegalArgumentException("cannot encode " + m.type() + ": " + why);
    }
  }

  private static int hostServer(Message m, int i) {
    return m.type() == MessageType.UPDATE ? m.entries().get(i).hostServer() : m.sender();
  }

  private static String headerProblem(Message m) {
    if (m.holdMillis() != 0 && (m.holdMillis() < MIN_HOLD_MILLIS || m.holdMillis() > 0xffff)) {
      return "hold time " + m.holdMillis() + " ms is not 0 or in [" + MIN_HOLD_MILLIS + ", 65535]";
    } else if (m.timestamp() <= 0) {
      return "timestamp " + m.timestamp();
    } else if (!unicast(m.sender())) {
      return "sender " + Addresses.format(m.sender());
    } else if (m.type() == MessageType.HELLO
        && m.role() != Message.ROLE_HOST_SERVER
        && m.role() != Message.ROLE_REDIRECTOR) {
      return "role " + m.role();
    } else if (entrySize(m.type()) == 0 && !m.entries().isEmpty()) {
      return m.type() + " carries no entries";
    }
    return null;
  }

  private static String entryProblem(Message m, Entry e, int i) {
    boolean update = m.type() == MessageType.UPDATE;
    if (e.port() < 0 || e.port() > 0xffff) {
      return "entry " + i + ": port " + e.port();
    } else if (e.weight() < 0 || e.load() < 0 || (update && e.distance() < 0)) {
      return "entry " + i + ": a negative weight, load or distance";
    } else if (!update && e.hostServer() != m.sender()) {
      return "entry "
          + i
          + ": host server "
          + Addresses.format(e.hostServer())
          + " is not the sender";
    }
    try {
      // What is not on the wire (ANNOUNCE and WITHDRAW carry no distance) is not checked.
      check(update ? e : e.withDistance(0), i);
      return null;
    } catch (Refused r) {
      return r.getMessage();
    }
  }

  private static int entrySize(MessageType t) {
    return switch (t) {
      case ANNOUNCE, WITHDRAW -> ANNOUNCE_ENTRY;
      case UPDATE -> UPDATE_ENTRY;
      default -> 0;
    };
  }

  /** The sender field, read before anything else so unknown senders cost no cryptography. */
  public static int sender(byte[] data, int length) throws Refused {
    if (length > MAX_DATAGRAM || length > data.length) {
      throw new Refused(Malformed.TOO_LONG, length + " bytes");
    }
    if (length < HEADER + SIGNATURE) {
      throw new Refused(Malformed.TOO_SHORT, length + " bytes");
    }
    return ByteBuffer.wrap(data).getInt(4);
  }

  /**
   * Decodes a whole datagram (header, body, signature) without checking the signature; the caller
   * verifies bytes {@code [0, length - SIGNATURE)} against the last {@link #SIGNATURE} bytes.
   */
  public static Message decode(byte[] data, int length) throws Refused {
    if (length > MAX_DATAGRAM || length > data.length) {
      throw new Refused(Malformed.TOO_LONG, length + " bytes");
    }
    if (length < HEADER + SIGNATURE) {
      throw new Refused(Malformed.TOO_SHORT, length + " bytes");
    }
    ByteBuffer b = ByteBuffer.wrap(data, 0, length);
    if ((b.getShort() & 0xffff) != MAGIC) {
      throw new Refused(Malformed.BAD_MAGIC, "not a HYDRANET message");
    }
    int version = b.get() & 0xff;
    if (version != VERSION) {
      throw new Refused(Malformed.BAD_VERSION, "version " + version);
    }
    int code = b.get() & 0xff;
    MessageType type = MessageType.of(code);
    if (type == null) {
      throw new Refused(Malformed.BAD_TYPE, "type " + code);
    }
    int sender = b.getInt();
    long timestamp = b.getLong();
    int hold = b.getShort() & 0xffff;
    int body = b.getShort() & 0xffff;
    if (HEADER + body + SIGNATURE != length) {
      throw new Refused(
          Malformed.BAD_LENGTH, "body length " + body + " in a " + length + "-byte datagram");
    }
    if (hold != 0 && hold < MIN_HOLD_MILLIS) {
      throw new Refused(Malformed.BAD_ENTRY, "hold time " + hold + " ms");
    }
    if (timestamp <= 0) {
      throw new Refused(Malformed.BAD_ENTRY, "timestamp " + timestamp);
    }
    if (!unicast(sender)) {
      throw new Refused(Malformed.BAD_ENTRY, "sender " + Addresses.format(sender));
    }
    int role = 0;
    List<Entry> entries = List.of();
    switch (type) {
      case HELLO -> {
        expectBody(body, HELLO_BODY, type);
        role = b.get() & 0xff;
        if (role != Message.ROLE_HOST_SERVER && role != Message.ROLE_REDIRECTOR) {
          throw new Refused(Malformed.BAD_ENTRY, "role " + role);
        }
      }
      case KEEPALIVE, REQUEST -> expectBody(body, 0, type);
      case ANNOUNCE, WITHDRAW, UPDATE -> entries = decodeEntries(b, body, type, sender);
    }
    return new Message(type, sender, timestamp, hold, role, entries);
  }

  private static void expectBody(int body, int expected, MessageType type) throws Refused {
    if (body != expected) {
      throw new Refused(Malformed.BAD_LENGTH, type + " body of " + body + " bytes");
    }
  }

  private static List<Entry> decodeEntries(ByteBuffer b, int body, MessageType type, int sender)
      throws Refused {
    int size = entrySize(type);
    if (body < LIST_HEADER) {
      throw new Refused(Malformed.BAD_LENGTH, type + " body of " + body + " bytes");
    }
    int count = b.getShort() & 0xffff;
    b.getShort(); // reserved
    if (body != LIST_HEADER + count * size) {
      throw new Refused(Malformed.BAD_LENGTH, count + " entries in " + body + " bytes");
    }
    List<Entry> entries = new ArrayList<>(count);
    Set<Key> seen = new HashSet<>();
    for (int i = 0; i < count; i++) {
      int origin = b.getInt();
      int protocol = b.get() & 0xff;
      b.get(); // reserved
      int port = b.getShort() & 0xffff;
      int hostServer = type == MessageType.UPDATE ? b.getInt() : sender;
      int weight = b.getShort() & 0xffff;
      int load = b.getShort() & 0xffff;
      int distance = 0;
      if (type == MessageType.UPDATE) {
        distance = b.getShort() & 0xffff;
        b.getShort(); // reserved
      }
      Entry e = new Entry(origin, protocol, port, hostServer, weight, load, distance);
      check(e, i);
      if (!seen.add(new Key(e.service(), hostServer))) {
        throw new Refused(Malformed.BAD_ENTRY, "entry " + i + ": duplicate");
      }
      entries.add(e);
    }
    return entries;
  }

  private record Key(long service, int hostServer) {}

  private static void check(Entry e, int i) throws Refused {
    String why = null;
    if (!unicast(e.origin())) {
      why = "origin " + Addresses.format(e.origin());
    } else if (e.protocol() != 6 && e.protocol() != 17) {
      why = "protocol " + e.protocol();
    } else if (e.port() == 0) {
      why = "port 0";
    } else if (!unicast(e.hostServer())) {
      why = "host server " + Addresses.format(e.hostServer());
    } else if (e.weight() > MAX_WEIGHT) {
      why = "weight " + e.weight();
    } else if (e.load() > MAX_LOAD) {
      why = "load " + e.load();
    } else if (e.distance() > INFINITY) {
      why = "distance " + e.distance();
    }
    if (why != null) {
      throw new Refused(Malformed.BAD_ENTRY, "entry " + i + ": " + why);
    }
  }

  /** A unicast address a service or node may have: not 0/8, not multicast or above. */
  public static boolean unicast(int address) {
    int first = address >>> 24;
    return first != 0 && first < 224;
  }
}
