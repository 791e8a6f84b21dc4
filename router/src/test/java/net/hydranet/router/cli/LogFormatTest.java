package net.hydranet.router.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import net.hydranet.logging.DefaultConfigurator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

/**
 * The logs as an operator's tools read them: loggers run through the real configuration (the
 * logging module's DefaultConfigurator, which hydranet.jar's logback applies, and its logback.xml,
 * with the properties {@code -v} and {@code --log-format} set) and each line is parsed as logfmt or
 * JSON.
 */
class LogFormatTest {
  private static final String TIME = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";

  /** A message with what logfmt must escape: quotes, a backslash, a newline, a tab, '='. */
  private static final String TRICKY = "he said \"hi\" = C:\\temp\nthen\tleft";

  @AfterEach
  void clearProperties() {
    System.clearProperty(Logs.FORMAT);
    System.clearProperty(Logs.LEVEL);
    System.clearProperty(Logs.LIBRARIES);
  }

  @Test
  void shouldWriteOneLogfmtLinePerEventWithTheFixedKeysFirstAndTheKeyValuePairsAfter() {
    List<String> lines =
        run(
            c -> {
              Logger log = c.getLogger("net.hydranet.router.cli.RedirectorCommand");
              log.atInfo()
                  .addKeyValue("reason", "load above")
                  .addKeyValue("rps", 412.5)
                  .addKeyValue("replica", "web-1")
                  .log(TRICKY);
            });
    assertEquals(1, lines.size(), "one event, one line: " + lines);
    Map<String, String> f = logfmt(lines.get(0));
    assertEquals(
        List.of("time", "level", "logger", "msg", "reason", "rps", "replica"),
        new ArrayList<>(f.keySet()),
        lines.get(0));
    assertTrue(f.get("time").matches(TIME), f.get("time"));
    assertEquals("info", f.get("level"));
    assertEquals("RedirectorCommand", f.get("logger"), "a HydraNet logger by its simple name");
    assertEquals(TRICKY, f.get("msg"));
    assertEquals("load above", f.get("reason"));
    assertEquals("412.5", f.get("rps"));
    assertEquals("web-1", f.get("replica"));
    assertTrue(lines.get(0).contains(" replica=web-1"), "a plain value is not quoted");
    assertTrue(lines.get(0).contains(" reason=\"load above\""), "a value with a space is quoted");
  }

  @Test
  void shouldBeQuietByDefault() {
    List<String> lines =
        run(
            c -> {
              Logger ours = c.getLogger("net.hydranet.hydraweb.manager.ReplicaManager");
              Logger library = c.getLogger("org.pcap4j.core.Pcaps");
              ours.debug("not shown");
              ours.info("shown");
              library.info("not shown either");
              library.warn("a library's warning");
            });
    assertEquals(2, lines.size(), lines.toString());
    assertEquals("shown", logfmt(lines.get(0)).get("msg"));
    Map<String, String> lib = logfmt(lines.get(1));
    assertEquals("warn", lib.get("level"));
    assertEquals("org.pcap4j.core.Pcaps", lib.get("logger"), "a library by its full name");
  }

  @Test
  void shouldLogDebugAndLibrariesAtInfoWhenVerbose() {
    Logs.configure("redirector", "-v", "--config", "x.yaml");
    List<String> lines =
        run(
            c -> {
              c.getLogger("net.hydranet.router.cli.RedirectorCommand").debug("now shown");
              c.getLogger("org.pcap4j.core.Pcaps").info("a library at info");
              c.getLogger("org.pcap4j.core.Pcaps").debug("a library's debug stays out");
            });
    assertEquals(2, lines.size(), lines.toString());
    assertEquals("debug", logfmt(lines.get(0)).get("level"));
    assertEquals("info", logfmt(lines.get(1)).get("level"));
  }

