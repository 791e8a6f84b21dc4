package net.hydranet.hydraweb.manager;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OriginFetcherTest {
  @Test
  void whatTheOriginForbidsASharedCacheToKeepIsNotKept() {
    assertTrue(OriginFetcher.cacheable(null));
    assertTrue(OriginFetcher.cacheable("max-age=60, public"));
    assertTrue(OriginFetcher.cacheable("must-revalidate"));
    assertFalse(OriginFetcher.cacheable("no-store"));
    assertFalse(OriginFetcher.cacheable("max-age=0, No-Cache"));
    assertFalse(OriginFetcher.cacheable("private=\"Set-Cookie\", max-age=60"));
    assertFalse(OriginFetcher.cacheable("public,no-store"));
  }
}
