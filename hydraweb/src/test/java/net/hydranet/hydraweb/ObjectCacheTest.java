package net.hydranet.hydraweb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ObjectCacheTest {
  private static WebObject object(String path, int size, long version) {
    byte[] body = new byte[size];
    ByteBuffer.wrap(body).putLong(0, version);
    return WebObject.of(path, body, "text/plain", 1_000_000, version);
  }

  @Test
  void shouldStoreReplaceAndRemove() {
    ObjectCache c = new ObjectCache(1 << 20, 100);
    assertEquals(ObjectCache.PutResult.STORED, c.put(object("/a", 100, 1)));
    assertEquals(ObjectCache.PutResult.REPLACED, c.put(object("/a", 120, 2)));
    assertEquals(2, c.get("/a").version());
    assertEquals(ObjectCache.PutResult.STALE, c.put(object("/a", 100, 1)));
    assertEquals(2, c.get("/a").version());
    assertEquals(ObjectCache.PutResult.REPLACED, c.put(object("/a", 100, 2)));
    assertTrue(c.remove("/a"));
    assertFalse(c.remove("/a"));
    assertNull(c.get("/a"));
    ObjectCache.Stats s = c.stats();
    assertEquals(0, s.entries());
    assertEquals(0, s.bytes());
    assertEquals(1, s.stored());
    assertEquals(2, s.replaced());
    assertEquals(1, s.removed());
    assertEquals(1, s.staleRefused());
  }

  @Test
  void shouldRefuseAnObjectLargerThanTheCache() {
    ObjectCache c = new ObjectCache(1000, 10);
    assertEquals(ObjectCache.PutResult.TOO_LARGE, c.put(object("/big", 2000, 1)));
    assertEquals(0, c.stats().entries());
  }

  @Test
  void shouldEvictToStayWithinEntriesAndBytes() {
    ObjectCache c = new ObjectCache(1 << 20, 3);
    for (int i = 0; i < 10; i++) {
      c.put(object("/" + i, 10, 1));
    }
    assertEquals(3, c.stats().entries());
    assertEquals(7, c.stats().evicted());
    long each = object("/0", 1000, 1).footprint();
    ObjectCache b = new ObjectCache(each * 4 + each / 2, 1000);
    for (int i = 0; i < 10; i++) {
      b.put(object("/" + i, 1000, 1));
      assertTrue(b.stats().bytes() <= b.capacityBytes());
    }
    assertEquals(4, b.stats().entries());
  }

  @Test
  void shouldGiveObjectsHitSinceTheHandPassedASecondChance() {
    ObjectCache c = new ObjectCache(1 << 20, 3);
    c.put(object("/a", 10, 1));
    c.put(object("/b", 10, 1));
    c.put(object("/c", 10, 1));
    c.lookup(PathKey.of("/a")); // /a is referenced: the hand skips it once
    c.put(object("/d", 10, 1));
    assertNotNull(c.get("/a"));
    assertNull(c.get("/b"));
    assertNotNull(c.get("/c"));
    assertNotNull(c.get("/d"));
  }

  @Test
  void shouldCountHitsPerPathAcrossVersionsAndMissesInTotal() {
    ObjectCache c = new ObjectCache(1 << 20, 10);
    c.put(object("/a", 10, 1));
    c.lookup(PathKey.of("/a"));
    c.put(object("/a", 10, 2));
    c.lookup(PathKey.of("/a"));
    c.lookup(PathKey.of("/nope"));
    assertEquals(2, c.hits("/a"));
    assertEquals(Map.of("/a", 2L), c.hitCounts());
    assertEquals(2, c.stats().hits());
    assertEquals(1, c.stats().misses());
  }

  @Test
  void shouldMeterMissesPerPathUpToItsBound() {
    ObjectCache c = new ObjectCache(1 << 20, 10, 3);
    for (int i = 0; i < 10; i++) {
      c.lookup(PathKey.of("/m" + (i % 5)));
    }
    assertEquals(10, c.stats().misses());
    assertEquals(Map.of("/m0", 2L, "/m1", 2L, "/m2", 2L), c.missCounts());
    assertEquals(4, c.stats().missesUnmetered());
    assertEquals(2, c.misses("/m1"));
    assertEquals(0, c.misses("/m4"));
  }

  @Test
  void shouldAgreeWithASimpleModelOverRandomOperations() {
    // Reference: a map of what is cached; the cache may hold fewer (eviction) but never an object
    // the model does not hold at that version, and never more than its bounds.
    Random rnd = new Random(11);
    ObjectCache c = new ObjectCache(64 * 1024, 50);
    Map<String, Long> model = new HashMap<>();
    for (int i = 0; i < 200_000; i++) {
      String p = "/" + rnd.nextInt(120);
      switch (rnd.nextInt(4)) {
        case 0, 1 -> {
          long v = rnd.nextInt(5);
          ObjectCache.PutResult r = c.put(object(p, 8 + rnd.nextInt(2000), v));
          Long had = c.get(p) == null ? null : c.get(p).version();
          if (r == ObjectCache.PutResult.STALE) {
            assertTrue(had != null && had > v);
          } else {
            assertEquals(v, had);
            model.put(p, v);
          }
        }
        case 2 -> {
          boolean removed = c.remove(p);
          if (removed) {
            assertNotNull(model.remove(p));
          } else {
            model.remove(p);
          }
        }
        default -> c.lookup(PathKey.of(p));
      }
      ObjectCache.Stats s = c.stats();
      assertTrue(s.entries() <= 50 && s.bytes() <= 64 * 1024);
      WebObject o = c.get(p);
      if (o != null) {
        assertEquals(model.get(p), o.version());
      }
    }
    long sum = 0;
    int n = 0;
    for (int i = 0; i < 120; i++) {
      WebObject o = c.get("/" + i);
      if (o != null) {
        sum += o.footprint();
        n++;
      }
    }
    assertEquals(c.stats().entries(), n);
    assertEquals(c.stats().bytes(), sum);
  }

  @Test
  void shouldNeverServeAnOldVersionAfterPutReturns() throws Exception {
    // One writer pushes versions 1, 2, 3, … of /x; readers check that every object they see is
    // whole (body matches its version) and never older than the last version whose put returned
    // before their lookup started.
    ObjectCache c = new ObjectCache(1 << 24, 10);
    c.put(object("/x", 1200, 0));
    AtomicLong acknowledged = new AtomicLong();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<String> failure = new AtomicReference<>();
    PathKey key = PathKey.of("/x");
    List<Thread> readers = new ArrayList<>();
    for (int t = 0; t < 3; t++) {
      Thread r =
          new Thread(
              () -> {
                while (!stop.get()) {
                  long floor = acknowledged.get();
                  WebObject o = c.lookup(key);
                  long inBody = ByteBuffer.wrap(o.bodyArray()).getLong(0);
                  if (inBody != o.version()) {
                    failure.compareAndSet(null, "torn object " + o);
                  }
                  if (o.version() < floor) {
                    failure.compareAndSet(null, "v" + o.version() + " after v" + floor + " acked");
                  }
                }
              });
      readers.add(r);
      r.start();
    }
    for (long v = 1; v <= 20_000; v++) {
      c.put(object("/x", 1200, v));
      acknowledged.set(v);
    }
    stop.set(true);
    for (Thread r : readers) {
      r.join();
    }
    assertNull(failure.get());
    assertEquals(20_000, c.get("/x").version());
  }
}
