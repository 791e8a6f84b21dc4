package net.hydranet.hydraweb.channel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import net.hydranet.replica.Body;
import net.hydranet.replica.ProtocolException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class AppCodecTest {
  private static final AppMessage.Content PAGE =
      new AppMessage.Content(
          "/a/b.html",
          "text/html",
          1_700_000_000_123L,
          42,
          "<p>hi</p>".getBytes(StandardCharsets.UTF_8));
  private static final AppMessage.Content TEMPLATE =
      new AppMessage.Content(
          "/ads/offer.shtml",
          "text/html",
          1_700_000_000_456L,
          43,
          "<p>{{banner}}</p>".getBytes(StandardCharsets.UTF_8),
          true);

  private static final AppMessage.Latency LATENCY =
      new AppMessage.Latency(
          new long[] {10_000, 20_000, 50_000}, new long[] {2, 5, 5}, 7, 3_000_000_000L);
  private static final AppMessage.Latency ONE_BOUND =
      new AppMessage.Latency(new long[] {1}, new long[] {0}, 0, 0);

  static Stream<AppMessage> messages() {
    Map<String, Long> hits = new LinkedHashMap<>();
    hits.put("/a", 3L);
    hits.put("/b/ü", 0L);
    return Stream.of(
        new AppMessage.Put(1, PAGE),
        new AppMessage.Put(2, new AppMessage.Content("/", "", 0, 0, new byte[0])),
        new AppMessage.Put(14, TEMPLATE),
        new AppMessage.Answer(15, 200, TEMPLATE, false),
        new AppMessage.Delete(3, "/gone"),
        new AppMessage.Rules(4, "deny 10.0.0.0/8 /private/\n"),
        new AppMessage.Slot(5, "banner", List.of("a", "", "ç")),
        new AppMessage.Slot(6, "banner", List.of()),
        new AppMessage.HitsQuery(7),
        new AppMessage.Ack(8, AppMessage.STALE),
        new AppMessage.Miss(9, "/x", true),
        new AppMessage.Answer(10, 200, PAGE, true),
        new AppMessage.Answer(11, 404, null, false),
        new AppMessage.Hits(12, hits, 5, 9, LATENCY, ONE_BOUND),
        new AppMessage.Hits(13, Map.of(), 0, 0, ONE_BOUND, ONE_BOUND),
        new AppMessage.Ready("0.1.0"));
  }

  @ParameterizedTest
  @MethodSource("messages")
  void shouldRoundTrip(AppMessage m) throws ProtocolException {
    byte[] wire = AppCodec.encode(m);
    assertEquals(m.type(), wire[0]);
    assertEquals(m, AppCodec.decode(wire));
  }

  @Test
  void shouldEncodePutAsTheSpecSays() {
    byte[] wire = AppCodec.encode(new AppMessage.Put(1, PAGE));
    byte[] expected =
        new Body.Writer()
            .u8(1)
            .u64(1)
            .u8(0)
            .str("/a/b.html")
            .str("text/html")
            .u64(1_700_000_000_123L)
            .u64(42)
            .bytes(PAGE.body())
            .toByteArray();
    assertArrayEquals(expected, wire);
  }

  @Test
  void shouldEncodeATemplateAsFlagBitZero() throws ProtocolException {
    byte[] wire = AppCodec.encode(new AppMessage.Put(7, TEMPLATE));
    assertEquals(AppCodec.FLAG_TEMPLATE, wire[1 + 8], "the flags byte follows the id");
    byte[] expected =
        new Body.Writer()
            .u8(1)
            .u64(7)
            .u8(1)
            .str("/ads/offer.shtml")
            .str("text/html")
            .u64(1_700_000_000_456L)
            .u64(43)
            .bytes(TEMPLATE.body())
            .toByteArray();
    assertArrayEquals(expected, wire);
    assertTrue(((AppMessage.Put) AppCodec.decode(wire)).content().template());
    wire[1 + 8] = 0;
    assertFalse(((AppMessage.Put) AppCodec.decode(wire)).content().template());
  }

  /** A flag this version does not know is refused, in PUT and in a 200 ANSWER alike. */
  @ParameterizedTest
  @ValueSource(ints = {0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x03, 0xff})
  void shouldRefuseUnknownFlagBits(int flags) {
    byte[] put = AppCodec.encode(new AppMessage.Put(7, TEMPLATE));
    put[1 + 8] = (byte) flags;
    ProtocolException e = assertThrows(ProtocolException.class, () -> AppCodec.decode(put));
    assertTrue(e.getMessage().contains("unknown bits"), e.getMessage());
    byte[] answer = AppCodec.encode(new AppMessage.Answer(8, 200, PAGE, true));
    answer[1 + 8 + 2] = (byte) flags;
    assertThrows(ProtocolException.class, () -> AppCodec.decode(answer));
  }

  @Test
  void shouldEncodeHitsWithTheirHistogramsAsTheSpecSays() throws ProtocolException {
    byte[] wire =
        AppCodec.encode(new AppMessage.Hits(12, Map.of("/a", 3L), 5, 9, LATENCY, ONE_BOUND));
    byte[] expected =
        new Body.Writer()
            .u8(19)
            .u64(12)
            .u32(1)
            .str("/a")
            .u64(3)
            .u64(5)
            .u64(9)
            // hits: 3 bounds, their cumulative counts, count, sum
            .u8(3)
            .u64(10_000)
            .u64(20_000)
            .u64(50_000)
            .u64(2)
            .u64(5)
            .u64(5)
            .u64(7)
            .u64(3_000_000_000L)
            // misses
            .u8(1)
            .u64(1)
            .u64(0)
            .u64(0)
            .u64(0)
            .toByteArray();
    assertArrayEquals(expected, wire);
    AppMessage.Hits h = (AppMessage.Hits) AppCodec.decode(wire);
    assertEquals(7, h.hitLatency().count());
    assertArrayEquals(new long[] {2, 5, 5}, h.hitLatency().cumulative());
  }

  /** A HITS with no paths whose hit histogram is {@code histogram} and miss histogram is fine. */
  private static byte[] hitsWith(Body.Writer histogram) {
    byte[] h = histogram.toByteArray();
    Body.Writer w = new Body.Writer().u8(19).u64(1).u32(0).u64(0).u64(0);
    for (byte b : h) {
      w.u8(b & 0xff);
    }
    return w.u8(1).u64(1).u64(0).u64(0).u64(0).toByteArray();
  }

  static Stream<Arguments> badHistograms() {
    return Stream.of(
        Arguments.of("no bounds", new Body.Writer().u8(0).u64(0).u64(0), "0 bounds"),
        Arguments.of("65 bounds", new Body.Writer().u8(65), "65 bounds"),
        Arguments.of(
            "more bounds than bytes", new Body.Writer().u8(64).u64(1).u64(1), "claims 64 bounds"),
        Arguments.of(
            "bounds not increasing",
            new Body.Writer().u8(2).u64(5).u64(5).u64(0).u64(0).u64(0).u64(0),
            "not above"),
        Arguments.of("bound 0", new Body.Writer().u8(1).u64(0).u64(0).u64(0).u64(0), "not above"),
        Arguments.of(
            "bound with its top bit set",
            new Body.Writer().u8(2).u64(5).u64(-1).u64(0).u64(0).u64(0).u64(0),
            "not above"),
        Arguments.of(
            "cumulative counts falling",
            new Body.Writer().u8(2).u64(5).u64(6).u64(3).u64(2).u64(3).u64(0),
            "below the last"),
        Arguments.of(
            "count below the last bucket",
            new Body.Writer().u8(2).u64(5).u64(6).u64(1).u64(4).u64(3).u64(0),
            "total count"),
        Arguments.of(
            "count with its top bit set",
            new Body.Writer().u8(1).u64(5).u64(-2).u64(-1).u64(0),
            "out of range"),
        Arguments.of(
            "sum with its top bit set",
            new Body.Writer().u8(1).u64(5).u64(1).u64(1).u64(-1),
            "sum out of range"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badHistograms")
  void shouldRefuseAHistogramThatBreaksItsRules(String what, Body.Writer h, String message) {
    ProtocolException e =
        assertThrows(ProtocolException.class, () -> AppCodec.decode(hitsWith(h)), what);
    assertTrue(e.getMessage().contains(message), what + ": " + e.getMessage());
    assertTrue(e.getMessage().contains("hit histogram"), e.getMessage());
  }

  @Test
  void shouldRefuseToBuildAHistogramThatBreaksItsRules() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new AppMessage.Latency(new long[] {2, 1}, new long[] {0, 0}, 0, 0));
    assertThrows(
        IllegalArgumentException.class,
        () -> new AppMessage.Latency(new long[] {1}, new long[] {0, 0}, 0, 0));
    assertThrows(
        IllegalArgumentException.class,
        () -> new AppMessage.Latency(new long[65], new long[65], 0, 0));
  }

  @ParameterizedTest
  @MethodSource("messages")
  void shouldRefuseEveryTruncationAndTrailingByte(AppMessage m) {
    byte[] wire = AppCodec.encode(m);
    for (int n = 0; n < wire.length; n++) {
      byte[] cut = Arrays.copyOf(wire, n);
      assertThrows(ProtocolException.class, () -> AppCodec.decode(cut), "cut at " + n);
    }
    byte[] longer = Arrays.copyOf(wire, wire.length + 1);
    assertThrows(ProtocolException.class, () -> AppCodec.decode(longer));
  }

  @Test
  void shouldRefuseLyingCountsWithoutAllocating() {
    byte[] hits = new Body.Writer().u8(19).u64(1).u32(0xffffffffL).toByteArray();
    ProtocolException e = assertThrows(ProtocolException.class, () -> AppCodec.decode(hits));
    assertTrue(e.getMessage().contains("HITS claims"), e.getMessage());
    byte[] slot = new Body.Writer().u8(4).u64(1).str("s").u16(0xffff).toByteArray();
    assertThrows(ProtocolException.class, () -> AppCodec.decode(slot));
    byte[] put =
        new Body.Writer()
            .u8(1)
            .u64(1)
            .u8(0)
            .str("/p")
            .str("t")
            .u64(0)
            .u64(0)
            .u32(0x7fffffffL)
            .toByteArray();
    assertThrows(ProtocolException.class, () -> AppCodec.decode(put));
  }

  @Test
  void shouldRefuseOutOfRangeFields() {
    assertThrows(
        ProtocolException.class,
        () -> AppCodec.decode(new Body.Writer().u8(99).u64(1).toByteArray()));
    assertThrows(
        ProtocolException.class,
        () -> AppCodec.decode(new Body.Writer().u8(16).u64(1).u8(4).toByteArray()));
    assertThrows(
        ProtocolException.class,
        () -> AppCodec.decode(new Body.Writer().u8(17).u64(1).str("/x").u8(2).toByteArray()));
    assertThrows(
        ProtocolException.class,
        () -> AppCodec.decode(new Body.Writer().u8(2).u64(1).str("relative").toByteArray()));
    assertThrows(
        ProtocolException.class,
        () -> AppCodec.decode(new Body.Writer().u8(18).u64(1).u16(42).toByteArray()));
    assertThrows(
        ProtocolException.class,
        () ->
            AppCodec.decode(
                new Body.Writer()
                    .u8(1)
                    .u64(1)
                    .u8(0)
                    .str("/p")
                    .str("t")
                    .u64(-1)
                    .u64(0)
                    .u32(0)
                    .toByteArray()));
    byte[] twice =
        new Body.Writer()
            .u8(19)
            .u64(1)
            .u32(2)
            .str("/a")
            .u64(1)
            .str("/a")
            .u64(2)
            .u64(0)
            .u64(0)
            .u8(1)
            .u64(1)
            .u64(0)
            .u64(0)
            .u64(0)
            .u8(1)
            .u64(1)
            .u64(0)
            .u64(0)
            .u64(0)
            .toByteArray();
    ProtocolException e = assertThrows(ProtocolException.class, () -> AppCodec.decode(twice));
    assertTrue(e.getMessage().contains("twice"), e.getMessage());
    assertThrows(ProtocolException.class, () -> AppCodec.decode(new byte[0]));
  }

  @Test
  void shouldSurviveRandomAndMutatedPayloads() {
    Random rnd = new Random(1998);
    List<byte[]> seeds = messages().map(AppCodec::encode).toList();
    int decoded = 0;
    for (int i = 0; i < 50_000; i++) {
      byte[] b;
      if (i % 2 == 0) {
        b = new byte[rnd.nextInt(64)];
        rnd.nextBytes(b);
        if (b.length > 0) {
          b[0] = (byte) (rnd.nextInt(22)); // mostly known types
        }
      } else {
        byte[] s = seeds.get(rnd.nextInt(seeds.size()));
        b = Arrays.copyOf(s, Math.max(1, s.length + rnd.nextInt(5) - 2));
        for (int k = rnd.nextInt(4); k >= 0; k--) {
          b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
        }
      }
      try {
        AppMessage m = AppCodec.decode(b);
        decoded++;
        assertArrayEquals(b, AppCodec.encode(m), "a decoded payload re-encodes to itself");
      } catch (ProtocolException expected) {
        // the only failure allowed
      }
    }
    assertTrue(decoded > 0);
  }
}
