package net.hydranet.forwarding.io.live;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.hydranet.forwarding.wire.InternetChecksum;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Shell helpers for the root-only tests that build their own namespaces and links; every command is
 * bounded by a timeout so a hung tool cannot hang the build.
 */
final class Net {
  private Net() {}

  static boolean isRoot() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          return line.split("\\s+")[2].equals("0");
        }
      }
    } catch (IOException e) {
      return false;
    }
    return false;
  }

  /** Runs a command, failing the test if it fails; returns its output. */
  static String sh(String... command) {
    final Result r = run(command);
    if (r.exit != 0) {
      fail(String.join(" ", command) + " exited " + r.exit + ": " + r.output);
    }
    return r.output;
  }

  /** Runs a command whose failure is expected at times (cleaning up what may not exist). */
  static void quiet(String... command) {
    run(command);
  }

  record Result(int exit, String output) {}

  static Result run(String... command) {
    try {
      final Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      try (InputStream in = p.getInputStream()) {
        final String out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          return new Result(-1, "timed out");
        }
        return new Result(p.exitValue(), out);
      }
    } catch (IOException e) {
      return new Result(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(-1, "interrupted");
    }
  }

  static List<String> inNs(String ns, String... command) {
    final String[] prefix = {"ip", "netns", "exec", ns};
    final String[] all = new String[prefix.length + command.length];
    System.arraycopy(prefix, 0, all, 0, prefix.length);
    System.arraycopy(command, 0, all, prefix.length, command.length);
    return List.of(all);
  }

  static String shNs(String ns, String... command) {
    return sh(inNs(ns, command).toArray(new String[0]));
  }

  /**
   * A namespace {@code ns} and a veth pair: {@code a} stays here, {@code b} goes into {@code ns},
   * both with IPv6 off (no router solicitations or DAD frames among the test's own). Neither is up.
   */
  static void vethIntoNamespace(String ns, String a, String b) {
    sh("ip", "netns", "add", ns);
    sh("ip", "link", "add", a, "type", "veth", "peer", "name", b);
    sh("ip", "link", "set", b, "netns", ns);
    disableIpv6(null, a);
    disableIpv6(ns, b);
  }

  /** Keeps a test link quiet: no IPv6 router solicitations or MLD leaving it. */
  static void disableIpv6(String ns, String ifName) {
    final String key = "net.ipv6.conf." + ifName + ".disable_ipv6=1";
    if (ns == null) {
      quiet("sysctl", "-q", "-w", key);
    } else {
      quiet(inNs(ns, "sysctl", "-q", "-w", key).toArray(new String[0]));
    }
  }

  static UnsafeBuffer direct(int capacity) {
    return new UnsafeBuffer(ByteBuffer.allocateDirect(capacity));
  }

  static int ipv4(int a, int b, int c, int d) {
    return (a << 24) | (b << 16) | (c << 8) | d;
  }

  /** Writes an Ethernet header; returns the offset after it. */
  static int ether(MutableDirectBuffer b, int o, byte[] dst, byte[] src, int etherType) {
    b.putBytes(o, dst);
    b.putBytes(o + 6, src);
    b.putShort(o + 12, (short) etherType, ByteOrder.BIG_ENDIAN);
    return o + 14;
  }

  /** Writes a 20-byte IPv4 header with a correct checksum; returns the offset after it. */
  static int ipv4Header(
      MutableDirectBuffer b, int o, int protocol, int src, int dst, int payloadLength) {
    b.putByte(o, (byte) 0x45);
    b.putByte(o + 1, (byte) 0);
    b.putShort(o + 2, (short) (20 + payloadLength), ByteOrder.BIG_ENDIAN);
    b.putShort(o + 4, (short) 0x1234, ByteOrder.BIG_ENDIAN);
    b.putShort(o + 6, (short) 0x4000, ByteOrder.BIG_ENDIAN); // DF
    b.putByte(o + 8, (byte) 64);
    b.putByte(o + 9, (byte) protocol);
    b.putShort(o + 10, (short) 0, ByteOrder.BIG_ENDIAN);
    b.putInt(o + 12, src, ByteOrder.BIG_ENDIAN);
    b.putInt(o + 16, dst, ByteOrder.BIG_ENDIAN);
    b.putShort(o + 10, (short) InternetChecksum.checksum(b, o, 20), ByteOrder.BIG_ENDIAN);
    return o + 20;
  }

  /** An Ethernet/IPv4/UDP frame (UDP checksum 0: "none", RFC 768); returns its length. */
  static int udpFrame(
      MutableDirectBuffer b,
      int o,
      byte[] dstMac,
      byte[] srcMac,
      int src,
      int dst,
      int srcPort,
      int dstPort,
      byte[] payload) {
    int p = ether(b, o, dstMac, srcMac, 0x0800);
    p = ipv4Header(b, p, 17, src, dst, 8 + payload.length);
    b.putShort(p, (short) srcPort, ByteOrder.BIG_ENDIAN);
    b.putShort(p + 2, (short) dstPort, ByteOrder.BIG_ENDIAN);
    b.putShort(p + 4, (short) (8 + payload.length), ByteOrder.BIG_ENDIAN);
    b.putShort(p + 6, (short) 0, ByteOrder.BIG_ENDIAN);
    b.putBytes(p + 8, payload);
    return p + 8 + payload.length - o;
  }

  /** True if {@code needle} occurs in {@code b[o, o + length)}. */
  static boolean contains(org.agrona.DirectBuffer b, int o, int length, byte[] needle) {
    outer:
    for (int i = o; i + needle.length <= o + length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (b.getByte(i + j) != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  static boolean contains(byte[] haystack, byte[] needle) {
    return contains(new UnsafeBuffer(haystack), 0, haystack.length, needle);
  }
}
