package net.hydranet.hydraweb;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A decoded request path as bytes, the cache's key. Keys stored in the cache are immutable; each
 * connection owns one mutable scratch key that the parser fills in place, so a lookup allocates no
 * String: {@code ConcurrentHashMap.get} calls {@code scratch.equals(stored)}, and both compare
 * bytes.
 */
public final class PathKey {
  private byte[] bytes;
  private int length;
  private int hash;
  private final boolean mutable;

  private PathKey(byte[] bytes, int length, boolean mutable) {
    this.bytes = bytes;
    this.length = length;
    this.mutable = mutable;
    rehash();
  }

  /** An immutable key for {@code path} (UTF-8). */
  public static PathKey of(String path) {
    byte[] b = path.getBytes(StandardCharsets.UTF_8);
    return new PathKey(b, b.length, false);
  }

  /** A mutable scratch key with room for {@code capacity} bytes, for one thread. */
  static PathKey scratch(int capacity) {
    return new PathKey(new byte[capacity], 0, true);
  }

  /** An immutable copy of this key. */
  PathKey freeze() {
    return mutable ? new PathKey(Arrays.copyOf(bytes, length), length, false) : this;
  }

  byte[] array() {
    return bytes;
  }

  /** Sets the length after the caller wrote the bytes into {@link #array()}; scratch keys only. */
  void setLength(int newLength) {
    if (!mutable) {
      throw new IllegalStateException("immutable key");
    }
    length = newLength;
    rehash();
  }

  public int length() {
    return length;
  }

  byte byteAt(int i) {
    return bytes[i];
  }

  /** True when this path starts with {@code prefix}'s bytes. */
  boolean startsWith(byte[] prefix) {
    return prefix.length <= length
        && Arrays.equals(bytes, 0, prefix.length, prefix, 0, prefix.length);
  }

  private void rehash() {
    int h = 1;
    for (int i = 0; i < length; i++) {
      h = 31 * h + bytes[i];
    }
    hash = h;
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PathKey k
        && k.hash == hash
        && Arrays.equals(bytes, 0, length, k.bytes, 0, k.length);
  }

  @Override
  public String toString() {
    return new String(bytes, 0, length, StandardCharsets.UTF_8);
  }
}
