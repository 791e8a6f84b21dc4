package net.hydranet.harness.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.element.GueEncap;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.harness.packet.PacketBuilder;
import net.hydranet.hostserver.HostServerCounter;
import net.hydranet.hostserver.HostServerPath;
import net.hydranet.hostserver.PacketSink;
import net.hydranet.hostserver.SecondChance;
import net.hydranet.hostserver.SockDiag;
import net.hydranet.hostserver.SocketTable;
import net.hydranet.hostserver.VirtualHostTable;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * What the second chance costs a host server's forwarding thread (SECOND-CHANCE.md), timed in
 * alternating rounds in one JVM: a tunnelled TCP segment injected as before (IP-in-IP or GUE, no
 * second chance), injected after the known-flow cache said "here" (IP-in-IP, GUE with a hop list),
 * and passed on after the cache said "elsewhere" (GUE: copy and new headers on to the next hop;
 * IP-in-IP: back to the redirector in IP-in-IP, outer TTL 255); then, as root, one {@code
 * sock_diag} query for an established connection and one for a 4-tuple no socket has, on loopback.
 * The sinks only count: the TUN write, the same system call either way, is left out.
 *
 * <pre>
 * java -cp … net.hydranet.harness.bench.SecondChanceCost [ROUNDS] [PAYLOAD]
 * </pre>
 */
public final class SecondChanceCost {
  private static final int PACKETS = 2_000_000;
  private static final int SELF = Ipv4Header.parseAddress("198.18.1.20");
  private static final int OTHER = Ipv4Header.parseAddress("198.18.1.21");
  private static final int REDIRECTOR = Ipv4Header.parseAddress("198.18.1.1");
  private static final int ORIGIN = Ipv4Header.parseAddress("198.18.2.10");
  private static final int CLIENT = Ipv4Header.parseAddress("198.18.0.10");

  private SecondChanceCost() {}

