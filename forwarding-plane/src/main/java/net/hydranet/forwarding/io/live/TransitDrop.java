package net.hydranet.forwarding.io.live;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Has the box's own kernel drop, at ingress, the IPv4 and IPv6 frames the router forwards (those
 * not addressed to the box): an nftables {@code netdev} table with one ingress chain per interface.
 *
 * <p>Why: with {@code ip_forward=0} the kernel still runs IP input — a route lookup, then {@code
 * ip_error} — on every frame pcap hands us, about 1.1 µs a frame on this class of machine (shared
 * notes, "Where a pcap router's time goes"), often inside our own transmit's softirq. Packet taps
 * see a frame before the ingress hook, so capture is unchanged. {@code fib daddr type} follows the
 * box's addresses as they change: frames to the box itself, its broadcasts and multicast still go
 * up its stack (the control plane, ARP is not IPv4 anyway). The table is per network namespace; a
 * stale one from a killed redirector is replaced at the next start.
 */
public final class TransitDrop implements AutoCloseable {
  /** The table's name: one per network namespace, which holds one redirector. */
  public static final String TABLE = "hydranet_transit";

  private static final Pattern COUNTER = Pattern.compile("counter packets (\\d+)");

  private final List<String> nft;
  private boolean closed;

  private TransitDrop(List<String> nft) {
    this.nft = nft;
  }

  /**
   * Installs the drop on {@code interfaces}, replacing a table left by an earlier run.
   *
   * @param nft how to run {@code nft} (a prefix such as {@code ip netns exec NS} for tests)
   * @throws IOException with nft's message if it is missing or refuses the table
   */
  public static TransitDrop install(List<String> nft, List<String> interfaces) throws IOException {
    KernelChecks.run(script(interfaces).getBytes(StandardCharsets.UTF_8), command(nft, "-f", "-"));
    return new TransitDrop(List.copyOf(nft));
  }

  /** The nft script: create-then-delete makes the delete succeed whether or not a table exists. */
  static String script(List<String> interfaces) {
    StringBuilder s = new StringBuilder();
    s.append("add table netdev ").append(TABLE).append('\n');
    s.append("delete table netdev ").append(TABLE).append('\n');
    s.append("table netdev ").append(TABLE).append(" {\n");
    for (int i = 0; i < interfaces.size(); i++) {
      String name = interfaces.get(i);
      if (!name.matches("[A-Za-z0-9_.@-]{1,15}")) {
        throw new IllegalArgumentException("interface name '" + name + "'");
      }
      s.append("  chain in").append(i).append(" {\n");
      s.append("    type filter hook ingress device \"")
          .append(name)
          .append("\" priority 0; policy accept;\n");
      s.append("    meta protocol ip fib daddr type != { local, broadcast, multicast }")
          .append(" counter drop\n");
      // IPv6 the same (no broadcast there): neighbour discovery and the box's own addresses,
      // link-local ones included, still go up the stack.
      s.append("    meta protocol ip6 fib daddr type != { local, multicast } counter drop\n");
      s.append("  }\n");
    }
    s.append("}\n");
    return s.toString();
  }

  /** Frames dropped so far on all interfaces, from the chains' counters (a process: not hot). */
  public long dropped() throws IOException {
    String out = KernelChecks.run(new byte[0], command(nft, "list", "table", "netdev", TABLE));
    long total = 0;
    Matcher m = COUNTER.matcher(out);
    while (m.find()) {
      total += Long.parseLong(m.group(1));
    }
    return total;
  }

  /** Removes the table: the kernel runs IP input on transit frames again. */
  @Override
  public void close() throws IOException {
    if (!closed) {
      closed = true;
      KernelChecks.run(new byte[0], command(nft, "delete", "table", "netdev", TABLE));
    }
  }

  private static List<String> command(List<String> nft, String... args) {
    List<String> c = new ArrayList<>(nft);
    c.addAll(List.of(args));
    return c;
  }
}
