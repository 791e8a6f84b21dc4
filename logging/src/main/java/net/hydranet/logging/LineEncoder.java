package net.hydranet.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.event.KeyValuePair;

/**
 * One log event, one line: logfmt (the default) or a JSON object, with the same fields in the same
 * order either way.
 *
 * <pre>
 * time=2026-11-24T06:00:00.123Z level=info logger=ReplicaManager msg="installing web-1 …" action=install rps=412
 * {"time":"2026-11-24T06:00:00.123Z","level":"info","logger":"ReplicaManager","msg":"installing web-1 …","action":"install","rps":412}
 * </pre>
 *
 * <ul>
 *   <li>{@code time}: UTC, ISO 8601 with milliseconds.
 *   <li>{@code level}: trace, debug, info, warn or error.
 *   <li>{@code logger}: a HydraNet logger ({@code net.hydranet.…}) by its class's simple name; any
 *       other (a library's) by its full name.
 *   <li>{@code msg}: the formatted message.
 *   <li>then the event's SLF4J key-value pairs ({@code LOG.atInfo().addKeyValue(k, v)}), in the
 *       order they were added, then the MDC's entries;
 *   <li>{@code error} and {@code stack} when the event carries an exception: its class and message,
 *       and the whole stack trace (causes and suppressed included) as one escaped value, so that an
 *       event is always exactly one line for grep, journald and line-based collectors.
 * </ul>
 *
 * A key-value pair whose key is one of these fixed names is written with a trailing underscore
 * ({@code msg_}), so that no line has a key twice. Keys are made of printable ASCII other than
 * {@code = " \}; anything else in a key becomes {@code _}.
 *
 * <p>logfmt values are written bare unless they are empty or hold a space, {@code =}, {@code "},
 * {@code \} or any control or non-printing character; then they are double-quoted, with {@code \"},
 * {@code \\}, {@code \n}, {@code \r}, {@code \t} and {@code \}{@code uXXXX} for other control
 * characters. In JSON, numbers and booleans among the key-value pairs are JSON numbers and
 * booleans; everything else is a string.
 */
public final class LineEncoder extends EncoderBase<ILoggingEvent> {
  /** The two formats, as {@code <format>} (and {@code --log-format}) names them. */
  public static final String LOGFMT = "logfmt";

  public static final String JSON = "json";

