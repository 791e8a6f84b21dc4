package net.hydranet.control.auth;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.Arrays;
import net.hydranet.control.wire.Codec;

/** Signs outgoing messages with this node's Ed25519 key. One per control thread. */
public final class Signer {
  private final Signature signature;
  private final PrivateKey key;

  public Signer(PrivateKey key) {
    this.key = key;
    try {
      signature = Signature.getInstance("Ed25519");
      signature.initSign(key);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not an Ed25519 private key: " + e.getMessage(), e);
    }
  }

  /** The key: {@link SessionTags} derives the pairwise tag keys from it. */
  public PrivateKey key() {
    return key;
  }

  /** The datagram: {@code unsigned} followed by its 64-byte signature. */
  public byte[] sign(byte[] unsigned) {
    try {
      signature.update(unsigned);
      byte[] sig = signature.sign();
      byte[] out = Arrays.copyOf(unsigned, unsigned.length + Codec.SIGNATURE);
      System.arraycopy(sig, 0, out, unsigned.length, Codec.SIGNATURE);
      return out;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("signing failed", e);
    }
  }
}
