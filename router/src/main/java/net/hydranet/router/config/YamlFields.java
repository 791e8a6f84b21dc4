package net.hydranet.router.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Set;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;

/**
 * The config loaders' shared field readers: each throws a {@link FieldException} naming the field,
 * which the loader turns into one line for the operator.
 */
final class YamlFields {
  private YamlFields() {}

  /** Reads and parses a YAML file; every error is one line naming the file. */
  static JsonNode read(Path path) throws ConfigException {
    String text;
    try {
      text = Files.readString(path);
    } catch (NoSuchFileException e) {
      throw new ConfigException(path + ": no such file");
    } catch (IOException e) {
      throw new ConfigException(path + ": cannot read: " + e.getMessage());
    }
    return parse(path.toString(), text);
  }

  static JsonNode parse(String file, String text) throws ConfigException {
    try {
      return new ObjectMapper(new YAMLFactory()).readTree(text);
    } catch (JsonProcessingException e) {
      String where =
          e.getLocation() == null
              ? ""
              : " at line "
                  + e.getLocation().getLineNr()
                  + ", column "
                  + e.getLocation().getColumnNr();
      // The parser's message spans several lines (a snippet with a caret): keep one line.
      String why = e.getOriginalMessage().replaceAll("\\s+", " ").strip();
      throw new ConfigException(file + ": not valid YAML" + where + ": " + why);
    }
  }

  static void object(JsonNode n, String at) {
    if (n == null || !n.isObject()) {
      throw new FieldException(at, "expected a mapping");
    }
  }

