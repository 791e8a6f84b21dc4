package net.hydranet.hydraweb;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * One immutable HTTP object of the cache: its bytes, validators and the response header bytes that
 * serving it needs, encoded once here so that a hit only copies arrays.
 *
 * <p>A static object has a strong ETag taken from a hash of its body (so equal bytes have equal
 * tags across versions) and a Last-Modified date; it answers conditional and range requests. A
 * template's body has {@code {{name}}} slots filled per request from {@link Slots}; it has no
 * validators (every response may differ) and is always sent whole.
 */
public final class WebObject {
  private static final int OVERHEAD = 160; // object headers, arrays' headers, the cache entry

  private final String path;
  private final PathKey key;
  private final byte[] body;
  private final String contentType;
  private final String etag;
  private final long lastModified;
  private final long version;
  // Templates: body split at slots, parts.length == slotNames.length + 1.
  private final byte[][] parts;
  private final String[] slotNames;
  // Pre-encoded header lines, each ending in CRLF.
  private final byte[] head200; // every 200 header line after Date/Connection, then the blank line
  private final byte[] typeHeaders; // Server, Content-Type
  private final byte[] validatorHeaders; // ETag, Last-Modified, Accept-Ranges
  private final byte[] notModifiedHeaders; // the 304's lines after Date/Connection, blank line
  private final byte[] etagBytes;
  private final byte[] lastModifiedBytes;

  private WebObject(
      String path,
      byte[] body,
      String contentType,
      long lastModified,
      long version,
      byte[][] parts,
      String[] slotNames) {
    if (path == null || path.isEmpty() || path.charAt(0) != '/') {
      throw new IllegalArgumentException("path must start with '/': " + path);
    }
    checkHeaderValue("content type", contentType);
    if (lastModified < 0) {
      throw new IllegalArgumentException("last-modified before 1970: " + lastModified);
    }
    this.path = path;
    this.key = PathKey.of(path);
    this.body = body;
    this.contentType = contentType;
    this.lastModified = lastModified;
    this.version = version;
    this.parts = parts;
    this.slotNames = slotNames;
    this.typeHeaders =
        ascii("Server: " + Responses.SERVER + "\r\nContent-Type: " + contentType + "\r\n");
    if (parts == null) {
      this.etag = "\"" + contentHash(body) + "\"";
      this.etagBytes = ascii(etag);
      this.lastModifiedBytes = HttpDate.format(lastModified);
      String validators =
          "ETag: "
              + etag
              + "\r\nLast-Modified: "
              + new String(lastModifiedBytes, StandardCharsets.US_ASCII)
              + "\r\nAccept-Ranges: bytes\r\n";
      this.validatorHeaders = ascii(validators);
      this.head200 =
          ascii(
              "Server: "
                  + Responses.SERVER
                  + "\r\nContent-Type: "
                  + contentType
                  + "\r\nContent-Length: "
                  + body.length
                  + "\r\n"
                  + validators
                  + "\r\n");
      this.notModifiedHeaders =
          ascii(
              "Server: "
                  + Responses.SERVER
                  + "\r\nETag: "
                  + etag
                  + "\r\nLast-Modified: "
                  + new String(lastModifiedBytes, StandardCharsets.US_ASCII)
                  + "\r\n\r\n");
    } else {
      this.etag = null;
      this.etagBytes = null;
      this.lastModifiedBytes = null;
      this.validatorHeaders = ascii("Cache-Control: no-store\r\n");
      this.head200 = null;
      this.notModifiedHeaders = null;
    }
  }

  /** A static object; {@code lastModified} in seconds since the epoch. */
  public static WebObject of(
      String path, byte[] body, String contentType, long lastModified, long version) {
    return new WebObject(path, body.clone(), contentType, lastModified, version, null, null);
  }

