package net.hydranet.lab.netns;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Address and name checks that need no privileges and touch no namespace. */
class TopologyValidationTest {
  @Test
  void shouldAcceptOnlyTheBenchmarkingRange() {
    assertEquals(0xC6120001, Topology.checkTestAddress("198.18.0.1"));
    assertDoesNotThrow(() -> Topology.checkTestAddress("198.19.255.254"));
    assertThrows(IllegalArgumentException.class, () -> Topology.checkTestAddress("198.20.0.1"));
    assertThrows(IllegalArgumentException.class, () -> Topology.checkTestAddress("198.17.255.255"));
    assertThrows(IllegalArgumentException.class, () -> Topology.checkTestAddress("10.0.0.1"));
    assertThrows(IllegalArgumentException.class, () -> Topology.checkTestAddress("not.an.ip.x"));
  }

  @Test
  void shouldRefusePrefixesReachingOutsideTheRange() {
    assertDoesNotThrow(() -> Topology.checkTestCidr("198.18.1.1/24"));
    assertDoesNotThrow(() -> Topology.checkTestCidr("198.18.0.0/15"));
    assertThrows(IllegalArgumentException.class, () -> Topology.checkTestCidr("198.18.0.0/14"));
    assertThrows(IllegalArgumentException.class, () -> Topology.checkTestCidr("0.0.0.0/0"));
    assertThrows(IllegalArgumentException.class, () -> Topology.checkTestCidr("192.168.1.1/24"));
    assertThrows(IllegalArgumentException.class, () -> Topology.checkTestCidr("198.18.1.1"));
    assertThrows(IllegalArgumentException.class, () -> Topology.checkTestCidr("198.18.1.1/33"));
  }

  @Test
  void shouldAcceptOnlyTheIpv6BenchmarkingRange() {
    assertEquals(0x2001_0002_0000_0001L, Topology.checkTestAddress6("2001:2:0:1::10")[0]);
    assertDoesNotThrow(() -> Topology.checkTestAddress6("2001:2::1"));
    assertDoesNotThrow(() -> Topology.checkTestAddress6("2001:2:0:ffff:ffff:ffff:ffff:ffff"));
    assertThrows(IllegalArgumentException.class, () -> Topology.checkTestAddress6("2001:2:1::1"));
    assertThrows(IllegalArgumentException.class, () -> Topology.checkTestAddress6("2001:db8::1"));
    assertThrows(IllegalArgumentException.class, () -> Topology.checkTestAddress6("fe80::1"));
    assertThrows(IllegalArgumentException.class, () -> Topology.checkTestAddress6("198.18.0.1"));
    assertDoesNotThrow(() -> Topology.checkTestCidr6("2001:2:0:1::10/64"));
    assertThrows(IllegalArgumentException.class, () -> Topology.checkTestAddress6("2001:3::1"));
    assertDoesNotThrow(() -> Topology.checkTestCidr6("2001:2::/48"));
    assertThrows(IllegalArgumentException.class, () -> Topology.checkTestCidr6("2001:2::/47"));
    assertThrows(IllegalArgumentException.class, () -> Topology.checkTestCidr6("::/0"));
    assertThrows(IllegalArgumentException.class, () -> Topology.checkTestCidr6("2001:2::1"));
    assertThrows(IllegalArgumentException.class, () -> Topology.checkTestCidr6("2001:2::1/129"));
  }

  @Test
  void shouldRefuseBadPrefixBeforeTouchingTheSystem() {
    assertThrows(IllegalArgumentException.class, () -> Topology.create("Bad"));
    assertThrows(IllegalArgumentException.class, () -> Topology.create("toolongprefix"));
    assertThrows(IllegalArgumentException.class, () -> Topology.create(""));
  }
}