  @Test
  void shouldPutAStackTraceOnTheSameLineAsOneEscapedValue() {
    List<String> lines =
        run(
            c ->
                c.getLogger("net.hydranet.control.agent.RedirectorAgent")
                    .error(
                        "control plane: unexpected error",
                        new IOException("boom", new IllegalStateException("cause \"x\""))));
    assertEquals(1, lines.size(), "the stack trace does not break the line: " + lines);
    Map<String, String> f = logfmt(lines.get(0));
    assertEquals("error", f.get("level"));
    assertEquals("java.io.IOException: boom", f.get("error"));
    String stack = f.get("stack");
    assertTrue(stack.startsWith("java.io.IOException: boom\n\tat "), stack);
    assertTrue(stack.contains("Caused by: java.lang.IllegalStateException: cause \"x\""), stack);
  }

  @Test
  void shouldNeverWriteAKeyTwice() {
    List<String> lines =
        run(
            c ->
                c.getLogger("net.hydranet.x.Y")
                    .atWarn()
                    .addKeyValue("msg", "a pair named like a fixed key")
                    .addKeyValue("bad key=", "")
                    .log("the message"));
    Map<String, String> f = logfmt(lines.get(0));
    assertEquals("the message", f.get("msg"));
    assertEquals("a pair named like a fixed key", f.get("msg_"));
    assertEquals("", f.get("bad_key_"), "an empty value is written as \"\"");
  }

  @Test
  void shouldWriteJsonLinesWithTheSameFieldsWhenAsked() throws IOException {
    Logs.configure("hostserver", "--log-format", "json");
    assertTrue(Logs.jvmArguments().contains("-Dhydranet.log.format=json"), "vhosts get it too");
    List<String> lines =
        run(
            c -> {
              Logger log = c.getLogger("net.hydranet.hostserver.replica.ReplicaService");
              log.atInfo()
                  .addKeyValue("reason", "exceeds_grant")
                  .addKeyValue("code", 5)
                  .addKeyValue("field", "memory")
                  .addKeyValue("ok", false)
                  .log(TRICKY);
              log.warn("with an exception", new IOException("boom"));
            });
    assertEquals(2, lines.size(), lines.toString());
    Map<String, Object> a = json(lines.get(0));
    assertEquals(
        List.of("time", "level", "logger", "msg", "reason", "code", "field", "ok"),
        new ArrayList<>(a.keySet()),
        lines.get(0));
    assertTrue(((String) a.get("time")).matches(TIME), a.toString());
    assertEquals("info", a.get("level"));
    assertEquals("ReplicaService", a.get("logger"));
    assertEquals(TRICKY, a.get("msg"));
    assertEquals("exceeds_grant", a.get("reason"));
    assertEquals(5, a.get("code"), "a number stays a number");
    assertEquals(false, a.get("ok"), "and a boolean a boolean");
    Map<String, Object> b = json(lines.get(1));
    assertEquals("warn", b.get("level"));
    assertEquals("java.io.IOException: boom", b.get("error"));
    assertTrue(((String) b.get("stack")).startsWith("java.io.IOException: boom\n\tat "), b + "");
  }

  @Test
  void shouldLeaveAVirtualHostsCommandAndABadFormatAlone() {
    Logs.configure("vhost", "--origin", "198.18.2.10", "--", "java", "-v", "--log-format", "json");
    assertEquals(null, System.getProperty(Logs.LEVEL), "after --: the replica's own arguments");
    assertEquals(null, System.getProperty(Logs.FORMAT));
    Logs.configure("--log-format=xml");
    assertEquals(null, System.getProperty(Logs.FORMAT), "picocli refuses it, not a guess");
    Logs.configure("--log-format=JSON");
    assertEquals("json", System.getProperty(Logs.FORMAT));
  }

