package net.hydranet.harness.fuzz;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A snapshot of everything reachable from some roots, and its restoration: lets a fuzz target build
 * its redirector or host server once and put it back exactly as built before every input, instead
 * of building a new one (a fresh {@code ForwardingPlane} allocates about 300 KB of direct memory
 * and, under Jazzer, cost ~800 µs an input; a rewind is a few memory copies).
 *
 * <p>What is recorded: every non-final field of every object reachable from the roots whose class
 * is HydraNet's or Agrona's (final fields cannot change; they are only followed; enum constants are
 * values, not followed), the contents of every array, and the bytes behind every {@link
 * UnsafeBuffer} over direct memory. JDK objects other than arrays are neither followed nor
 * restored: the data path keeps no state in them (its tables are arrays, Agrona collections and
 * direct buffers, allocated once), and {@code RewindTest} checks that a rewound redirector answers
 * every corpus input exactly as a new one.
 */
final class Rewind {
  private final List<Runnable> restores = new ArrayList<>();

  private Rewind() {}

  /** Records the state reachable from {@code roots} now. */
  static Rewind of(Object... roots) {
    Rewind rewind = new Rewind();
    Map<Object, Boolean> seen = new IdentityHashMap<>();
    List<Object> work = new ArrayList<>(List.of(roots));
    while (!work.isEmpty()) {
      Object o = work.remove(work.size() - 1);
      if (o == null || seen.put(o, Boolean.TRUE) != null) {
        continue;
      }
      rewind.record(o, work);
    }
    return rewind;
  }

  /** Puts every recorded field, array and direct buffer back as it was. */
  void restore() {
    for (Runnable r : restores) {
      r.run();
    }
  }

  private void record(Object o, List<Object> work) {
    Class<?> type = o.getClass();
    if (type.isArray()) {
      recordArray(o, work);
      return;
    }
    if (!followed(type) || o instanceof Enum<?>) {
      // An enum constant is a value: the fields holding it are recorded by their owners.
      return;
    }
    if (o instanceof UnsafeBuffer buffer && buffer.byteArray() == null) {
      byte[] bytes = new byte[buffer.capacity()];
      buffer.getBytes(0, bytes);
      restores.add(() -> buffer.putBytes(0, bytes));
    }
    for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (Modifier.isStatic(f.getModifiers())) {
          continue;
        }
        f.setAccessible(true);
        Object value = get(f, o);
        if (!f.getType().isPrimitive()) {
          work.add(value);
        }
        if (!Modifier.isFinal(f.getModifiers())) {
          restores.add(() -> set(f, o, value));
        }
      }
    }
  }

  private void recordArray(Object array, List<Object> work) {
    int length = Array.getLength(array);
    Object copy = Array.newInstance(array.getClass().getComponentType(), length);
    System.arraycopy(array, 0, copy, 0, length);
    restores.add(() -> System.arraycopy(copy, 0, array, 0, length));
    if (!array.getClass().getComponentType().isPrimitive()) {
      for (Object element : (Object[]) array) {
        work.add(element);
      }
    }
  }

  /** HydraNet's own classes and Agrona's (collections, buffers, queues); never the JDK's. */
  private static boolean followed(Class<?> type) {
    String name = type.getName();
    if (ByteBuffer.class.isAssignableFrom(type)) {
      return false;
    }
    return name.startsWith("net.hydranet.") || name.startsWith("org.agrona.");
  }

  private static Object get(Field f, Object o) {
    try {
      return f.get(o);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void set(Field f, Object o, Object value) {
    try {
      f.set(o, value);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }
}
