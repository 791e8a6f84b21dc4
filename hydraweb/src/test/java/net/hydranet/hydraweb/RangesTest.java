package net.hydranet.hydraweb;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RangesTest {
  @ParameterizedTest(name = "{0} of {1}")
  @CsvSource({
    "bytes=0-0, 10, 0-0",
    "bytes=0-9, 10, 0-9",
    "bytes=2-5, 10, 2-5",
    "bytes=5-100, 10, 5-9",
    "bytes=5-, 10, 5-9",
    "bytes=-3, 10, 7-9",
    "bytes=-30, 10, 0-9",
    "BYTES=1-1, 10, 1-1",
    "bytes=10-, 10, unsatisfiable",
    "bytes=10-20, 10, unsatisfiable",
    "bytes=-0, 10, unsatisfiable",
    "bytes=0-, 0, unsatisfiable",
    "bytes=-5, 0, unsatisfiable",
    "bytes=5-2, 10, ignore",
    "bytes=a-2, 10, ignore",
    "bytes=1-2;3-4, 10, ignore",
    "bytes=-, 10, ignore",
    "bytes=, 10, ignore",
    "items=0-1, 10, ignore",
    "bytes 0-1, 10, ignore",
    "bytes=99999999999999999999-, 10, ignore",
  })
  void shouldReadOneRange(String header, long length, String expected) {
    byte[] b = header.getBytes(StandardCharsets.US_ASCII);
    long r = Ranges.parse(b, 0, b.length, length);
    String got =
        r == Ranges.IGNORE
            ? "ignore"
            : r == Ranges.UNSATISFIABLE ? "unsatisfiable" : Ranges.first(r) + "-" + Ranges.last(r);
    assertEquals(expected, got);
  }

  @org.junit.jupiter.api.Test
  void shouldIgnoreAListOfRanges() {
    byte[] b = "bytes=0-1, 3-4".getBytes(StandardCharsets.US_ASCII);
    assertEquals(Ranges.IGNORE, Ranges.parse(b, 0, b.length, 10));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "\"abc\"                 | true",
        "W/\"abc\"               | true",
        "\"x\", \"abc\"          | true",
        "\"x\",W/\"abc\"         | true",
        "*                       | true",
        "\"abcd\"                | false",
        "\"ab\"                  | false",
        "abc                     | false",
        "\"abc                   | false",
        "\"x\", junk, \"abc\"    | false",
      })
  void shouldMatchEntityTagsWeakly(String header, boolean expected) {
    byte[] b = header.strip().getBytes(StandardCharsets.US_ASCII);
    byte[] tag = "\"abc\"".getBytes(StandardCharsets.US_ASCII);
    assertEquals(expected, Ranges.etagListMatches(b, 0, b.length, tag));
  }
}