  /**
   * A template: {@code {{name}}} (name of letters, digits, '-', '_', '.') marks a slot filled per
   * request from {@link Slots}; any other text is literal.
   */
  public static WebObject template(
      String path, byte[] template, String contentType, long lastModified, long version) {
    List<byte[]> parts = new ArrayList<>();
    List<String> names = new ArrayList<>();
    int literalStart = 0;
    int i = 0;
    while (i + 1 < template.length) {
      if (template[i] == '{' && template[i + 1] == '{') {
        int j = i + 2;
        while (j < template.length && isSlotChar(template[j])) {
          j++;
        }
        if (j > i + 2 && j + 1 < template.length && template[j] == '}' && template[j + 1] == '}') {
          parts.add(java.util.Arrays.copyOfRange(template, literalStart, i));
          names.add(new String(template, i + 2, j - i - 2, StandardCharsets.US_ASCII));
          i = j + 2;
          literalStart = i;
          continue;
        }
      }
      i++;
    }
    parts.add(java.util.Arrays.copyOfRange(template, literalStart, template.length));
    return new WebObject(
        path,
        template.clone(),
        contentType,
        lastModified,
        version,
        parts.toArray(new byte[0][]),
        names.toArray(new String[0]));
  }

  private static boolean isSlotChar(byte c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '-'
        || c == '_'
        || c == '.';
  }

  /** Renders a template's body with the slots' current values, advancing their rotations. */
  byte[] render(Slots slots) {
    byte[][] values = new byte[slotNames.length][];
    int n = parts[0].length;
    for (int i = 0; i < slotNames.length; i++) {
      values[i] = slots.next(slotNames[i]);
      n += values[i].length + parts[i + 1].length;
    }
    byte[] out = new byte[n];
    int p = 0;
    for (int i = 0; i < parts.length; i++) {
      System.arraycopy(parts[i], 0, out, p, parts[i].length);
      p += parts[i].length;
      if (i < values.length) {
        System.arraycopy(values[i], 0, out, p, values[i].length);
        p += values[i].length;
      }
    }
    return out;
  }

  private static String contentHash(byte[] body) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(body);
      // 128 bits of SHA-256 in base64url: short, and collisions are not a practical concern.
      return Base64.getUrlEncoder().withoutPadding().encodeToString(java.util.Arrays.copyOf(d, 16));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  static void checkHeaderValue(String what, String v) {
    if (v == null || v.isEmpty()) {
      throw new IllegalArgumentException(what + " is empty");
    }
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        throw new IllegalArgumentException(what + " has a character a header cannot carry: " + v);
      }
    }
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  public String path() {
    return path;
  }

  PathKey key() {
    return key;
  }

  /** The body (a template's source text for templates). A copy: objects are immutable. */
  public byte[] body() {
    return body.clone();
  }

  byte[] bodyArray() {
    return body;
  }

  public int length() {
    return body.length;
  }

  public String contentType() {
    return contentType;
  }

  /** The strong entity tag, quoted; null for templates. */
  public String etag() {
    return etag;
  }

  public long lastModified() {
    return lastModified;
  }

  public long version() {
    return version;
  }

  public boolean isTemplate() {
    return parts != null;
  }

  byte[] head200() {
    return head200;
  }

  byte[] typeHeaders() {
    return typeHeaders;
  }

  byte[] validatorHeaders() {
    return validatorHeaders;
  }

  byte[] notModifiedHeaders() {
    return notModifiedHeaders;
  }

  byte[] etagBytes() {
    return etagBytes;
  }

  byte[] lastModifiedBytes() {
    return lastModifiedBytes;
  }

  /** Bytes this object holds, as the cache counts them against its capacity. */
  public long footprint() {
    long n = OVERHEAD + 2L * body.length + typeHeaders.length + validatorHeaders.length;
    n += 2L * key.length();
    if (head200 != null) {
      n += head200.length + notModifiedHeaders.length + etagBytes.length + lastModifiedBytes.length;
      n -= body.length; // static objects keep one copy of the body
    }
    return n;
  }

  @Override
  public String toString() {
    return path + " v" + version + " (" + body.length + " B, " + contentType + ")";
  }
}
