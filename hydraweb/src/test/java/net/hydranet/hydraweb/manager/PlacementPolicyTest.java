package net.hydranet.hydraweb.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlacementPolicyTest {
  private static final PlacementPolicy.Settings SETTINGS =
      new PlacementPolicy.Settings(
          200, Duration.ofSeconds(3), 50, Duration.ofSeconds(10), Duration.ofSeconds(60), 0, 2);

  private final PlacementPolicy policy =
      new PlacementPolicy(SETTINGS, List.of("198.18.1.20", "198.18.1.21"));
  private final List<PlacementPolicy.Running> running = new ArrayList<>();
  private long now = 1_000_000;

  /** Feeds one load sample a second for {@code seconds}; returns the decisions that acted. */
  private List<PlacementPolicy.Decision> run(double load, int seconds) {
    List<PlacementPolicy.Decision> acted = new ArrayList<>();
    for (int i = 0; i < seconds; i++) {
      PlacementPolicy.Decision d =
          policy.decide(now, load, List.copyOf(running), "hydraweb-" + (running.size() + 1));
      if (d.action() == PlacementPolicy.Action.INSTALL) {
        running.add(new PlacementPolicy.Running(d.replica(), d.hostIndex(), now));
        acted.add(d);
      } else if (d.action() == PlacementPolicy.Action.REMOVE) {
        running.removeIf(r -> r.name().equals(d.replica()));
        acted.add(d);
      }
      now += 1000;
    }
    return acted;
  }

  @Test
  void shouldInstallOnlyAfterTheLoadStaysHighLongEnough() {
    assertEquals(List.of(), run(412, 3), "2 s above is not yet 3 s");
    List<PlacementPolicy.Decision> d = run(412, 1);
    assertEquals(1, d.size());
    assertEquals(
        "installing hydraweb-1 on 198.18.1.20: 412 req/s > 200 for 3 s", d.get(0).reason());
    assertEquals(0, d.get(0).hostIndex());
    // The same, as the log's keys.
    assertEquals(PlacementPolicy.LOAD_ABOVE, d.get(0).cause());
    assertEquals(412.0, d.get(0).load());
    assertEquals(200.0, d.get(0).threshold());
    assertEquals(3000, d.get(0).sustainedMillis());
  }

  @Test
  void shouldNeedAnotherPeriodForASecondReplicaAndStopAtTheMaximum() {
    run(500, 4);
    List<PlacementPolicy.Decision> d = run(500, 10);
    assertEquals(1, d.size(), "the second after 3 s more; then the maximum of 2 holds");
    assertEquals(1, d.get(0).hostIndex());
    assertEquals(2, running.size());
  }

  @Test
  void shouldResetWhenTheLoadDipsBeforeTheTime() {
    run(300, 2);
    run(100, 1);
    assertEquals(List.of(), run(300, 3));
    assertEquals(1, run(300, 1).size());
  }

  @Test
  void shouldRemoveOnlyAfterLowLoadAndTheMinimumLifetime() {
    run(300, 4);
    assertEquals(1, running.size());
    assertEquals(
        List.of(),
        run(10, 30),
        "low for 30 s, but the replica is younger than 60 s (installed 1 s before the low)");
    List<PlacementPolicy.Decision> d = run(10, 31);
    assertEquals(1, d.size());
    assertEquals(PlacementPolicy.Action.REMOVE, d.get(0).action());
    assertEquals("removing hydraweb-1 from 198.18.1.20: 10 req/s < 50 for 59 s", d.get(0).reason());
    assertEquals(PlacementPolicy.LOAD_BELOW, d.get(0).cause());
    assertEquals(50.0, d.get(0).threshold());
    assertEquals(59_000, d.get(0).sustainedMillis());
  }

  @Test
  void shouldKeepTheMinimumWhateverTheLoad() {
    PlacementPolicy p =
        new PlacementPolicy(
            new PlacementPolicy.Settings(
                200, Duration.ZERO, 50, Duration.ZERO, Duration.ZERO, 1, 1),
            List.of("h"));
    PlacementPolicy.Decision d = p.decide(0, Double.NaN, List.of(), "hydraweb-1");
    assertEquals(PlacementPolicy.Action.INSTALL, d.action());
    assertEquals("installing hydraweb-1 on h: fewer than the minimum of 1 replica(s)", d.reason());
    assertEquals(PlacementPolicy.MIN_REPLICAS, d.cause());
    assertTrue(Double.isNaN(d.load()) && Double.isNaN(d.threshold()));
    List<PlacementPolicy.Running> one = List.of(new PlacementPolicy.Running("hydraweb-1", 0, 0));
    assertEquals(PlacementPolicy.Action.NONE, p.decide(100_000, 0, one, "x").action());
  }

  @Test
  void shouldHoldInTheBandBetweenTheThresholds() {
    run(300, 4);
    assertEquals(List.of(), run(100, 200), "between 50 and 200: neither");
  }
}