  static long written;

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 8;
    int payload = args.length > 1 ? Integer.parseInt(args[1]) : 100;
    byte[] inner =
        Arrays.copyOfRange(
            PacketBuilder.ethernet(0, 0)
                .ipv4(CLIENT, ORIGIN)
                .dontFragment(true)
                .tcp(40000, 80)
                .flags(0x18)
                .payload(payload)
                .build(),
            EthernetHeader.LENGTH,
            EthernetHeader.LENGTH + 20 + 20 + payload);
    byte[] ipip = frame(ipip(inner));
    byte[] gue = frame(gue(inner));
    String[] names = {
      "ipip, no second chance",
      "gue, no second chance",
      "ipip, cache: here",
      "gue, cache: here",
      "gue, cache: elsewhere",
      "ipip, cache: elsewhere"
    };
    HostServerPath[] paths = {
      path(null),
      path(null),
      path(chance(SocketTable.HELD)),
      path(chance(SocketTable.HELD)),
      path(chance(SocketTable.NOT_HELD)),
      path(chance(SocketTable.NOT_HELD))
    };
    byte[][] frames = {ipip, gue, ipip, gue, gue, ipip};
    double[][] ns = new double[names.length][rounds];
    UnsafeBuffer slot = new UnsafeBuffer(new byte[16_384]);
    for (int r = -2; r < rounds; r++) { // two rounds of warm-up
      for (int k = 0; k < names.length; k++) {
        double t = run(paths[k], frames[k], slot);
        if (r >= 0) {
          ns[k][r] = t;
        }
      }
    }
    System.out.printf(
        Locale.ROOT,
        "inner datagram %d bytes, %d rounds of %d packets, alternated%n",
        inner.length,
        rounds,
        PACKETS);
    for (int k = 0; k < names.length; k++) {
      double[] s = ns[k].clone();
      Arrays.sort(s);
      System.out.printf(
          Locale.ROOT,
          "%-26s median %6.1f ns/packet (min %6.1f, max %6.1f)%n",
          names[k],
          s[s.length / 2],
          s[0],
          s[s.length - 1]);
    }
    sockDiag(rounds);
    System.out.println("(sinks written: " + written + ")");
  }

  private static double run(HostServerPath path, byte[] frame, UnsafeBuffer slot) {
    slot.putBytes(64, frame);
    long start = System.nanoTime();
    for (int i = 0; i < PACKETS; i++) {
      path.process(slot, 64, frame.length, 0);
    }
    return (System.nanoTime() - start) / (double) PACKETS;
  }

  private static final PacketSink COUNT =
      (buffer, offset, length) -> {
        written += buffer.getByte(offset + length - 1) & 1;
        return true;
      };

  private static SecondChance chance(int answer) {
    return new SecondChance(
        SELF,
        new Counters(HostServerCounter.count()),
        (origin, originPort, client, clientPort) -> answer,
        COUNT,
        1 << 16,
        Long.MAX_VALUE / 4,
        1_000);
  }

  private static HostServerPath path(SecondChance chance) {
    VirtualHostTable table = new VirtualHostTable();
    table.addVirtualHost(ORIGIN);
    HostServerPath p =
        new HostServerPath(
            SELF, new Counters(HostServerCounter.count()), table, COUNT, 4, 1_000_000_000L, chance);
    p.tick(1_000_000_000L);
    return p;
  }

  private static byte[] ipip(byte[] inner) {
    return Arrays.copyOfRange(
        PacketBuilder.ethernet(0, 0)
            .ipv4(REDIRECTOR, SELF)
            .protocol(Ipv4Header.PROTOCOL_IPIP)
            .ipPayload(inner)
            .build(),
        EthernetHeader.LENGTH,
        EthernetHeader.LENGTH + 20 + inner.length);
  }

  private static byte[] gue(byte[] inner) {
    RedirectorTable t = new RedirectorTable(4, 4);
    t.put(ORIGIN, Ipv4Header.PROTOCOL_TCP, 80, new int[] {SELF, OTHER}, new int[] {1, 1}, 2);
    UnsafeBuffer b = new UnsafeBuffer(new byte[4096]);
    b.putBytes(128, inner);
    int hash = GueEncap.addressHash(b, 128);
    int outer =
        new GueEncap(new Counters(), null, t, 64, false, 1)
            .encapsulate(b, 128, REDIRECTOR, SELF, hash, new int[] {OTHER, REDIRECTOR}, 2);
    byte[] out = new byte[128 + inner.length - outer];
    b.getBytes(outer, out);
    return out;
  }

  private static byte[] frame(byte[] datagram) {
    byte[] f = new byte[EthernetHeader.LENGTH + datagram.length];
    f[12] = 0x08;
    System.arraycopy(datagram, 0, f, EthernetHeader.LENGTH, datagram.length);
    return f;
  }

  /** One sock_diag query, timed, in this process's own namespace on loopback (needs root). */
  private static void sockDiag(int rounds) throws IOException {
    int fd;
    try {
      fd = SockDiag.openIn(Path.of("/proc/self/ns/net"));
    } catch (IOException | RuntimeException | Error e) {
      System.out.println("sock_diag: not measured (" + e.getMessage() + ")");
      return;
    }
    InetAddress lo = InetAddress.getByName("127.0.0.1");
    int loopback = Ipv4Header.parseAddress("127.0.0.1");
    SockDiag diag = new SockDiag();
    diag.install(loopback, fd);
    try (ServerSocket server = new ServerSocket(0, 1, lo);
        Socket client = new Socket()) {
      client.connect(new InetSocketAddress(lo, server.getLocalPort()));
      try (Socket accepted = server.accept()) {
        int serverPort = server.getLocalPort();
        int clientPort = accepted.getPort(); // the client's port, as the server sees it
        if (diag.lookup(loopback, serverPort, loopback, clientPort) != SocketTable.HELD
            || diag.lookup(loopback, serverPort, loopback, clientPort ^ 1)
                != SocketTable.NOT_HELD) {
          System.out.println("sock_diag: unexpected answers, not measured");
          return;
        }
        int n = 100_000;
        double[] held = new double[rounds];
        double[] missing = new double[rounds];
        for (int r = -1; r < rounds; r++) {
          long t0 = System.nanoTime();
          for (int i = 0; i < n; i++) {
            diag.lookup(loopback, serverPort, loopback, clientPort);
          }
          long t1 = System.nanoTime();
          for (int i = 0; i < n; i++) {
            diag.lookup(loopback, serverPort, loopback, clientPort ^ 1);
          }
          long t2 = System.nanoTime();
          if (r >= 0) {
            held[r] = (t1 - t0) / (double) n;
            missing[r] = (t2 - t1) / (double) n;
          }
        }
        Arrays.sort(held);
        Arrays.sort(missing);
        System.out.printf(
            Locale.ROOT,
            "sock_diag query, socket held  median %6.2f µs (min %6.2f)%n"
                + "sock_diag query, no socket    median %6.2f µs (min %6.2f)%n",
            held[rounds / 2] / 1000,
            held[0] / 1000,
            missing[rounds / 2] / 1000,
            missing[0] / 1000);
      }
    } finally {
      diag.closeAll();
    }
  }
}
