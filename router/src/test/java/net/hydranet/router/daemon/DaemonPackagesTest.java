package net.hydranet.router.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.spi.ToolProvider;
import net.hydranet.router.cli.HostServerCommand;
import net.hydranet.router.cli.RedirectorCommand;
import org.junit.jupiter.api.Test;

/**
 * The daemons' parts below their commands: {@code router.cli} uses {@code router.daemon} and its
 * subpackages, never the other way round (as {@code jdeps} reads the compiled classes), and the
 * parts still log under their command's name.
 */
class DaemonPackagesTest {
  private static final Pattern EDGE = Pattern.compile("^\\s+(\\S+)\\s+->\\s+(\\S+)\\s");

  @Test
  void shouldLogUnderTheNamesOfTheCommands() {
    assertEquals(RedirectorCommand.class.getName(), DaemonLoggers.REDIRECTOR);
    assertEquals(HostServerCommand.class.getName(), DaemonLoggers.HOST_SERVER);
  }

  @Test
  void shouldBeUsedByTheCliWithoutUsingIt() {
    Optional<ToolProvider> jdeps = ToolProvider.findFirst("jdeps");
    assumeTrue(jdeps.isPresent(), "this JDK has no jdeps");
    Path classes = Path.of("target/classes");
    assumeTrue(Files.isDirectory(classes), "no " + classes.toAbsolutePath());
    StringWriter out = new StringWriter();
    int exit =
        jdeps
            .get()
            .run(
                new PrintWriter(out),
                new PrintWriter(out),
                "-verbose:package",
                "-e",
                "net\\.hydranet\\.router\\..*",
                classes.toString());
    assertEquals(0, exit, out.toString());
    List<String> edges = new ArrayList<>();
    for (String line : out.toString().split("\n")) {
      Matcher m = EDGE.matcher(line);
      if (m.find()) {
        edges.add(m.group(1) + " -> " + m.group(2));
      }
    }
    assertTrue(
        edges.contains("net.hydranet.router.cli -> net.hydranet.router.daemon.redirector"),
        "jdeps's answer read: " + edges);
    for (String edge : edges) {
      String[] ends = edge.split(" -> ");
      assertTrue(
          !ends[0].startsWith("net.hydranet.router.daemon")
              || !ends[1].equals("net.hydranet.router.cli"),
          edge);
    }
  }
}
