package net.hydranet.forwarding.io.live;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Start-up checks of the kernel settings a pcap router depends on, each problem as one readable
 * line, plus small helpers that read interface facts from sysfs.
 *
 * <p>Everything here reads the network namespace the JVM runs in ({@code /proc/sys/net} and {@code
 * /sys/class/net} both reflect it). Off the hot path: these spawn processes and read files.
 */
public final class KernelChecks {
  private static final Path IP_FORWARD = Path.of("/proc/sys/net/ipv4/ip_forward");
  private static final Path SYS_CLASS_NET = Path.of("/sys/class/net");

  /**
   * Offloads that make pcap see (or send) frames larger than the wire's: with GRO pcap captured 7
   * KB aggregates and {@code pcap_sendpacket} failed with "Message too long" (shared notes).
   */
  static final List<String> FORBIDDEN_OFFLOADS =
      List.of(
          "generic-receive-offload",
          "large-receive-offload",
          "rx-gro-hw",
          "generic-segmentation-offload",
          "tcp-segmentation-offload");

  private KernelChecks() {}

  /** All checks for a router forwarding between {@code interfaces}; empty when all is well. */
  public static List<String> check(List<String> interfaces) {
    final List<String> problems = new ArrayList<>();
    ipForwardProblem(IP_FORWARD).ifPresent(problems::add);
    problems.addAll(checkLinks(interfaces));
    return problems;
  }

  /**
   * The checks for anything that captures and sends whole frames on {@code interfaces} — libpcap,
   * the interfaces, their offloads — without the router's {@code ip_forward} rule (an L2 bridge
   * such as {@code hydranet wan} is not bothered by its kernel forwarding IP). Empty when all is
   * well.
   */
  public static List<String> checkLinks(List<String> interfaces) {
    final List<String> problems = new ArrayList<>();
    libpcapProblem().ifPresent(problems::add);
    for (String name : interfaces) {
      if (!interfaceExists(name)) {
        problems.add("interface " + name + " does not exist in this network namespace");
        continue;
      }
      problems.addAll(offloadProblems(name));
    }
    return problems;
  }

  /**
   * With {@code ip_forward=1} the kernel forwards each transit packet beside us and the far side
   * receives it twice (shared notes).
   */
  static Optional<String> ipForwardProblem(Path file) {
    try {
      final String value = Files.readString(file).trim();
      return "0".equals(value)
          ? Optional.empty()
          : Optional.of(
              "net.ipv4.ip_forward is "
                  + value
                  + ": the kernel would forward every transit packet as well (set it to 0)");
    } catch (IOException e) {
      return Optional.of("cannot read " + file + ": " + e.getMessage());
    }
  }

  /** Offloads that are on for {@code name}, read from {@code ethtool -k}. */
  public static List<String> offloadProblems(String name) {
    final String output;
    try {
      output = run("ethtool", "-k", name);
    } catch (IOException e) {
      return List.of("cannot check offloads of " + name + ": " + e.getMessage());
    }
    return offloadProblems(name, output);
  }

  /** Parses {@code ethtool -k} output; a feature "on [fixed]" cannot be turned off and is fatal. */
  static List<String> offloadProblems(String name, String ethtoolOutput) {
    final List<String> on = new ArrayList<>();
    for (String line : ethtoolOutput.split("\n")) {
      final int colon = line.indexOf(':');
      if (colon < 0) {
        continue;
      }
      final String feature = line.substring(0, colon).trim();
      final String value = line.substring(colon + 1).trim();
      if (FORBIDDEN_OFFLOADS.contains(feature) && value.startsWith("on")) {
        on.add(feature + (value.contains("[fixed]") ? " (fixed)" : ""));
      }
    }
    if (on.isEmpty()) {
      return List.of();
    }
    return List.of(
        name
            + ": "
            + String.join(", ", on)
            + " on; pcap would see merged frames larger than the MTU"
            + " (ethtool -K "
            + name
            + " gro off lro off gso off tso off)");
  }

  /** True when {@code name} is an interface in this network namespace. */
  public static boolean interfaceExists(String name) {
    return !name.isEmpty()
        && !name.contains("/")
        && !name.equals(".")
        && !name.equals("..")
        && Files.isDirectory(SYS_CLASS_NET.resolve(name));
  }

  /** The interface's MTU from sysfs. */
  public static int mtu(String name) throws IOException {
    return Integer.parseInt(readAttribute(name, "mtu"));
  }

