package net.hydranet.replica;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Hostile HELLO bodies at scale through {@link Hello#decode}, as {@code GatekeeperFuzzTest} does
 * for the routing protocol: random bytes, and valid bodies of both versions mutated (a byte set to
 * a boundary or random value, the version and family bytes above all, truncations, extensions),
 * seeded so a failure replays. Oracles: nothing but {@link ProtocolException} escapes; {@link
 * UnsupportedHelloException} exactly when the version is not 1 or 2, or a version-2 family is not 4
 * or 6; and a body that decodes is the one encoding of what it says (encoding it again gives the
 * same bytes), its address of the family it names (an IPv4-mapped address never passes as IPv6).
 *
 * <p>{@code -Dhydranet.fuzz.inputs=N} (default 100,000) and {@code -Dhydranet.fuzz.seed=S}.
 */
class HelloFuzzTest {
  private final long seed = Long.getLong("hydranet.fuzz.seed", 0x48454c4c4fL); // "HELLO"
  private final Random random = new Random(seed);

  @Test
  void shouldDecodeOrRefuseEveryBodyAndDecodeOnlyTheOneEncodingOfEachHello() throws Exception {
    int inputs = Integer.getInteger("hydranet.fuzz.inputs", 100_000);
    byte[][] valid = {
      Hello.of(1, InetAddress.getByName("198.18.2.100"), nonce()).encode(),
      Hello.of(2, InetAddress.getByName("2001:2:0:3::2"), nonce()).encode(),
      new Hello(2, 1, InetAddress.getByName("198.18.1.20"), nonce()).encode(),
    };
    int decoded = 0;
    int unsupported = 0;
    int malformed = 0;
    long t0 = System.nanoTime();
    for (int i = 0; i < inputs; i++) {
      byte[] body = input(valid);
      try {
        Hello h = Hello.decode(body);
        decoded++;
        assertArrayEquals(body, h.encode(), () -> "not its one encoding: " + hex(body));
        int family = h.version() == 1 ? 4 : body[2];
        assertTrue(
            family == 4 ? h.address() instanceof Inet4Address : h.address() instanceof Inet6Address,
            () -> "family " + family + " decoded as " + h.address() + ": " + hex(body));
      } catch (UnsupportedHelloException e) {
        unsupported++;
        int version = body[0] & 0xff;
        boolean badVersion = version != 1 && version != 2;
        boolean badFamily = version == 2 && body.length > 2 && body[2] != 4 && body[2] != 6;
        assertTrue(badVersion || badFamily, () -> "unsupported but readable: " + hex(body));
      } catch (ProtocolException e) {
        malformed++;
        int version = body.length == 0 ? 1 : body[0] & 0xff;
        assertTrue(
            version == 1 || version == 2, () -> "an unknown version not said so: " + hex(body));
      } catch (RuntimeException e) {
        fail("seed " + seed + ", input " + i + " (" + hex(body) + "): " + e, e);
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    System.out.printf(
        "HelloFuzzTest: %d bodies in %.1f s (%.0f/s): %d decoded, %d unsupported, %d malformed%n",
        inputs, seconds, inputs / seconds, decoded, unsupported, malformed);
    assertEquals(inputs, decoded + unsupported + malformed);
    assertTrue(decoded > 0 && unsupported > 0 && malformed > 0, "every verdict reached");
  }

  private byte[] nonce() {
    byte[] n = new byte[16];
    random.nextBytes(n);
    return n;
  }

  private byte[] input(byte[][] valid) {
    switch (random.nextInt(4)) {
      case 0 -> {
        byte[] b = new byte[random.nextInt(48)];
        random.nextBytes(b);
        return b;
      }
      default -> {
        byte[] b = valid[random.nextInt(valid.length)].clone();
        int mutations = random.nextInt(3);
        for (int m = 0; m < mutations; m++) {
          b = mutate(b);
        }
        return b;
      }
    }
  }

  private byte[] mutate(byte[] b) {
    switch (random.nextInt(5)) {
      case 0 -> { // version or family: the new fields
        if (b.length > 0) {
          int at = random.nextInt(Math.min(3, b.length));
          int[] boundary = {0, 1, 2, 3, 4, 5, 6, 7, 0x7f, 0x80, 0xff};
          b[at] = (byte) boundary[random.nextInt(boundary.length)];
        }
        return b;
      }
      case 1 -> { // any byte
        if (b.length > 0) {
          b[random.nextInt(b.length)] = (byte) random.nextInt(256);
        }
        return b;
      }
      case 2 -> {
        return Arrays.copyOf(b, random.nextInt(b.length + 1)); // cut
      }
      case 3 -> {
        return Arrays.copyOf(b, b.length + 1 + random.nextInt(16)); // extended
      }
      default -> { // an IPv4-mapped IPv6 address under family 6
        if (b.length >= 19 && b[0] == 2) {
          b[2] = 6;
          Arrays.fill(b, 3, 13, (byte) 0);
          b[13] = (byte) 0xff;
          b[14] = (byte) 0xff;
        }
        return b;
      }
    }
  }

  private static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }
}