  @Test
  void shouldRefuseAnUnknownFormatOnTheCommandLine() {
    PrintStream err = System.err;
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    System.setErr(new PrintStream(b, true, StandardCharsets.UTF_8));
    int code;
    try {
      code = HydraNetCommand.execute("--log-format", "xml", "ctl", "--help");
    } finally {
      System.setErr(err);
    }
    assertEquals(2, code, b.toString(StandardCharsets.UTF_8));
    assertFalse(HydraNetCommand.execute("--log-format", "json", "--help") != 0);
  }

  @Test
  void shouldNameEveryHydraNetLoggerAfterItsClass() throws IOException {
    // logback.xml sets the level of net.hydranet.*: a logger named otherwise ("hydranet.replica")
    // would fall under the libraries' warn and lose its info lines without a word.
    Path root = Path.of("").toAbsolutePath().getParent();
    assertTrue(Files.exists(root.resolve("logging/src/main/resources/logback.xml")), root + "");
    List<String> named = new ArrayList<>();
    try (Stream<Path> files = Files.walk(root)) {
      for (Path f :
          files
              .filter(p -> p.toString().endsWith(".java"))
              .filter(p -> p.toString().contains("/src/main/java/"))
              .toList()) {
        for (String line : Files.readAllLines(f)) {
          if (line.contains("LoggerFactory.getLogger(\"")) {
            named.add(root.relativize(f) + ": " + line.strip());
          }
        }
      }
    }
    assertEquals(List.of(), named, "use LoggerFactory.getLogger(TheClass.class)");
  }

  @Test
  void shouldWriteTheSameLinesFromLogbackXmlAsFromTheDefaultConfigurator() {
    IOException boom = new IOException("boom"); // one stack trace for both
    Consumer<LoggerContext> events =
        c -> {
          Logger ours = c.getLogger("net.hydranet.hydraweb.manager.ReplicaManager");
          ours.debug("not shown by default");
          ours.atInfo().addKeyValue("action", "install").addKeyValue("rps", 412).log(TRICKY);
          c.getLogger("org.pcap4j.core.Pcaps").info("not shown by default");
          c.getLogger("org.pcap4j.core.Pcaps").warn("shown");
          ours.error("failed", boom);
        };
    for (String[] args : List.of(new String[0], new String[] {"--log-format=json", "-v"})) {
      clearProperties();
      Logs.configure(args);
      List<String> code = run(false, events);
      List<String> file = run(true, events);
      assertEquals(List.of(args).contains("-v") ? 5 : 3, code.size(), code.toString());
      assertEquals(withoutTime(code), withoutTime(file), "logback.xml says what the code does");
    }
  }

  @Test
  void shouldStepAsideForTheOperatorsOwnFile() {
    System.setProperty(Logs.CONFIGURATION_FILE, "/etc/hydranet/logback.xml");
    try {
      DefaultConfigurator d = new DefaultConfigurator();
      LoggerContext c = new LoggerContext();
      d.setContext(c);
      assertEquals(Configurator.ExecutionStatus.INVOKE_NEXT_IF_ANY, d.configure(c));
      assertTrue(
          c.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext() == false,
          "nothing configured: logback's own configurator reads the file");
    } finally {
      System.clearProperty(Logs.CONFIGURATION_FILE);
    }
  }

  @Test
  void shouldBeWhatLogbackFindsAsAService() {
    List<String> found = new ArrayList<>();
    java.util.ServiceLoader.load(Configurator.class)
        .forEach(c -> found.add(c.getClass().getName()));
    assertEquals(List.of(DefaultConfigurator.class.getName()), found);
  }

  private static List<String> withoutTime(List<String> lines) {
    return lines.stream().map(l -> l.replaceAll(TIME, "T")).toList();
  }

  private static List<String> run(Consumer<LoggerContext> body) {
    return run(false, body);
  }

