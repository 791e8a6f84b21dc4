package net.hydranet.forwarding.io.live;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class KernelChecksTest {
  /** Abridged `ethtool -k` output of a veth (ethtool 6.1), GRO on and one fixed feature. */
  private static final String ETHTOOL_GRO_ON =
      String.join(
          "\n",
          "Features for hnlvk0a:",
          "rx-checksumming: on",
          "tx-checksumming: off",
          "tcp-segmentation-offload: off",
          "\ttx-tcp-segmentation: off",
          "generic-segmentation-offload: off",
          "generic-receive-offload: on",
          "large-receive-offload: off [fixed]",
          "rx-gro-hw: off [fixed]",
          "");

  @Test
  void shouldReportOffloadsThatAreOn() {
    final List<String> problems = KernelChecks.offloadProblems("hnlvk0a", ETHTOOL_GRO_ON);
    assertEquals(1, problems.size());
    assertTrue(problems.get(0).contains("generic-receive-offload"), problems.get(0));
    assertFalse(problems.get(0).contains("large-receive-offload"), problems.get(0));
  }

  @Test
  void shouldMarkFixedOffloads() {
    final List<String> problems =
        KernelChecks.offloadProblems("x", "large-receive-offload: on [fixed]\n");
    assertTrue(problems.get(0).contains("large-receive-offload (fixed)"), problems.get(0));
  }

  @Test
  void shouldAcceptAllOffloadsOff() {
    assertEquals(
        List.of(), KernelChecks.offloadProblems("x", ETHTOOL_GRO_ON.replace(": on", ": off")));
  }

  @Test
  void shouldRefuseAConfiguredMtuAboveTheLinks() {
    final String problem = KernelChecks.mtuProblem("h9ar0", 1500, 1400).orElseThrow();
    assertTrue(problem.startsWith("h9ar0: mtu 1500 in the config"), problem);
    assertTrue(problem.contains("the link's MTU is 1400"), problem);
    assertTrue(problem.contains("set mtu: 1400"), problem);
    assertTrue(KernelChecks.mtuProblem("x", 1400, 1400).isEmpty());
    assertTrue(KernelChecks.mtuProblem("x", 1280, 1500).isEmpty(), "a smaller MTU is allowed");
  }

  @Test
  void shouldRequireIpForwardOff(@TempDir Path dir) throws Exception {
    final Path file = dir.resolve("ip_forward");
    Files.writeString(file, "0\n");
    assertTrue(KernelChecks.ipForwardProblem(file).isEmpty());
    Files.writeString(file, "1\n");
    assertTrue(KernelChecks.ipForwardProblem(file).orElseThrow().contains("ip_forward is 1"));
    assertTrue(KernelChecks.ipForwardProblem(dir.resolve("absent")).isPresent());
  }

  @Test
  void shouldParseMac() {
    assertArrayEquals(
        new byte[] {0x02, (byte) 0xfc, 0, 0, 0, (byte) 0xa1},
        KernelChecks.parseMac("02:fc:00:00:00:a1\n"));
  }

  @Test
  void shouldGivePermissionHint() {
    assertTrue(
        KernelChecks.pcapOpenHint("socket: Operation not permitted").contains("CAP_NET_RAW"));
    assertEquals("", KernelChecks.pcapOpenHint("something else"));
  }

  @Test
  void shouldLoadLibpcap() {
    assertEquals(java.util.Optional.empty(), KernelChecks.libpcapProblem());
    assertTrue(KernelChecks.libpcapVersion().startsWith("libpcap version"));
  }

  @Test
  void shouldRejectPathLikeInterfaceNames() {
    assertFalse(KernelChecks.interfaceExists("../lo"));
    assertFalse(KernelChecks.interfaceExists(".."));
    assertFalse(KernelChecks.interfaceExists("hnlv-absent0"));
  }

  @Test
  void shouldCheckALiveVeth() throws Exception {
    assumeTrue(Net.isRoot(), "needs root to create links");
    final String a = "hnlvk0a";
    Net.quiet("ip", "link", "del", a);
    try {
      // Both ends stay in this namespace, down and unaddressed: nothing is ever sent.
      Net.sh("ip", "link", "add", a, "type", "veth", "peer", "name", "hnlvk0b");
      assertTrue(KernelChecks.interfaceExists(a));
      assertEquals(1500, KernelChecks.mtu(a));
      assertArrayEquals(
          KernelChecks.parseMac(Files.readString(Path.of("/sys/class/net/" + a + "/address"))),
          KernelChecks.mac(a));
      assertTrue(KernelChecks.ifIndex(a) > 0);

      Net.sh("ethtool", "-K", a, "gro", "on", "gso", "off", "tso", "off");
      final List<String> withGro = KernelChecks.offloadProblems(a);
      assertEquals(1, withGro.size(), withGro.toString());
      assertTrue(withGro.get(0).contains("generic-receive-offload"));

      Net.sh("ethtool", "-K", a, "gro", "off", "gso", "off", "tso", "off");
      assertEquals(List.of(), KernelChecks.offloadProblems(a));

      final List<String> all = KernelChecks.check(List.of(a, "hnlv-absent0"));
      assertTrue(
          all.stream().anyMatch(p -> p.contains("hnlv-absent0 does not exist")), all.toString());
      assertFalse(all.stream().anyMatch(p -> p.startsWith(a + ":")), all.toString());
    } finally {
      Net.quiet("ip", "link", "del", a);
    }
  }

  @Test
  void aCommandThatHangsIsGivenUpAfterTheBound() {
    // Its output stays open while it runs: reading it to the end would wait the full 30 s.
    long started = System.nanoTime();
    IOException e =
        assertThrows(
            IOException.class, () -> KernelChecks.run(new byte[0], List.of("sleep", "30")));
    long seconds = (System.nanoTime() - started) / 1_000_000_000L;
    assertTrue(e.getMessage().contains("timed out"), e.getMessage());
    assertTrue(seconds < 15, "gave up after " + seconds + " s");
  }

  @Test
  void aCommandsOutputAndInputAreCarried() throws Exception {
    assertEquals("piped\n", KernelChecks.run("piped\n".getBytes(), List.of("cat")));
  }
}