  private static final Set<String> FIXED =
      Set.of("time", "level", "logger", "msg", "error", "stack");

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT)
          .withZone(ZoneOffset.UTC);

  private boolean json;

  /**
   * {@code logfmt} or {@code json} (any case); anything else is logfmt, with one warning line on
   * stderr (logback's own warning would print its whole start-up status).
   */
  public void setFormat(String format) {
    String f = format == null ? "" : format.strip().toLowerCase(Locale.ROOT);
    json = f.equals(JSON);
    if (!json && !f.equals(LOGFMT) && !f.isEmpty()) {
      LogfmtLine l = new LogfmtLine();
      l.string("time", TIME.format(Instant.now()));
      l.string("level", "warn");
      l.string("logger", "logging");
      l.string("msg", "unknown log format (logfmt or json): using logfmt");
      l.string("format", format);
      System.err.print(l.end());
    }
  }

  public String getFormat() {
    return json ? JSON : LOGFMT;
  }

  @Override
  public byte[] headerBytes() {
    return null;
  }

  @Override
  public byte[] footerBytes() {
    return null;
  }

  @Override
  public byte[] encode(ILoggingEvent event) {
    return line(event).getBytes(StandardCharsets.UTF_8);
  }

  /** The event's line, with its newline. */
  String line(ILoggingEvent event) {
    Line l = json ? new JsonLine() : new LogfmtLine();
    l.string("time", TIME.format(Instant.ofEpochMilli(event.getTimeStamp())));
    l.string("level", level(event.getLevel()));
    l.string("logger", loggerName(event.getLoggerName()));
    l.string("msg", event.getFormattedMessage());
    List<KeyValuePair> pairs = event.getKeyValuePairs();
    if (pairs != null) {
      for (KeyValuePair p : pairs) {
        l.value(extraKey(p.key), p.value);
      }
    }
    Map<String, String> mdc = event.getMDCPropertyMap();
    if (mdc != null) {
      for (Map.Entry<String, String> e : mdc.entrySet()) {
        l.value(extraKey(e.getKey()), e.getValue());
      }
    }
    IThrowableProxy t = event.getThrowableProxy();
    if (t != null) {
      l.string(
          "error",
          t.getMessage() == null ? t.getClassName() : t.getClassName() + ": " + t.getMessage());
      l.string("stack", ThrowableProxyUtil.asString(t).stripTrailing());
    }
    return l.end();
  }

  private static String level(Level level) {
    return level == null ? "info" : level.levelStr.toLowerCase(Locale.ROOT);
  }

  /** {@code net.hydranet.router.cli.RedirectorCommand} → {@code RedirectorCommand}. */
  static String loggerName(String name) {
    if (name == null) {
      return "";
    }
    if (name.startsWith("net.hydranet.")) {
      int dot = name.lastIndexOf('.');
      return name.substring(dot + 1);
    }
    return name;
  }

  private static String extraKey(String key) {
    String k = key(key);
    return FIXED.contains(k) ? k + "_" : k;
  }

  /** A key with what logfmt cannot hold bare replaced by {@code _}. */
  static String key(String key) {
    if (key == null || key.isEmpty()) {
      return "_";
    }
    StringBuilder sb = null;
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      boolean ok = c > ' ' && c < 0x7f && c != '=' && c != '"' && c != '\\';
      if (!ok && sb == null) {
        sb = new StringBuilder(key.length()).append(key, 0, i);
      }
      if (sb != null) {
        sb.append(ok ? c : '_');
      }
    }
    return sb == null ? key : sb.toString();
  }

  /** A value as a JSON number, or null if it is not one. */
  private static String number(Object v) {
    if (v instanceof Integer
        || v instanceof Long
        || v instanceof Short
        || v instanceof Byte
        || v instanceof BigInteger
        || v instanceof BigDecimal) {
      return v.toString();
    }
    if (v instanceof Double || v instanceof Float) {
      double d = ((Number) v).doubleValue();
      if (Double.isFinite(d)) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : v.toString();
      }
    }
    return null;
  }

  private abstract static class Line {
    final StringBuilder sb = new StringBuilder(160);

    abstract void string(String key, String value);

    /** A key-value pair's value: numbers and booleans as they are, the rest as strings. */
    abstract void value(String key, Object value);

    abstract String end();
  }

  private static final class LogfmtLine extends Line {
    @Override
    void string(String key, String value) {
      if (sb.length() > 0) {
        sb.append(' ');
      }
      sb.append(key).append('=');
      logfmtValue(sb, value);
    }

    @Override
    void value(String key, Object value) {
      String n = number(value);
      string(key, n != null ? n : String.valueOf(value));
    }

    @Override
    String end() {
      return sb.append('\n').toString();
    }
  }

  private static final class JsonLine extends Line {
    @Override
    void string(String key, String value) {
      sb.append(sb.length() == 0 ? '{' : ',');
      jsonString(sb, key);
      sb.append(':');
      if (value == null) {
        sb.append("null");
      } else {
        jsonString(sb, value);
      }
    }

    @Override
    void value(String key, Object value) {
      String n = number(value);
      if (n == null && value instanceof Boolean) {
        n = value.toString();
      }
      if (n == null) {
        string(key, value == null ? null : value.toString());
      } else {
        sb.append(sb.length() == 0 ? '{' : ',');
        jsonString(sb, key);
        sb.append(':').append(n);
      }
    }

    @Override
    String end() {
      return sb.append(sb.length() == 0 ? "{}\n" : "}\n").toString();
    }
  }

  /** Whether logfmt must quote {@code c}. */
  private static boolean special(char c) {
    return c <= ' '
        || c == '='
        || c == '"'
        || c == '\\'
        || Character.isISOControl(c)
        || c == '\u2028'
        || c == '\u2029';
  }

  static void logfmtValue(StringBuilder sb, String v) {
    if (v == null) {
      sb.append("null");
      return;
    }
    boolean quote = v.isEmpty();
    for (int i = 0; i < v.length() && !quote; i++) {
      quote = special(v.charAt(i));
    }
    if (!quote) {
      sb.append(v);
      return;
    }
    sb.append('"');
    escape(sb, v);
    sb.append('"');
  }

  static void jsonString(StringBuilder sb, String v) {
    sb.append('"');
    escape(sb, v);
    sb.append('"');
  }

  /** The escapes logfmt's quoted values and JSON strings share. */
  private static void escape(StringBuilder sb, String v) {
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (c < ' ' || Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
  }
}
