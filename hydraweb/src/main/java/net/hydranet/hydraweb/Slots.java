package net.hydranet.hydraweb;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The values of templates' slots (the paper's advertising banners), pushed by the origin: each slot
 * has a list of values that successive responses take in turn. Replacing a slot's list is atomic;
 * an unknown slot renders as nothing.
 */
public final class Slots {
  private static final byte[] EMPTY = new byte[0];

  private record Rotation(byte[][] values, AtomicLong next) {}

  private final ConcurrentHashMap<String, Rotation> slots = new ConcurrentHashMap<>();

  /** Sets {@code name}'s values, in rotation order; an empty list clears the slot. */
  public void put(String name, List<String> values) {
    if (values.isEmpty()) {
      slots.remove(name);
      return;
    }
    byte[][] v = new byte[values.size()][];
    for (int i = 0; i < v.length; i++) {
      v[i] = values.get(i).getBytes(StandardCharsets.UTF_8);
    }
    slots.put(name, new Rotation(v, new AtomicLong()));
  }

  public void remove(String name) {
    slots.remove(name);
  }

  /** The value the next response shows for {@code name}, advancing its rotation. */
  byte[] next(String name) {
    Rotation r = slots.get(name);
    if (r == null) {
      return EMPTY;
    }
    long n = r.next().getAndIncrement();
    return r.values()[(int) Math.floorMod(n, (long) r.values().length)];
  }
}
