package net.hydranet.harness.ctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import net.hydranet.control.ctl.CtlServer;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.router.cli.HydraNetCommand;
import net.hydranet.router.cli.RedirectorViews;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hydranet ctl} as a script uses it: exit 0 with the answer on stdout, 1 when the daemon
 * reports a failure, 2 for an unknown request (with the list of requests) or no daemon, and {@code
 * --json} on the redirector's views, against the redirector's real view code over a real Unix
 * socket.
 */
class CtlScriptingTest {
  @TempDir Path dir;
  private CtlServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private Path serve(Function<String, String> handler) throws Exception {
    Path socket = dir.resolve("test.ctl");
    server = CtlServer.start(socket, handler);
    return socket;
  }

  private Path redirector() throws Exception {
    RedirectorViews views = new RedirectorViews(new RedirectorUnderTest().plane(), () -> null);
    return serve(views::answer);
  }

  private record Run(int code, String out, String err) {}

  private static synchronized Run ctl(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      String[] argv = new String[args.length + 1];
      argv[0] = "ctl";
      System.arraycopy(args, 0, argv, 1, args.length);
      int code = HydraNetCommand.execute(argv);
      return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  @Test
  void shouldExitZeroAndPrintTheStatus() throws Exception {
    Path socket = redirector();

    Run r = ctl("--ctl-socket", socket.toString(), "status");

    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("redirector table (3 services)"), r.out());
    assertTrue(r.out().contains("198.18.3.2 w=1"), r.out());
    assertTrue(r.out().contains("[2001:2:0:2::10]:80/tcp -> 2001:2:0:3::2 w=1"), r.out());
  }

  @Test
  void shouldExitTwoOnAnUnknownRequestAndListTheKnownOnes() throws Exception {
    Path socket = redirector();

    Run r = ctl("--ctl-socket", socket.toString(), "tabel");

    assertEquals(2, r.code());
    assertEquals("", r.out());
    assertTrue(r.err().contains("unknown request 'tabel'"), r.err());
    assertTrue(r.err().contains("table, peers, counters, flows, status, all"), r.err());
  }

  @Test
  void shouldAnswerJsonOnEveryRedirectorView() throws Exception {
    Path socket = redirector();
    ObjectMapper json = new ObjectMapper();

    for (String view : RedirectorViews.REQUESTS) {
      Run r = ctl("--ctl-socket", socket.toString(), "--json", view);
      assertEquals(0, r.code(), view + ": " + r.err());
      JsonNode n = json.readTree(r.out());
      assertTrue(n.isObject() && n.size() > 0, view + ": " + r.out());
    }
    JsonNode table = json.readTree(ctl("--ctl-socket", socket.toString(), "--json", "table").out());
    JsonNode entry = table.get("table").get(0);
    assertEquals("198.18.2.10:80/tcp", entry.get("service").asText());
    assertEquals("198.18.3.2", entry.get("candidates").get(0).get("host_server").asText());
    assertEquals("static", entry.get("candidates").get(0).get("source").asText());
    JsonNode status =
        json.readTree(ctl("--ctl-socket", socket.toString(), "--json", "status").out());
    assertEquals(0, status.get("counters").get("rx_frames").asLong());
    Run unknown = ctl("--ctl-socket", socket.toString(), "--json", "tabel");
    assertEquals(2, unknown.code());
    assertEquals("table", json.readTree(unknown.err()).get("requests").get(0).asText());
  }

  @Test
  void shouldExitOneWhenTheDaemonReportsAFailure() throws Exception {
    for (String answer :
        new String[] {
          "FAILED: see the manager's log\n", "REFUSED: no such host server\n", "error: boom\n"
        }) {
      Path socket = serve(line -> answer);
      Run r = ctl("--ctl-socket", socket.toString(), "install");
      assertEquals(1, r.code(), answer);
      assertEquals(answer, r.err());
      server.close();
    }
    Path socket = serve(line -> "{\"error\":\"boom\"}\n");
    assertEquals(1, ctl("--ctl-socket", socket.toString(), "--json", "status").code());
  }

  @Test
  void shouldExitTwoWithoutADaemon() {
    Run r = ctl("--ctl-socket", dir.resolve("none.ctl").toString(), "status");

    assertEquals(2, r.code());
    assertTrue(r.err().contains("no daemon socket at"), r.err());
  }

  @Test
  void shouldStillTakeTheDeprecatedSocketOption() throws Exception {
    Path socket = redirector();

    Run r = ctl("--socket", socket.toString(), "status");

    assertEquals(0, r.code(), r.err());
    assertTrue(r.err().contains("--socket is deprecated"), r.err());
    assertTrue(Files.exists(socket));
    Run plain = ctl("--ctl-socket", socket.toString(), "status");
    assertTrue(
        !plain.err().contains("deprecated"), "no warning without the old name: " + plain.err());
  }
}