  static void known(JsonNode n, Set<String> fields, String at) {
    Iterator<String> names = n.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!fields.contains(name)) {
        throw new FieldException(
            at.isEmpty() ? name : at + "." + name,
            "unknown field (expected one of " + fields + ")");
      }
    }
  }

  static JsonNode list(JsonNode n, String field, boolean required) {
    return list(n, field, required, "");
  }

  static JsonNode list(JsonNode n, String field, boolean required, String at) {
    String name = at.isEmpty() ? field : at + "." + field;
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        throw new FieldException(name, "missing");
      }
      return null;
    }
    if (!v.isArray()) {
      throw new FieldException(name, "expected a list");
    }
    if (required && v.isEmpty()) {
      throw new FieldException(name, "must not be empty");
    }
    return v;
  }

  static String string(JsonNode n, String field, String at, boolean required) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        throw new FieldException(at + "." + field, "missing");
      }
      return null;
    }
    if (!v.isValueNode() || v.isBoolean()) {
      throw new FieldException(at + "." + field, "expected text");
    }
    return v.asText();
  }

  static int integer(JsonNode n, String field, String at, int dflt) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      return dflt;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw new FieldException(
          at + "." + field, "expected a whole number, got '" + v.asText() + "'");
    }
    return v.intValue();
  }

  static boolean bool(JsonNode n, String field, String at, boolean dflt) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      return dflt;
    }
    if (!v.isBoolean()) {
      throw new FieldException(at + "." + field, "expected true or false");
    }
    return v.booleanValue();
  }

  static int address(String text, String field) {
    try {
      return Ipv4Header.parseAddress(text);
    } catch (IllegalArgumentException e) {
      throw new FieldException(field, "'" + text + "' is not an IPv4 address");
    }
  }

  /** "198.18.1.1/24" → {address, 24}; a bare address is /32 unless {@code needLength}. */
  static int[] prefix(String text, String field, boolean needLength) {
    int slash = text.indexOf('/');
    if (slash < 0) {
      if (needLength) {
        throw new FieldException(field, "'" + text + "' needs a prefix length, like 198.18.1.1/24");
      }
      return new int[] {address(text, field), 32};
    }
    int length;
    try {
      length = Integer.parseInt(text.substring(slash + 1));
    } catch (NumberFormatException e) {
      throw new FieldException(field, "'" + text + "' has no valid prefix length");
    }
    if (length < 0 || length > 32) {
      throw new FieldException(field, "prefix length " + length + " is outside 0..32");
    }
    return new int[] {address(text.substring(0, slash), field), length};
  }

  /** An IPv6 address in any RFC 4291 text form → {high, low}. */
  static long[] address6(String text, String field) {
    try {
      return Ipv6Header.parseAddress(text);
    } catch (IllegalArgumentException e) {
      throw new FieldException(field, "'" + text + "' is not an IPv6 address");
    }
  }

  /** "2001:2:0:1::1/64" → {high, low, 64}; a bare address is /128 unless {@code needLength}. */
  static long[] prefix6(String text, String field, boolean needLength) {
    int slash = text.indexOf('/');
    if (slash < 0) {
      if (needLength) {
        throw new FieldException(
            field, "'" + text + "' needs a prefix length, like 2001:2:0:1::1/64");
      }
      long[] a = address6(text, field);
      return new long[] {a[0], a[1], 128};
    }
    int length;
    try {
      length = Integer.parseInt(text.substring(slash + 1));
    } catch (NumberFormatException e) {
      throw new FieldException(field, "'" + text + "' has no valid prefix length");
    }
    if (length < 0 || length > 128) {
      throw new FieldException(field, "prefix length " + length + " is outside 0..128");
    }
    long[] a = address6(text.substring(0, slash), field);
    return new long[] {a[0], a[1], length};
  }

  /**
   * A node's own IPv6 address, one it binds to and is known by: unicast and not link-local,
   * loopback, unspecified or IPv4-mapped (RFC 4291 §2.5), so it names one interface's address.
   */
  static java.net.InetAddress unicast6(String text, String field) {
    long[] a = address6(text, field);
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(16).putLong(a[0]).putLong(a[1]);
    java.net.InetAddress inet;
    try {
      inet = java.net.InetAddress.getByAddress(b.array());
    } catch (java.net.UnknownHostException e) {
      throw new IllegalStateException("16 bytes are an address", e);
    }
    if (!(inet instanceof java.net.Inet6Address)
        || inet.isAnyLocalAddress()
        || inet.isLoopbackAddress()
        || inet.isLinkLocalAddress()
        || inet.isMulticastAddress()) {
      throw new FieldException(
          field,
          "'"
              + text
              + "' is not a unicast IPv6 address of a node (not ::, ::1, fe80::/10, ff00::/8 or"
              + " ::ffff:0:0/96)");
    }
    return inet;
  }

  /** An IPv4 address, or with a colon an IPv6 one ({@link #unicast6}), as an InetAddress. */
  static java.net.InetAddress nodeAddress(String text, String field) {
    if (isIpv6(text)) {
      return unicast6(text, field);
    }
    int a = address(text, field);
    try {
      return java.net.InetAddress.getByAddress(
          new byte[] {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a});
    } catch (java.net.UnknownHostException e) {
      throw new IllegalStateException("4 bytes are an address", e);
    }
  }

  /** True when the text is meant as an IPv6 address or prefix (it has a colon). */
  static boolean isIpv6(String text) {
    return text.indexOf(':') >= 0;
  }

  /**
   * An IPv6 origin prefix {@code 2001:2::/48} (or one address, /128): {high, low, length}, host
   * bits refused rather than silently cleared.
   */
  static long[] originPrefix6(String text, String field) {
    long[] p = prefix6(text, field, false);
    int length = (int) p[2];
    long highMask = length == 0 ? 0 : length >= 64 ? -1L : -1L << (64 - length);
    long lowMask = length <= 64 ? 0 : length == 128 ? -1L : -1L << (128 - length);
    if ((p[0] & ~highMask) != 0 || (p[1] & ~lowMask) != 0) {
      throw new FieldException(field, "'" + text + "' has bits set beyond its prefix length");
    }
    return p;
  }

  /** A field error, caught once in {@link #parse} and turned into a {@link ConfigException}. */
  static final class FieldException extends RuntimeException {
    static final long serialVersionUID = 1L;
    final String field;

    FieldException(String field, String message) {
      super(message, null, false, false);
      this.field = field;
    }
  }
}
