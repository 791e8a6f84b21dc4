package net.hydranet.lab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import net.hydranet.router.docs.PackageDocs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hydranet-lab package's man pages, as its build writes them with the router's PackageDocs. */
class LabManPagesTest {
  @TempDir Path dir;

  @Test
  void shouldWriteThePagesOfTheLabCommandsOnlyAndNoCompletion() throws Exception {
    Path man = dir.resolve("man1");
    PackageDocs.main(
        new String[] {
          man.toString(), "-", "1.2.3", DemoCommand.class.getName(), WanCommand.class.getName()
        });
    try (Stream<Path> files = Files.list(man)) {
      assertEquals(
          List.of("hydranet-demo-web.1.gz", "hydranet-demo.1.gz", "hydranet-wan.1.gz"),
          files.map(f -> f.getFileName().toString()).sorted().toList());
    }
    String demo = gunzip(man.resolve("hydranet-demo.1.gz"));
    assertTrue(demo.startsWith(".TH HYDRANET-DEMO 1 \"\" \"hydranet 1.2.3\""), demo);
    assertTrue(demo.contains(".SH OPTIONS"), demo);
    assertTrue(demo.contains("\\fBhydranet\\-demo\\-web\\fR(1)"), demo);
    assertTrue(gunzip(man.resolve("hydranet-wan.1.gz")).contains(".SH NAME\nhydranet\\-wan \\-"));
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(1, files.count(), "only man1: no completion file");
    }
  }

  private static String gunzip(Path file) throws Exception {
    try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
