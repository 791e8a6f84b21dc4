package net.hydranet.hostserver.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.hydranet.replica.Resources;
import org.junit.jupiter.api.Test;

/**
 * The replica's JVM is sized by its grant, not by what it can find of its cgroups (nothing, inside
 * its mount namespace: it then took half of the machine for its heap). Checked on a real JVM
 * started with the command's options.
 */
class JavaCommandTest {
  @Test
  void shouldSizeTheReplicasJvmFromItsGrant() throws IOException, InterruptedException {
    Resources granted = new Resources(256L << 20, 1500, 64, 256);
    List<String> cmd = Confinement.javaCommand("x.Main", List.of("--a"), granted);
    assertEquals(List.of("x.Main", "--a"), cmd.subList(cmd.size() - 2, cmd.size()));

    // The same JVM options, asked for the values the JVM settled on.
    List<String> probe = new ArrayList<>();
    for (String a : cmd) {
      if (a.startsWith("-XX:")) {
        probe.add(a);
      }
    }
    probe.add(0, cmd.get(0));
    probe.add("-XX:+PrintFlagsFinal");
    probe.add("-version");
    Process p = new ProcessBuilder(probe).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "java -version did not end");
    assertEquals(0, p.exitValue(), out);
    long maxHeap = flag(out, "MaxHeapSize");
    assertTrue(
        maxHeap > 0 && maxHeap <= (128L << 20),
        "heap at most half of the 256 MiB grant, was " + maxHeap);
    assertTrue(flag(out, "ReservedCodeCacheSize") <= (48L << 20));
    assertEquals(2, flag(out, "ActiveProcessorCount"), "1.5 CPUs rounded up");
  }

  @Test
  void shouldKeepTheIpv6StackOnlyForAReplicaOfAnIpv6Origin() {
    Resources granted = new Resources(256L << 20, 500, 64, 256);
    assertTrue(
        Confinement.javaCommand("x.Main", List.of(), granted, false)
            .contains("-Djava.net.preferIPv4Stack=true"),
        "an IPv4 origin's wildcard socket is an IPv4 one, published from /proc/PID/net/tcp");
    List<String> v6 =
        Confinement.javaCommand("x.Main", List.of("--listen", "[::]:80"), granted, true);
    assertTrue(
        v6.stream().noneMatch(a -> a.startsWith("-Djava.net.preferIPv4Stack")),
        "an IPv6 origin's replica could open no IPv6 socket: " + v6);
    assertEquals(List.of("x.Main", "--listen", "[::]:80"), v6.subList(v6.size() - 3, v6.size()));
  }

  private static long flag(String flagsFinal, String name) {
    for (String line : flagsFinal.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 4 && f[1].equals(name)) {
        return Long.parseLong(f[3]);
      }
    }
    throw new AssertionError(name + " not printed");
  }
}
