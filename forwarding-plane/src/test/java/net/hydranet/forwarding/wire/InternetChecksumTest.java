package net.hydranet.forwarding.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class InternetChecksumTest {
  @Test
  void shouldMatchRfc1071Example() {
    // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (before complement).
    UnsafeBuffer b =
        new UnsafeBuffer(
            new byte[] {
              0x00, 0x01, (byte) 0xf2, 0x03, (byte) 0xf4, (byte) 0xf5, (byte) 0xf6, (byte) 0xf7
            });
    assertEquals(0xddf2, InternetChecksum.fold(InternetChecksum.sum(b, 0, 8, 0)));
    assertEquals(~0xddf2 & 0xFFFF, InternetChecksum.checksum(b, 0, 8));
  }

  @Test
  void shouldPadOddLengthWithZero() {
    UnsafeBuffer b = new UnsafeBuffer(new byte[] {0x12, 0x34, 0x56});
    assertEquals(0x1234 + 0x5600, InternetChecksum.fold(InternetChecksum.sum(b, 0, 3, 0)));
  }

  @Test
  void shouldVerifyAHeaderItWrote() {
    UnsafeBuffer b = new UnsafeBuffer(new byte[20]);
    Ipv4Header.write(b, 0, 0, 100, 7, Ipv4Header.FLAG_DF, 64, 6, 0xC6120001, 0xC6120202);
    assertTrue(InternetChecksum.verify(b, 0, 20));
  }

  @Test
  void shouldAgreeWithFullRecomputeWhenTtlDecremented() {
    Random random = new Random(42);
    UnsafeBuffer b = new UnsafeBuffer(new byte[20]);
    for (int i = 0; i < 100_000; i++) {
      int ttl = 2 + random.nextInt(254);
      Ipv4Header.write(
          b,
          0,
          random.nextInt(256),
          20 + random.nextInt(1480),
          random.nextInt(65536),
          random.nextInt(65536),
          ttl,
          random.nextInt(256),
          random.nextInt(),
          random.nextInt());
      Ipv4Header.decrementTtl(b, 0);
      assertTrue(InternetChecksum.verify(b, 0, 20), "iteration " + i);
      assertEquals(ttl - 1, Ipv4Header.ttl(b, 0));
    }
  }

  @Test
  void shouldSumATwentyByteHeaderAsTheLoopDoes() {
    Random random = new Random(7);
    UnsafeBuffer b = new UnsafeBuffer(new byte[23]);
    for (int i = 0; i < 10_000; i++) {
      byte[] bytes = new byte[23];
      random.nextBytes(bytes);
      b.putBytes(0, bytes);
      int offset = random.nextInt(4);
      long initial = random.nextInt(1 << 20);
      assertEquals(
          InternetChecksum.fold(InternetChecksum.sum(b, offset, 20, initial)),
          InternetChecksum.fold(initial + InternetChecksum.sumHeader20(b, offset)),
          "iteration " + i);
    }
  }

  @Test
  void shouldHandleRfc1624MinusZeroCase() {
    // RFC 1624 §3 example: HC = 0xdd2f, m = 0x5555 → m' = 0x3285 gives HC' = 0x0000 by eqn. 3.
    assertEquals(0x0000, InternetChecksum.update16(0xdd2f, 0x5555, 0x3285));
  }

  @Test
  void shouldUpdate32LikeTwoUpdate16() {
    Random random = new Random(7);
    for (int i = 0; i < 10_000; i++) {
      int c = random.nextInt(0x10000);
      int o = random.nextInt();
      int n = random.nextInt();
      int twice =
          InternetChecksum.update16(
              InternetChecksum.update16(c, o >>> 16, n >>> 16), o & 0xFFFF, n & 0xFFFF);
      assertEquals(
          InternetChecksum.fold(~twice & 0xFFFF),
          InternetChecksum.fold(~InternetChecksum.update32(c, o, n) & 0xFFFF));
    }
  }
}
