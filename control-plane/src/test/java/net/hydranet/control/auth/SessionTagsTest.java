package net.hydranet.control.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.KeyPair;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import net.hydranet.control.wire.Codec;
import net.hydranet.control.wire.Message;
import net.hydranet.control.wire.MessageType;
import org.junit.jupiter.api.Test;

class SessionTagsTest {
  private static final int A = 0xc0000201;
  private static final int B = 0xc0000202;
  private static final int C = 0xc0000203;

  private final KeyPair a = Keys.generate();
  private final KeyPair b = Keys.generate();
  private final KeyPair c = Keys.generate();

  @Test
  void shouldDeriveTheSameKeyAtBothEndsAndAnotherForEveryOtherPair() {
    // Holds only if both the scalar (SHA-512 of the seed) and the public key's map to Montgomery
    // form (u = (1 + y) / (1 - y)) are right: X25519(sA, uB) = X25519(sB, uA).
    byte[] ab = SessionTags.pairKey(a.getPrivate(), A, b.getPublic(), B);
    byte[] ba = SessionTags.pairKey(b.getPrivate(), B, a.getPublic(), A);
    assertArrayEquals(ab, ba);
    assertEquals(32, ab.length);
    assertFalse(Arrays.equals(ab, SessionTags.pairKey(a.getPrivate(), A, c.getPublic(), C)));
    // The addresses are bound in: the same keys under other addresses give another key.
    assertFalse(Arrays.equals(ab, SessionTags.pairKey(a.getPrivate(), A, b.getPublic(), C)));
  }

  private byte[] keepalive(int sender, KeyPair key) {
    Message m =
        new Message(MessageType.KEEPALIVE, sender, 1_700_000_000_000_000L, 3000, 0, List.of());
    return new Signer(key.getPrivate()).sign(Codec.encodeUnsigned(m));
  }

  @Test
  void shouldVerifyTheSendersTagAndRefuseAnyOther() {
    SessionTags atA = new SessionTags(a.getPrivate(), A, Map.of(B, peer(B, b)));
    SessionTags atB = new SessionTags(b.getPrivate(), B, Map.of(A, peer(A, a), C, peer(C, c)));
    SessionTags atC = new SessionTags(c.getPrivate(), C, Map.of(B, peer(B, b)));
    byte[] signed = keepalive(A, a);
    byte[] d = atA.tag(B, signed);
    assertEquals(signed.length + SessionTags.TAG, d.length);
    assertTrue(SessionTags.tagged(d, d.length));
    assertFalse(SessionTags.tagged(signed, signed.length), "the untagged datagram");
    assertTrue(atB.verify(A, d, d.length));
    // C trusts B too, but cannot make A's tag for B: its own tag under A's name fails.
    byte[] forged = atC.tag(B, keepalive(A, a));
    assertFalse(atB.verify(A, forged, forged.length));
    for (int i = 0; i < d.length; i++) {
      d[i] ^= 0x01;
      assertFalse(atB.verify(A, d, d.length), "bit flipped at " + i);
      d[i] ^= 0x01;
    }
    assertFalse(atB.verify(0x0a000001, d, d.length), "an untrusted sender has no key");
  }

  @Test
  void shouldCostAboutAMicrosecondPerVerification() {
    SessionTags atA = new SessionTags(a.getPrivate(), A, Map.of(B, peer(B, b)));
    SessionTags atB = new SessionTags(b.getPrivate(), B, Map.of(A, peer(A, a)));
    byte[] d = atA.tag(B, keepalive(A, a));
    d[d.length - 1] ^= 1; // a forgery: the work an attacker makes us do
    int n = 200_000;
    for (int i = 0; i < n; i++) {
      atB.verify(A, d, d.length); // warm up
    }
    long t = System.nanoTime();
    for (int i = 0; i < n; i++) {
      assertFalse(atB.verify(A, d, d.length));
    }
    long perNanos = (System.nanoTime() - t) / n;
    System.out.println("tag verification: " + perNanos + " ns");
    // An Ed25519 verification costs about a millisecond here; the tag must be far cheaper.
    assertTrue(perNanos < 50_000, perNanos + " ns per tag");
    assertNotEquals(0, perNanos);
  }

  private static Peer peer(int address, KeyPair k) {
    return new Peer(address, Message.ROLE_HOST_SERVER, k.getPublic(), 1);
  }
}
