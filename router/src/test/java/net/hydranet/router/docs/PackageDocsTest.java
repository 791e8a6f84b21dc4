package net.hydranet.router.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import net.hydranet.router.cli.HydraNetCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The package's man pages and completion, generated from the picocli model. */
class PackageDocsTest {
  @TempDir Path dir;

  private static String gunzip(Path p) throws IOException {
    try (InputStream in = new GZIPInputStream(Files.newInputStream(p))) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      in.transferTo(out);
      return out.toString(StandardCharsets.UTF_8);
    }
  }

  @Test
  void shouldWriteAPagePerRegisteredCommandAndTheCompletion() throws Exception {
    PackageDocs.main(
        new String[] {
          dir.resolve("man1").toString(), dir.resolve("hydranet.bash").toString(), "9.9"
        });
    CommandLine root = new CommandLine(new HydraNetCommand());
    try (var pages = Files.list(dir.resolve("man1"))) {
      assertEquals(1 + root.getSubcommands().size(), pages.count());
    }
    String redirector = gunzip(dir.resolve("man1/hydranet-redirector.1.gz"));
    assertTrue(
        redirector.startsWith(".TH HYDRANET-REDIRECTOR 1 \"\" \"hydranet 9.9\""), redirector);
    assertTrue(redirector.contains(".SH NAME\nhydranet\\-redirector \\- Runs a redirector"));
    assertTrue(redirector.contains("\\fB\\-\\-config\\fR \\fI<config>\\fR\nredirector YAML"));
    // ${DEFAULT-VALUE} as --help shows it.
    assertTrue(redirector.contains("or 'off' (127.0.0.1:9464)"), redirector);
    String top = gunzip(dir.resolve("man1/hydranet.1.gz"));
    for (String sub : root.getSubcommands().keySet()) {
      assertTrue(top.contains("\\fBhydranet\\-" + sub + "\\fR(1)"), sub);
    }
    String completion = Files.readString(dir.resolve("hydranet.bash"));
    assertTrue(completion.contains("complete -F _complete_hydranet"), completion);
    assertTrue(completion.contains("redirector"));
  }

  @Test
  void shouldEscapeWhatTroffWouldReadAsMarkup() {
    assertEquals("\\-\\-config", PackageDocs.escape("--config"));
    assertEquals("\\&.hidden\n\\&'quoted", PackageDocs.escape(".hidden\n'quoted"));
    assertEquals("a\\eb", PackageDocs.escape("a\\b"));
  }

  @Test
  void shouldSummariseTheFirstSentence() {
    assertEquals(
        "Runs a redirector on the interfaces of its config",
        PackageDocs.summary(
            new String[] {"Runs a redirector on the interfaces of its config: frames are", "x"}));
    assertEquals("Prints it", PackageDocs.summary(new String[] {"Prints it.", "", "Example:"}));
  }
}
