package net.hydranet.control.auth;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.EdECPrivateKey;
import java.security.interfaces.EdECPublicKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.HashMap;
import java.util.Map;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;
import net.hydranet.control.wire.Codec;

/**
 * Cheap authentication between trusted nodes (PROTOCOL.md, "Work budget"): each datagram carries a
 * 16-byte tag after its signature, HMAC-SHA256 truncated (RFC 2104, RFC 4868 §2.6 truncates the
 * same way) under a key that only the two nodes can compute — X25519 (RFC 7748) between their
 * Ed25519 keys, each converted to its Montgomery form as libsodium's {@code
 * crypto_sign_ed25519_*_to_curve25519} does. No message carries a key and nothing is configured:
 * the trust store's public keys are enough. A receiver checks the tag in about a microsecond, so a
 * flood that names a trusted sender but cannot compute the tag is told apart before it can spend
 * the sender's work budget, where telling it apart by the Ed25519 signature costs about a
 * millisecond. The signature is still checked: the tag only decides what may spend the budget.
 *
 * <p>The key is static for a pair of nodes; freshness comes from the signed timestamp, which the
 * tag covers. Not thread-safe: the control thread owns it.
 */
public final class SessionTags {
  /** Bytes of tag after the signature. */
  public static final int TAG = 16;

  private static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));
  private static final byte[] LABEL =
      "HYDRANET control tag v1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private final Map<Integer, Mac> macs = new HashMap<>();
  private final byte[] out = new byte[32];

  /**
   * Keys for every trusted node.
   *
   * @throws IllegalArgumentException if a key is not Ed25519 or a peer's key is a low-order point
   */
  public SessionTags(PrivateKey own, int ownAddress, Map<Integer, Peer> trusted) {
    for (Peer p : trusted.values()) {
      macs.put(p.address(), mac(pairKey(own, ownAddress, p.key(), p.address())));
    }
  }

  /** The 32-byte key {@code own} and the node at {@code peerAddress} share. */
  public static byte[] pairKey(PrivateKey own, int ownAddress, PublicKey peer, int peerAddress) {
    try {
      KeyFactory xdh = KeyFactory.getInstance("XDH");
      PrivateKey x =
          xdh.generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, scalar(own)));
      PublicKey u =
          xdh.generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, montgomery(peer)));
      KeyAgreement agreement = KeyAgreement.getInstance("XDH");
      agreement.init(x);
      agreement.doPhase(u, true);
      byte[] shared = agreement.generateSecret();
      // Bound to the pair, in a fixed order so both ends derive the same key.
      Mac kdf = Mac.getInstance("HmacSHA256");
      kdf.init(new SecretKeySpec(shared, "HmacSHA256"));
      kdf.update(LABEL);
      int lo = Integer.compareUnsigned(ownAddress, peerAddress) < 0 ? ownAddress : peerAddress;
      int hi = lo == ownAddress ? peerAddress : ownAddress;
      kdf.update(ByteBuffer.allocate(8).putInt(lo).putInt(hi).array());
      return kdf.doFinal();
    } catch (GeneralSecurityException | ClassCastException e) {
      throw new IllegalArgumentException("cannot derive a tag key: " + e.getMessage(), e);
    }
  }

  /** RFC 8032 §5.1.5: the X25519 scalar is the first half of SHA-512(seed) (X25519 clamps it). */
  private static byte[] scalar(PrivateKey key) throws GeneralSecurityException {
    byte[] seed =
        ((EdECPrivateKey) key)
            .getBytes()
            .orElseThrow(() -> new GeneralSecurityException("the private key has no seed"));
    return java.util.Arrays.copyOf(MessageDigest.getInstance("SHA-512").digest(seed), 32);
  }

  /** The birational map of RFC 7748 §4.1: u = (1 + y) / (1 − y) mod p. */
  private static BigInteger montgomery(PublicKey key) throws GeneralSecurityException {
    BigInteger y = ((EdECPublicKey) key).getPoint().getY();
    BigInteger denominator = BigInteger.ONE.subtract(y).mod(P);
    if (denominator.signum() == 0) {
      throw new GeneralSecurityException("the public key is the identity point");
    }
    return BigInteger.ONE.add(y).multiply(denominator.modInverse(P)).mod(P);
  }

  private static Mac mac(byte[] key) {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(new SecretKeySpec(key, "HmacSHA256"));
      return m;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK has no HmacSHA256", e);
    }
  }

  /**
   * True when {@code data[0, length)} is a signed datagram followed by a tag: its length is the
   * header's body length plus header, signature and tag. Reads two bytes; decides nothing else.
   */
  public static boolean tagged(byte[] data, int length) {
    if (length < Codec.HEADER + Codec.SIGNATURE + TAG) {
      return false;
    }
    int body = (data[18] & 0xff) << 8 | (data[19] & 0xff);
    return length == Codec.HEADER + body + Codec.SIGNATURE + TAG;
  }

  /** Appends the tag for {@code peer} to a signed datagram. */
  public byte[] tag(int peer, byte[] signed) {
    Mac m = macs.get(peer);
    byte[] d = java.util.Arrays.copyOf(signed, signed.length + TAG);
    compute(m, d, signed.length);
    System.arraycopy(out, 0, d, signed.length, TAG);
    return d;
  }

  /**
   * True if the last {@link #TAG} bytes of {@code data[0, length)} are {@code sender}'s tag over
   * the rest. Compared in constant time.
   */
  public boolean verify(int sender, byte[] data, int length) {
    Mac m = macs.get(sender);
    if (m == null || length < TAG) {
      return false;
    }
    int n = length - TAG;
    compute(m, data, n);
    int diff = 0;
    for (int i = 0; i < TAG; i++) {
      diff |= out[i] ^ data[n + i];
    }
    return diff == 0;
  }

  private void compute(Mac m, byte[] data, int n) {
    m.update(data, 0, n);
    try {
      m.doFinal(out, 0);
    } catch (ShortBufferException e) {
      throw new IllegalStateException(e);
    }
  }
}
