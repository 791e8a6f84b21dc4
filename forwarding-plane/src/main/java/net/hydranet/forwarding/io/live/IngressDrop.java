package net.hydranet.forwarding.io.live;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An nftables {@code netdev} table whose ingress chains drop frames the box's kernel need not see
 * after our capture has taken them ({@link TransitDrop} on a redirector, {@link TunnelDrop} on a
 * host server): installed whole, replacing one a killed daemon left, its drops counted, removed
 * whole. Packet taps see a frame before the ingress hook, so capture is unchanged.
 */
public final class IngressDrop implements AutoCloseable {
  private static final Pattern COUNTER = Pattern.compile("counter packets (\\d+)");
  private static final Pattern INTERFACE = Pattern.compile("[A-Za-z0-9_.@-]{1,15}");

  private final List<String> nft;
  private final String table;
  private boolean closed;

  private IngressDrop(List<String> nft, String table) {
    this.nft = nft;
    this.table = table;
  }

  /**
   * Installs {@code script} (from {@link #script}), replacing a table of the same name.
   *
   * @param nft how to run {@code nft} (a prefix such as {@code ip netns exec NS} for tests)
   * @throws IOException with nft's message if it is missing or refuses the table
   */
  static IngressDrop install(List<String> nft, String table, String script) throws IOException {
    KernelChecks.run(script.getBytes(StandardCharsets.UTF_8), command(nft, "-f", "-"));
    return new IngressDrop(List.copyOf(nft), table);
  }

  /**
   * The nft script of {@code table}: one ingress chain per interface, each with {@code rules}
   * (lines, each a match ending in {@code counter drop}). Create-then-delete first makes the delete
   * succeed whether or not a table exists.
   */
  static String script(String table, List<String> interfaces, List<String> rules) {
    StringBuilder s = new StringBuilder();
    s.append("add table netdev ").append(table).append('\n');
    s.append("delete table netdev ").append(table).append('\n');
    s.append("table netdev ").append(table).append(" {\n");
    for (int i = 0; i < interfaces.size(); i++) {
      String name = interfaces.get(i);
      if (!INTERFACE.matcher(name).matches()) {
        throw new IllegalArgumentException("interface name '" + name + "'");
      }
      s.append("  chain in").append(i).append(" {\n");
      s.append("    type filter hook ingress device \"")
          .append(name)
          .append("\" priority 0; policy accept;\n");
      for (String rule : rules) {
        s.append("    ").append(rule).append('\n');
      }
      s.append("  }\n");
    }
    s.append("}\n");
    return s.toString();
  }

  /** The table's name. */
  public String table() {
    return table;
  }

  /** Frames dropped so far on all interfaces, from the chains' counters (a process: not hot). */
  public long dropped() throws IOException {
    String out = KernelChecks.run(new byte[0], command(nft, "list", "table", "netdev", table));
    long total = 0;
    Matcher m = COUNTER.matcher(out);
    while (m.find()) {
      total += Long.parseLong(m.group(1));
    }
    return total;
  }

  /** Removes the table: the kernel sees those frames again. */
  @Override
  public void close() throws IOException {
    if (!closed) {
      closed = true;
      KernelChecks.run(new byte[0], command(nft, "delete", "table", "netdev", table));
    }
  }

  private static List<String> command(List<String> nft, String... args) {
    List<String> c = new ArrayList<>(nft);
    c.addAll(List.of(args));
    return c;
  }
}