  /**
   * Configures a fresh logback context as the jars do (the logging module's {@link
   * DefaultConfigurator}) or from its logback.xml, with the system properties as {@link
   * Logs#configure} left them; runs {@code body} against it, and returns what it wrote to stderr,
   * line by line.
   */
  private static List<String> run(boolean xml, Consumer<LoggerContext> body) {
    URL config = LogFormatTest.class.getClassLoader().getResource("logback.xml");
    assertNotNull(config, "logback.xml on the class path (the logging module)");
    assertTrue(config.toString().contains("logging"), "the logging module's: " + config);
    PrintStream err = System.err;
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    LoggerContext c = new LoggerContext();
    c.setMDCAdapter(new LogbackMDCAdapter()); // as SLF4J's provider does for its own context
    System.setErr(new PrintStream(b, true, StandardCharsets.UTF_8));
    try {
      if (xml) {
        JoranConfigurator j = new JoranConfigurator();
        j.setContext(c);
        j.doConfigure(config);
      } else {
        DefaultConfigurator d = new DefaultConfigurator();
        d.setContext(c);
        assertEquals(Configurator.ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY, d.configure(c));
      }
      body.accept(c);
    } catch (ch.qos.logback.core.joran.spi.JoranException e) {
      throw new AssertionError(e);
    } finally {
      c.stop();
      System.setErr(err);
    }
    String out = b.toString(StandardCharsets.UTF_8);
    assertTrue(out.isEmpty() || out.endsWith("\n"), out);
    return out.isEmpty() ? List.of() : List.of(out.split("\n"));
  }

  /** A JSON line as a map in the line's order; Jackson refuses anything that is not JSON. */
  private static Map<String, Object> json(String line) throws IOException {
    return new ObjectMapper()
        .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
        .readValue(line, new TypeReference<LinkedHashMap<String, Object>>() {});
  }

  /**
   * A strict logfmt parser: {@code key=value} pairs separated by one space; a value is bare
   * (printable, no space, '=', '"' or '\') or double-quoted with \" \\ \n \r \t \\uXXXX escapes.
   * Fails on anything else, and on a key written twice.
   */
  static Map<String, String> logfmt(String line) {
    Map<String, String> out = new LinkedHashMap<>();
    int i = 0;
    int n = line.length();
    while (i < n) {
      int eq = line.indexOf('=', i);
      assertTrue(eq > i, "a key at " + i + ": " + line);
      String key = line.substring(i, eq);
      assertTrue(key.matches("[!#-<>-\\[\\]-~]+"), "key '" + key + "' in " + line);
      i = eq + 1;
      StringBuilder v = new StringBuilder();
      if (i < n && line.charAt(i) == '"') {
        i++;
        while (true) {
          assertTrue(i < n, "an unterminated quote: " + line);
          char c = line.charAt(i++);
          if (c == '"') {
            break;
          }
          assertTrue(c >= ' ', "a raw control character in " + line);
          if (c != '\\') {
            v.append(c);
            continue;
          }
          char e = line.charAt(i++);
          switch (e) {
            case '"' -> v.append('"');
            case '\\' -> v.append('\\');
            case 'n' -> v.append('\n');
            case 'r' -> v.append('\r');
            case 't' -> v.append('\t');
            case 'u' -> {
              v.append((char) Integer.parseInt(line.substring(i, i + 4), 16));
              i += 4;
            }
            default -> throw new AssertionError("escape \\" + e + " in " + line);
          }
        }
      } else {
        while (i < n && line.charAt(i) != ' ') {
          char c = line.charAt(i++);
          assertTrue(c > ' ' && c != '"' && c != '=' && c != '\\', "bare '" + c + "': " + line);
          v.append(c);
        }
        assertTrue(v.length() > 0, "an empty bare value: " + line);
      }
      assertFalse(out.containsKey(key), "key " + key + " twice: " + line);
      out.put(key, v.toString());
      if (i < n) {
        assertEquals(' ', line.charAt(i), "one space between pairs: " + line);
        i++;
        assertTrue(i < n, "a trailing space: " + line);
      }
    }
    return out;
  }
}
