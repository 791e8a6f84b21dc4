package net.hydranet.control.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.hydranet.control.wire.Addresses;
import net.hydranet.control.wire.Codec;
import net.hydranet.control.wire.Entry;
import net.hydranet.control.wire.Malformed;
import net.hydranet.control.wire.Malformed.Refused;
import net.hydranet.control.wire.Message;
import net.hydranet.control.wire.MessageType;
import org.junit.jupiter.api.Test;

/**
 * Hostile datagrams at scale through {@link Codec#decode} and {@link Gatekeeper#admit}: random
 * bytes, and valid signed messages mutated (bit flips, truncations, extensions, a field set to a
 * boundary or random value, length and count fields that lie, huge counts, spliced messages,
 * signatures flipped), seeded so a failure replays. Oracles: nothing but {@link Refused} escapes
 * either; and a datagram admitted is byte for byte one that a trusted node signed with its own key
 * (a forgery signed by an untrusted key claiming a trusted sender never is), from a role allowed to
 * send its type, naming only authorised host servers.
 *
 * <p>{@code -Dhydranet.fuzz.inputs=N} (default 2,000,000) and {@code -Dhydranet.fuzz.seed=S} for
 * longer or other runs. The rate is printed.
 */
class GatekeeperFuzzTest {
  private static final int HS = Addresses.parse("192.0.2.1");
  private static final int RD = Addresses.parse("192.0.2.2");
  private static final int AUTHORISED = Addresses.parse("198.51.100.0");
  private static final long T = 1_700_000_000_000_000L;
  private static final long WINDOW = 30_000_000L;

  private final Random random =
      new Random(Long.getLong("hydranet.fuzz.seed", 0x4e79_6472_614eL)); // "HydraN"
  private final KeyPair hsKey = keyPair(1);
  private final KeyPair rdKey = keyPair(2);
  private final KeyPair rogue = keyPair(3);
  private final Map<Integer, Peer> trusted =
      Map.of(
          HS, new Peer(HS, Message.ROLE_HOST_SERVER, hsKey.getPublic(), 1),
          RD, new Peer(RD, Message.ROLE_REDIRECTOR, rdKey.getPublic(), 1));
  private final Authorisations auth =
      new Authorisations(List.of(new Authorisations.Rule(AUTHORISED, 24, Set.of(HS))));

