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
 * |  'H' (0x48)   |  'N' (0x4e)   | version (1|2) |     type      |
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
 *
 * <p>Version 2 (control-plane/IPV6.md §2) changes only the entries of ANNOUNCE, WITHDRAW and
 * UPDATE: an address-family octet and a 16-byte origin, so IPv6 services travel. A message is
 * encoded in the version its {@link Message#version()} names; the agents send version 2 only when a
 * message carries an IPv6 entry and the peer said it reads version 2, so IPv4-only traffic stays
 * byte-identical to version 1. The decoder reads both.
 */
public final class Codec {
  public static final int MAGIC = 0x484e;

  /** Version 1: IPv4 entries only (PROTOCOL.md). What HELLO, KEEPALIVE and REQUEST always use. */
  public static final int VERSION = 1;

  /** Version 2: entries with an address family (IPV6.md §2). */
  public static final int VERSION_2 = 2;

  /** The highest version this node reads, advertised in its HELLO. */
  public static final int MAX_VERSION = VERSION_2;

  public static final int FAMILY_IPV4 = 4;
  public static final int FAMILY_IPV6 = 6;

  /** HELLO flag: "I do not know your version: answer with a HELLO". */
  public static final int HELLO_ANSWER = 0x01;

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

  public static final int ANNOUNCE_ENTRY_V2 = 24;
  public static final int UPDATE_ENTRY_V2 = 32;
  public static final int MAX_ANNOUNCE_ENTRIES_V2 =
      (MAX_DATAGRAM - HEADER - SIGNATURE - LIST_HEADER) / ANNOUNCE_ENTRY_V2;
  public static final int MAX_UPDATE_ENTRIES_V2 =
      (MAX_DATAGRAM - HEADER - SIGNATURE - LIST_HEADER) / UPDATE_ENTRY_V2;

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
    int version = m.version();
    int entrySize = entrySize(m.type(), version);
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
    b.putShort((short) MAGIC).put((byte) version).put((byte) m.type().code());
    b.putInt(m.sender()).putLong(m.timestamp());
    b.putShort((short) m.holdMillis()).putShort((short) body);
    boolean update = m.type() == MessageType.UPDATE;
    if (m.type() == MessageType.HELLO) {
      b.put((byte) m.role()).put((byte) m.reads()).put((byte) (m.answer() ? HELLO_ANSWER : 0));
      b.put((byte) 0);
    } else if (entrySize > 0) {
      b.putShort((short) m.entries().size()).putShort((short) 0);
      for (Entry e : m.entries()) {
        if (version == VERSION) {
          b.putInt(e.origin()).put((byte) e.protocol()).put((byte) 0).putShort((short) e.port());
          if (update) {
            b.putInt(e.hostServer());
          }
          b.putShort((short) e.weight()).putShort((short) e.load());
        } else {
          b.put((byte) (e.isIpv4() ? FAMILY_IPV4 : FAMILY_IPV6)).put((byte) e.protocol());
          b.putShort((short) e.port()).putShort((short) e.weight()).putShort((short) e.load());
          if (e.isIpv4()) {
            b.putLong((long) e.origin() << 32).putLong(0); // first 4 bytes, then 12 zero
          } else {
            b.putLong(e.service().high()).putLong(e.service().low());
          }
          if (update) {
            b.putInt(e.hostServer());
          }
        }
        if (update) {
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
    if (m.version() != VERSION && m.version() != VERSION_2) {
      return "version " + m.version();
    } else if (m.version() == VERSION && m.hasIpv6()) {
      return "an IPv6 entry needs version " + VERSION_2;
    } else if (m.reads() < 0 || m.reads() > 0xff) {
      return "reads version " + m.reads();
    } else if ((m.reads() != 0 || m.answer()) && m.type() != MessageType.HELLO) {
      return m.type() + " carries no version advertisement";
    } else if (m.holdMillis() != 0
        && (m.holdMillis() < MIN_HOLD_MILLIS || m.holdMillis() > 0xffff)) {
      return "hold time " + m.holdMillis() + " ms is not 0 or in [" + MIN_HOLD_MILLIS + ", 65535]";
    } else if (m.timestamp() <= 0) {
      return "timestamp " + m.timestamp();
    } else if (!unicast(m.sender())) {
      return "sender " + Addresses.format(m.sender());
    } else if (m.type() == MessageType.HELLO
        && m.role() != Message.ROLE_HOST_SERVER
        && m.role() != Message.ROLE_REDIRECTOR) {
      return "role " + m.role();
    } else if (entrySize(m.type(), VERSION) == 0 && !m.entries().isEmpty()) {
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

  private static int entrySize(MessageType t, int version) {
    boolean v2 = version == VERSION_2;
    return switch (t) {
      case ANNOUNCE, WITHDRAW -> v2 ? ANNOUNCE_ENTRY_V2 : ANNOUNCE_ENTRY;
      case UPDATE -> v2 ? UPDATE_ENTRY_V2 : UPDATE_ENTRY;
      default -> 0;
    };
  }

  /** The most entries one message of this type and version holds. */
  public static int maxEntries(MessageType t, int version) {
    int size = entrySize(t, version);
    return size == 0 ? 0 : (MAX_DATAGRAM - HEADER - SIGNATURE - LIST_HEADER) / size;
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
    if (version != VERSION && version != VERSION_2) {
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
    int reads = 0;
    boolean answer = false;
    List<Entry> entries = List.of();
    switch (type) {
      case HELLO -> {
        expectBody(body, HELLO_BODY, type);
        role = b.get() & 0xff;
        if (role != Message.ROLE_HOST_SERVER && role != Message.ROLE_REDIRECTOR) {
          throw new Refused(Malformed.BAD_ENTRY, "role " + role);
        }
        reads = b.get() & 0xff; // a version-1 node's reserved 0
        answer = (b.get() & HELLO_ANSWER) != 0; // the other flag bits are reserved
      }
      case KEEPALIVE, REQUEST -> expectBody(body, 0, type);
      case ANNOUNCE, WITHDRAW, UPDATE -> entries = decodeEntries(b, body, type, version, sender);
    }
    return new Message(type, sender, timestamp, hold, role, entries, version, reads, answer);
  }

  private static void expectBody(int body, int expected, MessageType type) throws Refused {
    if (body != expected) {
      throw new Refused(Malformed.BAD_LENGTH, type + " body of " + body + " bytes");
    }
  }

  private static List<Entry> decodeEntries(
      ByteBuffer b, int body, MessageType type, int version, int sender) throws Refused {
    int size = entrySize(type, version);
    if (body < LIST_HEADER) {
      throw new Refused(Malformed.BAD_LENGTH, type + " body of " + body + " bytes");
    }
    int count = b.getShort() & 0xffff;
    b.getShort(); // reserved
    if (body != LIST_HEADER + count * size) {
      throw new Refused(Malformed.BAD_LENGTH, count + " entries in " + body + " bytes");
    }
    boolean update = type == MessageType.UPDATE;
    List<Entry> entries = new ArrayList<>(count);
    Set<Key> seen = new HashSet<>();
    for (int i = 0; i < count; i++) {
      Service service;
      int hostServer = sender;
      int weight;
      int load;
      if (version == VERSION) {
        int origin = b.getInt();
        int protocol = b.get() & 0xff;
        b.get(); // reserved
        int port = b.getShort() & 0xffff;
        if (update) {
          hostServer = b.getInt();
        }
        weight = b.getShort() & 0xffff;
        load = b.getShort() & 0xffff;
        service = Service.ipv4(origin, protocol, port);
      } else {
        int family = b.get() & 0xff;
        int protocol = b.get() & 0xff;
        int port = b.getShort() & 0xffff;
        weight = b.getShort() & 0xffff;
        load = b.getShort() & 0xffff;
        long high = b.getLong();
        long low = b.getLong();
        if (update) {
          hostServer = b.getInt();
        }
        service = v2Service(family, high, low, protocol, port, i);
      }
      int distance = 0;
      if (update) {
        distance = b.getShort() & 0xffff;
        b.getShort(); // reserved
      }
      Entry e = new Entry(service, hostServer, weight, load, distance);
      check(e, i);
      if (!seen.add(new Key(e.service(), hostServer))) {
        throw new Refused(Malformed.BAD_ENTRY, "entry " + i + ": duplicate");
      }
      entries.add(e);
    }
    return entries;
  }

  /**
   * A version-2 entry's service: family 4 with the IPv4 origin in the first 4 of the 16 bytes and
   * the other 12 zero (one address, one encoding: a signature covers exactly one meaning), or
   * family 6 with any address {@link #check} then admits.
   */
  private static Service v2Service(int family, long high, long low, int protocol, int port, int i)
      throws Refused {
    if (family == FAMILY_IPV4) {
      if ((high & 0xffff_ffffL) != 0 || low != 0) {
        throw new Refused(Malformed.BAD_ENTRY, "entry " + i + ": IPv4 origin with padding");
      }
      return Service.ipv4((int) (high >>> 32), protocol, port);
    }
    if (family == FAMILY_IPV6) {
      if (!Addresses.unicastIpv6(high, low)) {
        throw new Refused(
            Malformed.BAD_ENTRY, "entry " + i + ": origin " + Addresses.formatIpv6(high, low));
      }
      return Service.ipv6(high, low, protocol, port);
    }
    throw new Refused(Malformed.BAD_ENTRY, "entry " + i + ": address family " + family);
  }

  private record Key(Service service, int hostServer) {}

  private static void check(Entry e, int i) throws Refused {
    String why = null;
    Service s = e.service();
    if (s.isIpv4() ? !unicast(s.ipv4Origin()) : !Addresses.unicastIpv6(s.high(), s.low())) {
      why = "origin " + s.originText();
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
