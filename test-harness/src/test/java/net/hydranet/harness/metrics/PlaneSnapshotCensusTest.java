package net.hydranet.harness.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.forwarding.table.FlowTable;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.harness.fixture.SampleTopology;
import net.hydranet.router.config.RedirectorConfig;
import net.hydranet.router.metrics.PlaneSnapshot;
import org.junit.jupiter.api.Test;

/**
 * The sampler's census of the connection table, in steps (BENCHMARKS.md, "The census off the data
 * path"): the sample redirector's 1M-flow IPv4 table with more live flows than one step counts,
 * pinned to its host server and to the origin, and some past their deadline. A step is one command
 * on the forwarding thread; before, one command walked the whole table.
 */
class PlaneSnapshotCensusTest {
  private static final int PINNED = PlaneSnapshot.STEP_FLOWS * 2 + 123;
  private static final int TO_ORIGIN = 1_000;
  private static final int EXPIRED = 500;
  private static final long TIMEOUT = 60_000_000_000L;

  private final RedirectorUnderTest router = new RedirectorUnderTest().advance(1);
  private final ForwardingPlane plane = router.plane();

  private void fill() {
    fill(plane);
  }

  private static void fill(ForwardingPlane plane) {
    FlowTable flows = plane.path().flows();
    long now = plane.path().now();
    long lo = FlowTable.keyLo(6, 0, SampleTopology.HTTP);
    int client = 0xC6120100; // 198.18.1.0
    for (int i = 0; i < PINNED + TO_ORIGIN + EXPIRED; i++) {
      long hi = FlowTable.keyHi(client + (i >>> 14), SampleTopology.ORIGIN);
      long key = lo | ((long) (i & 0x3FFF) + 1024) << 16;
      int target = i < PINNED ? SampleTopology.HOST_SERVER : 0;
      long timeout = i < PINNED + TO_ORIGIN ? TIMEOUT : -1;
      flows.insert(hi, key, target, now, timeout);
    }
  }

  @Test
  void shouldCountEveryLiveFlowByTargetAndServiceAcrossItsSteps() throws Exception {
    fill();
    PlaneSnapshot s = PlaneSnapshot.take(plane, true);

    assertEquals(Integer.valueOf(PINNED), s.flowsPerTarget().get(SampleTopology.HOST_SERVER));
    assertEquals(Integer.valueOf(TO_ORIGIN), s.flowsPerTarget().get(0));
    assertEquals(PINNED + TO_ORIGIN + EXPIRED, s.flows(), "the table's size counts all entries");
    PlaneSnapshot.Target hs =
        s.services().stream()
            .filter(v -> v.address() == SampleTopology.ORIGIN && v.port() == SampleTopology.HTTP)
            .findFirst()
            .orElseThrow()
            .targets()
            .stream()
            .filter(t -> t.hostServer() == SampleTopology.HOST_SERVER)
            .findFirst()
            .orElseThrow();
    assertEquals(PINNED, hs.flows());
  }

  @Test
  void shouldBoundEveryStepBySlots() {
    fill();
    PlaneSnapshot.Census census = PlaneSnapshot.census(plane, true);
    int steps = steps(plane, census);
    int slots = plane.path().flows().slots() + plane.path().ipv6().flows().slots();
    int bySlots = slots / PlaneSnapshot.STEP_SLOTS;
    assertTrue(
        steps >= bySlots,
        steps
            + " steps for "
            + slots
            + " slots: one step walked more than "
            + PlaneSnapshot.STEP_SLOTS);
    assertEquals(PINNED, census.finish(plane).flowsPerTarget().get(SampleTopology.HOST_SERVER));
  }

  @Test
  void shouldBoundEveryStepByLiveFlows() {
    // A table of 32K flows is 64K slots, one step's worth: the live flows end its steps.
    RedirectorConfig config = RedirectorUnderTest.sampleConfig();
    config.context().flowCapacity(1 << 15);
    RedirectorUnderTest small = new RedirectorUnderTest(config).advance(1);
    int emptySteps = steps(small.plane(), PlaneSnapshot.census(small.plane(), true));
    fill(small.plane());
    int steps = steps(small.plane(), PlaneSnapshot.census(small.plane(), true));
    int live = PINNED + TO_ORIGIN;
    assertTrue(
        steps - emptySteps >= live / PlaneSnapshot.STEP_FLOWS,
        steps
            + " steps with "
            + live
            + " live flows, "
            + emptySteps
            + " empty: a step counted more"
            + " than "
            + PlaneSnapshot.STEP_FLOWS);
  }

  @Test
  void shouldRefuseToFinishBeforeEveryPipelineIsCounted() {
    PlaneSnapshot.Census census = PlaneSnapshot.census(plane, true);
    census.step(plane, 0);
    assertThrows(IllegalStateException.class, () -> census.finish(plane));
  }

  private static int steps(ForwardingPlane plane, PlaneSnapshot.Census census) {
    int steps = 1;
    while (census.step(plane, 0)) {
      steps++;
    }
    return steps;
  }
}