  /** Keys from a fixed seed, so that a seed replays a run byte for byte. */
  private static KeyPair keyPair(int seed) {
    try {
      SecureRandom r = SecureRandom.getInstance("SHA1PRNG");
      r.setSeed(seed);
      KeyPairGenerator g = KeyPairGenerator.getInstance("Ed25519");
      g.initialize(255, r);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }

  /** Every datagram a trusted node signed with its own key: the only ones that may be admitted. */
  private final Set<ByteBuffer> genuine = new HashSet<>();

  private final List<byte[]> corpus = new ArrayList<>();

  private int address() {
    return switch (random.nextInt(4)) {
      case 0 -> HS;
      case 1 -> AUTHORISED | random.nextInt(256);
      case 2 -> random.nextInt(1, 224) << 24 | random.nextInt(1 << 24);
      default -> Addresses.parse("203.0.113.7");
    };
  }

  private Message randomMessage(int sender, long timestamp) {
    MessageType type = MessageType.values()[random.nextInt(MessageType.values().length)];
    int hold = random.nextInt(8) == 0 ? 0 : random.nextInt(Codec.MIN_HOLD_MILLIS, 0x10000);
    int role = type == MessageType.HELLO ? random.nextInt(1, 3) : 0;
    List<Entry> entries = new ArrayList<>();
    int max =
        switch (type) {
          case ANNOUNCE, WITHDRAW -> random.nextInt(8) == 0 ? Codec.MAX_ANNOUNCE_ENTRIES : 4;
          case UPDATE -> random.nextInt(8) == 0 ? Codec.MAX_UPDATE_ENTRIES : 4;
          default -> 0;
        };
    int n = max == 0 ? 0 : random.nextInt(max + 1);
    for (int i = 0; i < n; i++) {
      int hostServer = type == MessageType.UPDATE ? address() : sender;
      int distance = type == MessageType.UPDATE ? random.nextInt(Codec.INFINITY + 1) : 0;
      // Ports 1..n never repeat, so no entry duplicates another.
      entries.add(
          new Entry(
              address(),
              random.nextBoolean() ? 6 : 17,
              i + 1,
              hostServer,
              random.nextInt(Codec.MAX_WEIGHT + 1),
              random.nextInt(Codec.MAX_LOAD + 1),
              distance));
    }
    return new Message(type, sender, timestamp, hold, role, entries);
  }

  private void buildCorpus() {
    Signer hs = new Signer(hsKey.getPrivate());
    Signer rd = new Signer(rdKey.getPrivate());
    Signer bad = new Signer(rogue.getPrivate());
    for (int i = 0; i < 400; i++) {
      long t = T + random.nextLong(-2 * WINDOW, 2 * WINDOW);
      int kind = random.nextInt(5);
      int sender = kind == 1 ? RD : kind == 4 ? address() : HS;
      byte[] unsigned = Codec.encodeUnsigned(randomMessage(sender, t));
      byte[] datagram =
          switch (kind) {
            case 0 -> hs.sign(unsigned);
            case 1 -> rd.sign(unsigned);
            case 2 -> bad.sign(unsigned); // a forgery claiming the host server
            case 3 -> rd.sign(unsigned); // the redirector's key, the host server's name
            default -> bad.sign(unsigned); // anyone
          };
      if (kind <= 1) {
        genuine.add(ByteBuffer.wrap(datagram));
      }
      corpus.add(datagram);
    }
  }

  private byte[] pick() {
    return corpus.get(random.nextInt(corpus.size())).clone();
  }

  /** A boundary or random value for a field of {@code width} bytes. */
  private long value(int width) {
    long max = width == 8 ? Long.MAX_VALUE : (1L << (8 * width)) - 1;
    return switch (random.nextInt(6)) {
      case 0 -> 0;
      case 1 -> max;
      case 2 -> 1;
      case 3 -> max / 2 + 1;
      case 4 -> random.nextInt(300);
      default -> random.nextLong() & max;
    };
  }

  private static void put(byte[] d, int offset, int width, long v) {
    for (int i = width - 1; i >= 0 && offset + i < d.length; i--, v >>>= 8) {
      if (offset + i >= 0) {
        d[offset + i] = (byte) v;
      }
    }
  }

  /** One hostile input; its length is the array's. */
  private byte[] input(int strategy) {
    byte[] d;
    switch (strategy) {
      case 0 -> { // random bytes
        d = new byte[random.nextInt(1600)];
        random.nextBytes(d);
      }
      case 1 -> { // random bytes behind a plausible header
        d = new byte[random.nextInt(Codec.HEADER, 1500)];
        random.nextBytes(d);
        put(d, 0, 2, Codec.MAGIC);
        d[2] = (byte) Codec.VERSION;
        d[3] = (byte) random.nextInt(1, 7);
        put(d, 4, 4, random.nextBoolean() ? HS : RD);
        put(d, 8, 8, T);
        put(d, 18, 2, d.length - Codec.HEADER - Codec.SIGNATURE);
      }
      case 2 -> { // bit flips
        d = pick();
        for (int n = 1 + random.nextInt(8); n > 0; n--) {
          int bit = random.nextInt(d.length * 8);
          d[bit >> 3] ^= (byte) (1 << (bit & 7));
        }
      }
      case 3 -> { // truncated, perhaps with the length field fixed to agree
        byte[] s = pick();
        d = Arrays.copyOf(s, random.nextInt(s.length));
        if (d.length >= Codec.HEADER && random.nextBoolean()) {
          put(d, 18, 2, d.length - Codec.HEADER - Codec.SIGNATURE);
        }
      }
      case 4 -> { // extended
        byte[] s = pick();
        d = Arrays.copyOf(s, s.length + 1 + random.nextInt(random.nextBoolean() ? 24 : 1500));
        for (int i = s.length; i < d.length; i++) {
          d[i] = (byte) random.nextInt();
        }
      }
      case 5 -> { // a field set to a boundary or random value
        d = pick();
        int[][] fields = {
          {0, 2}, {2, 1}, {3, 1}, {4, 4}, {8, 8}, {16, 2}, {18, 2}, {20, 2}, {20, 1}
        };
        int[] f =
            random.nextInt(3) == 0
                ? new int[] {random.nextInt(d.length), 1 << random.nextInt(3)}
                : fields[random.nextInt(fields.length)];
        put(d, f[0], Math.min(f[1], 8), value(Math.min(f[1], 8)));
      }
      case 6 -> d = pick(); // exactly as signed: genuine ones are admitted unless replayed
      case 7 -> { // the signature only
        d = pick();
        int bit = random.nextInt(Codec.SIGNATURE * 8);
        d[d.length - Codec.SIGNATURE + (bit >> 3)] ^= (byte) (1 << (bit & 7));
      }
      default -> { // spliced: one's signed part, another's signature
        byte[] a = pick();
        byte[] b = pick();
        d = Arrays.copyOf(a, a.length);
        System.arraycopy(
            b, b.length - Codec.SIGNATURE, d, d.length - Codec.SIGNATURE, Codec.SIGNATURE);
      }
    }
    return d;
  }

  /** The mix: cheap refusals dominate, but every strategy is frequent. */
  private int strategy() {
    int r = random.nextInt(100);
    return r < 20
        ? 0
        : r < 35
            ? 1
            : r < 55 ? 2 : r < 65 ? 3 : r < 72 ? 4 : r < 90 ? 5 : r < 94 ? 6 : r < 97 ? 7 : 8;
  }

  @Test
  void shouldRefuseEverythingNotSignedByATrustedKeyAndThrowNothingElse() {
    buildCorpus();
    long inputs = Long.getLong("hydranet.fuzz.inputs", 2_000_000L);
    Map<Malformed, Long> reasons = new EnumMap<>(Malformed.class);
    long admitted = 0;
    long decoded = 0;
    Gatekeeper gatekeeper = null;
    long start = System.nanoTime();
    for (long i = 0; i < inputs; i++) {
      if (i % 512 == 0) {
        // A fresh replay guard now and then, so a genuine message's mutants reach the signature.
        gatekeeper = new Gatekeeper(trusted, auth, WINDOW);
      }
      int strategy = strategy();
      byte[] d = input(strategy);
      int length = d.length;
      try {
        Codec.decode(d, length);
        decoded++;
      } catch (Refused r) {
        // expected
      } catch (Throwable t) {
        fail("decode threw on input " + i + " (" + HexFormat.of().formatHex(d) + ")", t);
      }
      int source = length >= 8 && random.nextInt(16) != 0 ? ByteBuffer.wrap(d).getInt(4) : HS;
      // Mostly a clock far from every timestamp (STALE, cheap); now and then the corpus's own, so
      // that what passes everything else meets the signature check: one costs ~1 ms here.
      long now = random.nextInt(64) == 0 ? T : T + 100 * WINDOW;
      try {
        Message m = gatekeeper.admit(d, length, source, now);
        admitted++;
        assertTrue(
            genuine.contains(ByteBuffer.wrap(d)),
            "admitted bytes no trusted key signed: " + HexFormat.of().formatHex(d));
        Peer peer = trusted.get(m.sender());
        switch (m.type()) {
          case ANNOUNCE, WITHDRAW -> assertEquals(Message.ROLE_HOST_SERVER, peer.role());
          case UPDATE -> assertEquals(Message.ROLE_REDIRECTOR, peer.role());
          case HELLO -> assertEquals(m.role(), peer.role());
          default -> {}
        }
        for (Entry e : m.entries()) {
          assertTrue(
              m.type() == MessageType.WITHDRAW
                  || e.distance() == Codec.INFINITY
                  || auth.allowed(e.service(), e.hostServer()),
              "an unauthorised entry admitted: " + e);
        }
      } catch (Refused r) {
        reasons.merge(r.reason(), 1L, Long::sum);
      } catch (Throwable t) {
        fail("admit threw on input " + i + " (" + HexFormat.of().formatHex(d) + ")", t);
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    long verifyStart = System.nanoTime();
    Gatekeeper g = new Gatekeeper(trusted, auth, WINDOW);
    byte[] forged =
        corpus.stream()
            .filter(x -> !genuine.contains(ByteBuffer.wrap(x)))
            .filter(x -> trusted.containsKey(ByteBuffer.wrap(x).getInt(4)))
            .findFirst()
            .orElseThrow();
    for (int i = 0; i < 100; i++) {
      try {
        g.admit(
            forged,
            forged.length,
            ByteBuffer.wrap(forged).getInt(4),
            ByteBuffer.wrap(forged).getLong(8));
      } catch (Refused r) {
        // BAD_SIGNATURE: a forgery claiming a trusted sender, checked each time
      }
    }
    System.out.printf(
        "GatekeeperFuzzTest: a refused signature costs %.0f µs%n",
        (System.nanoTime() - verifyStart) / 1e3 / 100);
    System.out.printf(
        "GatekeeperFuzzTest: %d inputs in %.1f s (%.0f/s); decoded %d, admitted %d; refused %s%n",
        inputs, seconds, inputs / seconds, decoded, admitted, reasons);
    assertTrue(admitted > 0, "nothing admitted: the oracle would be vacuous");
    assertTrue(reasons.getOrDefault(Malformed.BAD_SIGNATURE, 0L) > 0, "no signature was tried");
  }
}