  /**
   * Whether the MTU a router was configured with for {@code name} exceeds its link's. A router that
   * believes in a larger MTU than the link's hands the link frames it drops ({@code
   * pcap_sendpacket} fails with "Message too long") instead of sending the source the Packet Too
   * Big or fragmentation-needed it would learn from: a path-MTU black hole, where large packets
   * vanish and a TCP connection stalls after its handshake.
   */
  public static Optional<String> mtuProblem(String name, int configured) {
    try {
      return mtuProblem(name, configured, mtu(name));
    } catch (IOException | NumberFormatException e) {
      return Optional.of("cannot read the MTU of " + name + ": " + e.getMessage());
    }
  }

  static Optional<String> mtuProblem(String name, int configured, int link) {
    if (configured <= link) {
      return Optional.empty();
    }
    return Optional.of(
        name
            + ": mtu "
            + configured
            + " in the config but the link's MTU is "
            + link
            + ": larger packets would be lost without a Packet Too Big or fragmentation-needed"
            + " (set mtu: "
            + link
            + ", or leave it out to take the link's)");
  }

  /** The interface's kernel index (what pcap's ingress metadata reports); 0 if unknown. */
  public static int ifIndex(String name) {
    try {
      return Integer.parseInt(readAttribute(name, "ifindex"));
    } catch (IOException | NumberFormatException e) {
      return 0;
    }
  }

  /** The interface's MAC address, 6 bytes, from {@code /sys/class/net/<name>/address}. */
  public static byte[] mac(String name) throws IOException {
    return parseMac(readAttribute(name, "address"));
  }

  /** "aa:bb:cc:dd:ee:ff" to 6 bytes. */
  public static byte[] parseMac(String text) {
    final String[] parts = text.trim().split(":");
    if (parts.length != 6) {
      throw new IllegalArgumentException("not a MAC address: '" + text + "'");
    }
    final byte[] mac = new byte[6];
    for (int i = 0; i < 6; i++) {
      mac[i] = (byte) Integer.parseInt(parts[i], 16);
    }
    return mac;
  }

  /** One line saying why libpcap cannot be loaded, or empty. */
  public static Optional<String> libpcapProblem() {
    try {
      PcapNative.load();
      return Optional.empty();
    } catch (UnsatisfiedLinkError e) {
      final String message = e.getMessage();
      final int cut = message.indexOf('\n');
      return Optional.of(cut < 0 ? message : message.substring(0, cut));
    }
  }

  /** The libpcap version string, for start-up logs. */
  public static String libpcapVersion() {
    PcapNative.load();
    return PcapNative.pcap_lib_version();
  }

  /** What to do when opening a capture was refused. */
  public static String pcapPermissionHint() {
    return "capturing needs root or CAP_NET_RAW (and CAP_NET_ADMIN for promiscuous mode):"
        + " run as root or setcap cap_net_raw,cap_net_admin+ep on the java binary";
  }

  /** A hint for a pcap open error message, or "" when none applies. */
  static String pcapOpenHint(String error) {
    final String lower = error.toLowerCase(Locale.ROOT);
    if (lower.contains("permission") || lower.contains("not permitted")) {
      return pcapPermissionHint();
    }
    if (lower.contains("no such device")) {
      return "no such interface in this network namespace";
    }
    return "";
  }

  private static String readAttribute(String name, String attribute) throws IOException {
    if (!interfaceExists(name)) {
      throw new IOException("no interface " + name);
    }
    return Files.readString(SYS_CLASS_NET.resolve(name).resolve(attribute)).trim();
  }

  private static String run(String... command) throws IOException {
    return run(new byte[0], List.of(command));
  }

  /**
   * Runs {@code command} with {@code input} on its standard input, bounded to 5 s: its output goes
   * to a file, so a command that hangs with its output open cannot hold the caller past the bound,
   * and one that writes much cannot block on a full pipe.
   *
   * @return its output and error, merged
   * @throws IOException if it cannot start, times out or fails, with its output
   */
  public static String run(byte[] input, List<String> command) throws IOException {
    final Path output = Files.createTempFile("hydranet-run", ".out");
    try {
      final Process process;
      try {
        process =
            new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
      } catch (IOException e) {
        throw new IOException(
            command.get(0) + " is not installed or cannot run: " + e.getMessage(), e);
      }
      try (OutputStream stdin = process.getOutputStream()) {
        stdin.write(input);
      }
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException(String.join(" ", command) + " timed out");
      }
      final String text = Files.readString(output, StandardCharsets.UTF_8);
      if (process.exitValue() != 0) {
        throw new IOException(String.join(" ", command) + ": " + text.trim());
      }
      return text;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    } finally {
      Files.deleteIfExists(output);
    }
  }
}
