package net.hydranet.hydraweb.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DocrootGlobsTest {
  @ParameterizedTest(name = "{0} ~ {1}: {2}")
  @CsvSource({
    "**/*.shtml, offer.shtml, true",
    "**/*.shtml, a/b/offer.shtml, true",
    "**/*.shtml, offer.html, false",
    "/**/*.shtml, offer.shtml, true",
    "*.shtml, offer.shtml, true",
    "*.shtml, a/offer.shtml, false",
    "/ads/**, ads/banner.html, true",
    "/ads/**, ads/x/y.html, true",
    "ads/**, ads/banner.html, true",
    "/ads/**, adsx/banner.html, false",
    "/ads/**, x/ads/banner.html, false",
    "/index.html, index.html, true",
    "/index.html, a/index.html, false",
  })
  void shouldMatchPathsUnderTheDocumentRoot(String glob, String file, boolean expected) {
    assertEquals(expected, DocrootGlobs.compile(List.of(glob), "templates").matches(Path.of(file)));
  }

  @ParameterizedTest
  @CsvSource({
    "'[a-', templates[1]: '[a-' is not a glob",
    "'', templates[1]: an empty glob",
    "/, /"
  })
  void shouldNameTheWrongGlob(String glob, String message) {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> DocrootGlobs.compile(List.of("*.html", glob), "templates"));
    assertTrue(e.getMessage().startsWith("templates[1]: "), e.getMessage());
    assertTrue(e.getMessage().contains(message), e.getMessage());
  }
}
