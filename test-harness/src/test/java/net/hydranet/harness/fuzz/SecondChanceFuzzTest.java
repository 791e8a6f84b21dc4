package net.hydranet.harness.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.element.GueEncap;
import net.hydranet.forwarding.element.IpipEncap;
import net.hydranet.forwarding.element.PacketContext;
import net.hydranet.forwarding.element.TunnelToOrigin;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.GueHeader;
import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.TcpHeader;
import net.hydranet.harness.packet.PacketBuilder;
import net.hydranet.hostserver.HostServerCounter;
import net.hydranet.hostserver.HostServerPath;
import net.hydranet.hostserver.SecondChance;
import net.hydranet.hostserver.SocketTable;
import net.hydranet.hostserver.VirtualHostTable;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Fuzzes the second chance (hostserver/SECOND-CHANCE.md): the GUE decapsulation and pass-on
 * decision of three host servers and the redirector's loop guard, with hostile tunnels — hop lists
 * of any length, index and addresses (this host server, 0.0.0.0, the redirector, strangers),
 * IP-in-IP, any TCP flags, mutated bytes — and each host server holding the connection, not holding
 * it, or unable to say. Whatever a host server passes on is delivered to the node it is addressed
 * to, which decides again, until the chain ends.
 *
 * <p>Oracles: a chain ends after at most {@link GueHeader#MAX_HOPS} pass-ons (no loop, no
 * amplification: one packet out for one in, counted by the host servers' pass-on counters); every
 * pass-on is a well-formed tunnel datagram from the host server that made it, to the hop its list
 * named, its next hop one higher (or, for IP-in-IP, back to its sender in IP-in-IP, outer TTL 255,
 * and never an IP-in-IP pass-on passed on again), its inner datagram the received one byte for
 * byte; nothing is passed on for a SYN, a held connection, or by a host server that could not say;
 * the redirector forwards only a used-up list ending at its own address, or IP-in-IP, from a host
 * server of the inner flow's service, a whole TCP or UDP datagram with TTL above 1, and then the
 * inner datagram to its own destination; each frame ends in exactly one host-server outcome.
 */
class SecondChanceFuzzTest {
  static final int REDIRECTOR = Ipv4Header.parseAddress("198.18.1.1");
  static final int ORIGIN = Ipv4Header.parseAddress("198.18.2.10");
  static final int CLIENT = Ipv4Header.parseAddress("198.18.0.10");
  static final int[] HOSTS = {
    Ipv4Header.parseAddress("198.18.1.20"),
    Ipv4Header.parseAddress("198.18.1.21"),
    Ipv4Header.parseAddress("198.18.1.22")
  };
  private static final int[] ADDRESSES = {
    HOSTS[0],
    HOSTS[1],
    HOSTS[2],
    REDIRECTOR,
    ORIGIN,
    CLIENT,
    0,
    Ipv4Header.parseAddress("198.18.9.9")
  };

  /** One host server under test: its path, counters, what it injected and passed on. */
  static final class Node {
    final int address;
    final Counters counters = new Counters(HostServerCounter.count());
    final List<byte[]> injected = new ArrayList<>();
    final List<byte[]> passed = new ArrayList<>();
    final HostServerPath path;
    int mode; // the socket table's answer: HELD, NOT_HELD or UNKNOWN
    int queries;

    Node(int address) {
      this.address = address;
      VirtualHostTable table = new VirtualHostTable();
      table.addVirtualHost(ORIGIN);
      SecondChance chance =
          new SecondChance(
              address,
              counters,
              (origin, originPort, client, clientPort) -> {
                queries++;
                return mode;
              },
              (buffer, offset, length) -> {
                byte[] copy = new byte[length];
                buffer.getBytes(offset, copy);
                passed.add(copy);
                return true;
              },
              16,
              1_000_000_000L,
              1_000);
      this.path =
          new HostServerPath(
              address,
              counters,
              table,
              (buffer, offset, length) -> {
                byte[] copy = new byte[length];
                buffer.getBytes(offset, copy);
                injected.add(copy);
                return true;
              },
              2,
              1_000_000_000L,
              chance);
    }

    long count(HostServerCounter c) {
      return counters.get(c.id());
    }

    long passOns() {
      return count(HostServerCounter.PASSED_ON_HOP_1)
          + count(HostServerCounter.PASSED_ON_HOP_2)
          + count(HostServerCounter.PASSED_ON_HOP_3)
          + count(HostServerCounter.PASSED_ON_ORIGIN)
          + count(HostServerCounter.PASSED_ON_ORIGIN_NO_LIST);
    }

    long outcomes() {
      return count(HostServerCounter.NOT_TUNNELLED)
          + count(HostServerCounter.OUTER_FRAGMENTS_HELD)
          + count(HostServerCounter.DECAPSULATED)
          + count(HostServerCounter.DROP_BAD_OUTER)
          + count(HostServerCounter.DROP_OUTER_FRAGMENT)
          + count(HostServerCounter.DROP_BAD_INNER)
          + count(HostServerCounter.DROP_BAD_GUE);
    }
  }

  @FuzzTest
  void passOnChain(FuzzedDataProvider data) {
    Node[] nodes = {new Node(HOSTS[0]), new Node(HOSTS[1]), new Node(HOSTS[2])};
    RedirectorTable table = new RedirectorTable(4, 4);
    table.put(ORIGIN, Ipv4Header.PROTOCOL_TCP, 80, HOSTS.clone(), new int[] {1, 1, 0}, 3);
    Counters redirectorCounters = new Counters();
    TunnelToOrigin guard = new TunnelToOrigin(redirectorCounters, table);
    UnsafeBuffer slot = new UnsafeBuffer(new byte[16_384]);
    long now = 1_000_000_000L;
    for (int n = 0; n < 16 && data.remainingBytes() > 0; n++) {
      for (Node node : nodes) {
        node.mode =
            data.pickValue(new int[] {SocketTable.HELD, SocketTable.NOT_HELD, SocketTable.UNKNOWN});
      }
      now += data.consumeLong(0, 2_000_000_000L);
      int first = data.consumeInt(0, nodes.length - 1);
      byte[] datagram = tunnel(data, nodes[first].address);
      if (data.consumeInt(0, 7) == 0 && datagram.length > 0) {
        datagram[data.consumeInt(0, datagram.length - 1)] = data.consumeByte();
      }
      chain(nodes, first, datagram, guard, table, redirectorCounters, slot, now);
    }
  }

  /** Delivers {@code datagram} to node {@code at} and every pass-on on to its destination. */
  private static void chain(
      Node[] nodes,
      int at,
      byte[] datagram,
      TunnelToOrigin guard,
      RedirectorTable table,
      Counters redirectorCounters,
      UnsafeBuffer slot,
      long now) {
    long passOnsBefore = 0;
    for (Node node : nodes) {
      passOnsBefore += node.passOns();
    }
    long walksBefore = redirectorCounters.get(Counter.PASSED_BACK_TO_NEXT_CANDIDATE);
    int hops = 0;
    int walks = 0;
    Node node = nodes[at];
    byte[] current = datagram;
    // The host servers this packet reached: the walk never sends it to one of them again.
    List<Integer> visited = new ArrayList<>(List.of(node.address));
    while (true) {
      int passedBefore = node.passed.size();
      int injectedBefore = node.injected.size();
      long queriesBefore = node.queries;
      long rx = node.count(HostServerCounter.RX_FRAMES);
      long reassembled = node.count(HostServerCounter.OUTER_REASSEMBLED);
      byte[] frame = new byte[EthernetHeader.LENGTH + current.length];
      frame[12] = 0x08;
      System.arraycopy(current, 0, frame, EthernetHeader.LENGTH, current.length);
      slot.putBytes(128, frame);
      node.path.tick(now);
      node.path.process(slot, 128, frame.length, 0);
      if (node.count(HostServerCounter.RX_FRAMES) != rx + 1 || node.outcomes() != rx + 1) {
        throw new AssertionError("a frame without exactly one outcome");
      }
      int out = node.passed.size() - passedBefore;
      if (out > 1 || out + node.injected.size() - injectedBefore > 1) {
        throw new AssertionError("one packet in, " + out + " passed on and injected");
      }
      if (out == 0) {
        break;
      }
      byte[] passed = node.passed.get(node.passed.size() - 1);
      // A datagram reassembled from earlier fragments is not the frame in hand: checked alone.
      boolean whole = node.count(HostServerCounter.OUTER_REASSEMBLED) == reassembled;
      checkPassOn(node, whole ? current : null, passed, node.queries != queriesBefore);
      if (++hops > GueHeader.MAX_HOPS) {
        throw new AssertionError("passed on " + hops + " times: a loop");
      }
      int destination = Ipv4Header.destination(new UnsafeBuffer(passed), 0);
      Node next = null;
      for (Node candidate : nodes) {
        if (candidate.address == destination) {
          next = candidate;
        }
      }
      if (next == null) {
        byte[] walked =
            destination == REDIRECTOR ? redirector(passed, guard, table, redirectorCounters) : null;
        if (walked == null) {
          break;
        }
        // The redirector's walk: on to a host server this packet has not reached yet.
        int to = Ipv4Header.destination(new UnsafeBuffer(walked), 0);
        if (visited.contains(to)) {
          throw new AssertionError("walked back to a host server it came from: a loop");
        }
        if (++walks > GueEncap.MAX_CANDIDATES || walks >= HOSTS.length) {
          throw new AssertionError("walked " + walks + " times for " + HOSTS.length + " hosts");
        }
        visited.add(to);
        for (Node candidate : nodes) {
          if (candidate.address == to) {
            next = candidate;
          }
        }
        if (next == null) {
          throw new AssertionError("walked to no host server of the service");
        }
        passed = walked;
      }
      node = next;
      current = passed;
    }
    long passOns = -passOnsBefore;
    for (Node n : nodes) {
      passOns += n.passOns();
    }
    if (passOns != hops) {
      throw new AssertionError("pass-on counters moved by " + passOns + " for " + hops + " hops");
    }
    long walked = redirectorCounters.get(Counter.PASSED_BACK_TO_NEXT_CANDIDATE) - walksBefore;
    if (walked != walks) {
      throw new AssertionError("walk counter moved by " + walked + " for " + walks + " walks");
    }
    // No amplification: one packet out for one in, at most out and back per candidate.
    if (hops + walks > 2 * GueHeader.MAX_HOPS - 1) {
      throw new AssertionError((hops + walks) + " tunnels for one packet");
    }
  }

  /**
   * What {@code node} passed on of {@code received} (null: a reassembled datagram, not at hand) is
   * what the rules allow, and nothing else.
   */
  private static void checkPassOn(Node node, byte[] received, byte[] passed, boolean asked) {
    UnsafeBuffer out = new UnsafeBuffer(passed);
    boolean ipip = passed.length >= 20 && Ipv4Header.protocol(out, 0) == Ipv4Header.PROTOCOL_IPIP;
    if (passed.length < 20 + (ipip ? 20 : GueHeader.MIN_LENGTH)
        || !InternetChecksum.verify(out, 0, 20)
        || Ipv4Header.headerLength(out, 0) != 20
        || Ipv4Header.totalLength(out, 0) != passed.length
        || (!ipip && Ipv4Header.protocol(out, 0) != Ipv4Header.PROTOCOL_UDP)
        || Ipv4Header.source(out, 0) != node.address
        || Ipv4Header.destination(out, 0) == node.address
        || Ipv4Header.destination(out, 0) == 0) {
      throw new AssertionError("a malformed pass-on, or to itself");
    }
    if (ipip && Ipv4Header.ttl(out, 0) != IpipEncap.PASS_ON_TTL) {
      throw new AssertionError("an IP-in-IP pass-on not marked by its outer TTL");
    }
    int inner = ipip ? 20 : GueHeader.innerOffset(out, 20, passed.length - 20);
    if (inner < 0) {
      throw new AssertionError("a pass-on whose GUE does not parse");
    }
    int tcp = inner + Ipv4Header.headerLength(out, inner);
    if (Ipv4Header.protocol(out, inner) != Ipv4Header.PROTOCOL_TCP
        || (TcpHeader.flags(out, tcp) & (TcpHeader.FLAG_SYN | TcpHeader.FLAG_ACK))
            == TcpHeader.FLAG_SYN) {
      throw new AssertionError("passed on something that is not a non-SYN TCP segment");
    }
    if (node.mode != SocketTable.NOT_HELD && asked) {
      throw new AssertionError("passed on a connection its socket table held or could not say");
    }
    if (Ipv4Header.destination(out, inner) != ORIGIN) {
      throw new AssertionError("passed on a datagram for no virtual host");
    }
    if (received == null) {
      return;
    }
    UnsafeBuffer in = new UnsafeBuffer(received);
    int outerHeader = Ipv4Header.headerLength(in, 0);
    int receivedInner;
    if (Ipv4Header.protocol(in, 0) == Ipv4Header.PROTOCOL_IPIP) {
      // No list: only back to the sender, in the same tunnel, and never a pass-on again.
      if (!ipip || Ipv4Header.destination(out, 0) != Ipv4Header.source(in, 0)) {
        throw new AssertionError("an IP-in-IP segment passed on elsewhere than to its sender");
      }
      if (Ipv4Header.ttl(in, 0) > IpipEncap.MAX_REDIRECT_TTL) {
        throw new AssertionError("an IP-in-IP pass-on passed on again: a loop");
      }
      receivedInner = outerHeader;
    } else {
      if (ipip) {
        throw new AssertionError("a GUE datagram passed on in IP-in-IP");
      }
      int next = GueHeader.nextHop(out, 20);
      int count = GueHeader.hopCount(out, 20);
      int udp = outerHeader;
      int previous = GueHeader.nextHop(in, udp);
      if (next != previous + 1
          || count != GueHeader.hopCount(in, udp)
          || Ipv4Header.destination(out, 0) != GueHeader.hop(in, udp, previous)) {
        throw new AssertionError("a pass-on not to the next hop of its list");
      }
      for (int i = 0; i < count; i++) {
        if (GueHeader.hop(out, 20, i) != GueHeader.hop(in, udp, i)) {
          throw new AssertionError("a hop list changed on the way");
        }
      }
      receivedInner = GueHeader.innerOffset(in, udp, Ipv4Header.totalLength(in, 0) - udp);
    }
    byte[] innerIn =
        Arrays.copyOfRange(
            received, receivedInner, receivedInner + Ipv4Header.totalLength(in, receivedInner));
    byte[] innerOut = Arrays.copyOfRange(passed, inner, passed.length);
    if (!Arrays.equals(innerIn, innerOut)) {
      throw new AssertionError("the inner datagram changed on the way");
    }
  }

  /**
   * The redirector's guard: forwards only a used-up list of ours, or IP-in-IP, from a host server
   * of the inner flow's service, to its own destination; or walks an IP-in-IP pass-back on to
   * another host server of that service, the same on every redirector.
   *
   * @return what the redirector sends on the walk (as ForwardingPath does: the inner datagram's TTL
   *     taken, IP-in-IP to the target), or null
   */
  private static byte[] redirector(
      byte[] datagram, TunnelToOrigin guard, RedirectorTable table, Counters counters) {
    UnsafeBuffer b = new UnsafeBuffer(new byte[IpipEncap.OVERHEAD + datagram.length]);
    b.putBytes(IpipEncap.OVERHEAD, datagram);
    int at = IpipEncap.OVERHEAD;
    PacketContext p = new PacketContext();
    p.reset(null, at, datagram.length);
    p.l3 = at;
    p.available = datagram.length;
    if (!TunnelToOrigin.isTunnel(b, at, datagram.length)) {
      throw new AssertionError("a pass-on to the redirector that is not in the tunnel");
    }
    long forwarded = counters.get(Counter.TUNNELLED_TO_ORIGIN);
    int verdict = guard.process(b, p);
    // Stateless: a redirector that never saw this flow decides the same.
    UnsafeBuffer again = new UnsafeBuffer(datagram.clone());
    PacketContext q = new PacketContext();
    q.reset(null, 0, datagram.length);
    q.l3 = 0;
    q.available = datagram.length;
    if (new TunnelToOrigin(new Counters(), table).process(again, q) != verdict
        || q.target != p.target) {
      throw new AssertionError("two redirectors with one table decided a pass-back apart");
    }
    if (counters.get(Counter.TUNNELLED_TO_ORIGIN) - forwarded
        != (verdict == TunnelToOrigin.FORWARD ? 1 : 0)) {
      throw new AssertionError("tunnelled_to_origin does not count what went to the origin");
    }
    if (verdict == TunnelToOrigin.REFUSED) {
      return null;
    }
    boolean ipip = Ipv4Header.protocol(b, at) == Ipv4Header.PROTOCOL_IPIP;
    int protocol = Ipv4Header.protocol(b, p.l3);
    int service =
        table.lookup(
            p.destination,
            protocol,
            TcpHeader.destinationPort(b, p.l3 + Ipv4Header.headerLength(b, p.l3)));
    if ((ipip && p.l3 != at + 20)
        || (protocol != Ipv4Header.PROTOCOL_TCP && protocol != Ipv4Header.PROTOCOL_UDP)
        || Ipv4Header.ttl(b, p.l3) <= 1
        || service == RedirectorTable.NOT_FOUND
        || !table.hasHostServer(service, Ipv4Header.source(b, at))
        || p.destination != Ipv4Header.destination(b, p.l3)) {
      throw new AssertionError("the redirector unwrapped what no host server could have sent");
    }
    if (verdict == TunnelToOrigin.NEXT_CANDIDATE) {
      if (!ipip
          || p.service != service
          || !table.hasHostServer(service, p.target)
          || p.target == Ipv4Header.source(b, at)
          || guard.sender() != Ipv4Header.source(b, at)) {
        throw new AssertionError("walked a pass-back to no candidate, or back to its sender");
      }
      byte[] inner = new byte[p.available];
      b.getBytes(p.l3, inner);
      Ipv4Header.decrementTtl(b, p.l3);
      int outer =
          new IpipEncap(new Counters(), null, 64, false, 1)
              .encapsulate(b, p.l3, REDIRECTOR, p.target);
      byte[] walked = new byte[IpipEncap.OVERHEAD + inner.length];
      b.getBytes(outer, walked);
      UnsafeBuffer w = new UnsafeBuffer(walked);
      if (!InternetChecksum.verify(w, 20, Ipv4Header.headerLength(w, 20))
          || Ipv4Header.ttl(w, 20) != (inner[8] & 0xFF) - 1) {
        throw new AssertionError("a walked datagram with a bad inner header");
      }
      return walked;
    }
    // To the origin: a used-up list ending here, or an IP-in-IP pass-back with no candidate left.
    int udp = at + 20;
    int count = ipip ? 0 : GueHeader.hopCount(b, udp);
    if ((!ipip
            && (GueHeader.nextHop(b, udp) != count
                || GueHeader.hop(b, udp, count - 1) != REDIRECTOR))
        || p.target != 0
        || guard.sender() != (ipip ? Ipv4Header.source(b, at) : TunnelToOrigin.ANY_HOST_SERVER)) {
      throw new AssertionError("the redirector forwarded what is no pass-back for the origin");
    }
    return null;
  }

  /** A tunnelled datagram to {@code to}: GUE with a fuzzed list, IP-in-IP, or raw bytes. */
  private static byte[] tunnel(FuzzedDataProvider data, int to) {
    int kind = data.consumeInt(0, 3);
    if (kind == 3) {
      return data.consumeBytes(data.consumeInt(0, 200));
    }
    byte[] inner = innerDatagram(data);
    int source = pick(data);
    if (kind == 2) {
      // A redirector's outer TTL, or a host server's pass-on's, or anything.
      int ttl = data.pickValue(new int[] {64, IpipEncap.MAX_REDIRECT_TTL, 192, 255, -1});
      return ip(
          PacketBuilder.ethernet(0, 0)
              .ipv4(source, to)
              .ttl(ttl < 0 ? data.consumeInt(0, 255) : ttl)
              .protocol(Ipv4Header.PROTOCOL_IPIP)
              .ipPayload(inner)
              .build());
    }
    int count = data.consumeInt(0, GueHeader.MAX_HOPS + 1);
    int[] hops = new int[count];
    for (int i = 0; i < count; i++) {
      hops[i] = pick(data);
    }
    UnsafeBuffer header = new UnsafeBuffer(new byte[GueHeader.length(count)]);
    GueHeader.write(header, 0, data.consumeInt(0, 65535), inner.length, hops, count);
    GueHeader.nextHop(header, 0, data.consumeInt(0, count + 1));
    byte[] payload = new byte[header.capacity() + inner.length];
    header.getBytes(0, payload, 0, header.capacity());
    System.arraycopy(inner, 0, payload, header.capacity(), inner.length);
    return ip(
        PacketBuilder.ethernet(0, 0)
            .ipv4(source, to)
            .protocol(Ipv4Header.PROTOCOL_UDP)
            .ipPayload(payload)
            .build());
  }

  private static byte[] innerDatagram(FuzzedDataProvider data) {
    PacketBuilder b =
        PacketBuilder.ethernet(0, 0)
            .ipv4(
                data.consumeBoolean() ? CLIENT : pick(data),
                data.consumeBoolean() ? ORIGIN : pick(data))
            .ttl(data.consumeInt(0, 255));
    if (data.consumeInt(0, 3) == 0) {
      b.udp(data.consumeInt(0, 65535), data.consumeBoolean() ? GueHeader.PORT : 80);
    } else {
      b.tcp(data.consumeInt(0, 65535), 80).flags(data.consumeInt(0, 255));
    }
    return ip(b.payload(data.consumeInt(0, 64)).build());
  }

  private static byte[] ip(byte[] frame) {
    return Arrays.copyOfRange(frame, EthernetHeader.LENGTH, frame.length);
  }

  private static int pick(FuzzedDataProvider data) {
    int i = data.consumeInt(0, ADDRESSES.length);
    return i == ADDRESSES.length ? data.consumeInt() : ADDRESSES[i];
  }
}
