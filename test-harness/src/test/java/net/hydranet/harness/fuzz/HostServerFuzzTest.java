package net.hydranet.harness.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.ArrayList;
import java.util.List;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.harness.fixture.SampleTopology;
import net.hydranet.harness.packet.PacketBuilder;
import net.hydranet.hostserver.HostServerCounter;
import net.hydranet.hostserver.HostServerPath;
import net.hydranet.hostserver.VirtualHostTable;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Fuzzes the host server's decapsulation and outer-fragment reassembly ({@link HostServerPath})
 * with a sequence of frames: IP-in-IP to this host server, whole or in outer fragments of a few
 * datagrams (any order, overlaps, duplicates), raw frames, and time passing. A sink records what
 * would be injected into the local stack.
 *
 * <p>Oracles: every injected packet is a well-formed IPv4 datagram (version 4, valid header
 * checksum, total length equal to the bytes written) for a virtual host; no more reassembly
 * contexts are in use than configured; each frame ends in exactly one outcome counter.
 */
class HostServerFuzzTest {
  private static final int ADDRESS = SampleTopology.HOST_SERVER;
  private static final int CONTEXTS = 4;
  private static final int[] ADDRESSES = {
    ADDRESS, SampleTopology.ORIGIN, SampleTopology.HS0_IP, SampleTopology.CLIENT, 0x0A000001
  };

  /** What the path injected for the current input; cleared before each. */
  static final List<byte[]> INJECTED = new ArrayList<>();

  static final VirtualHostTable VIRTUAL_HOSTS = new VirtualHostTable();
  static final Counters COUNTERS = new Counters(HostServerCounter.count());
  private static final HostServerPath PATH = newPath(VIRTUAL_HOSTS, COUNTERS, INJECTED);
  static final UnsafeBuffer SLOT = new UnsafeBuffer(BufferUtil.allocateDirectAligned(16_384, 64));

  /** One path for the JVM, rewound to as-built before every input: see {@link Rewind}. */
  private static final Rewind AS_BUILT = Rewind.of(PATH, COUNTERS, VIRTUAL_HOSTS, SLOT);

  static HostServerPath newPath(
      VirtualHostTable virtualHosts, Counters counters, List<byte[]> injected) {
    virtualHosts.addVirtualHost(SampleTopology.ORIGIN);
    return new HostServerPath(
        ADDRESS,
        counters,
        virtualHosts,
        (buffer, offset, length) -> {
          byte[] packet = new byte[length];
          buffer.getBytes(offset, packet);
          injected.add(packet);
          return true;
        },
        CONTEXTS,
        1_000_000_000L);
  }

  /** The path as {@link #newPath} makes it, with nothing injected, without building one. */
  static HostServerPath rewoundPath() {
    AS_BUILT.restore();
    INJECTED.clear();
    return PATH;
  }

  @FuzzTest
  void frameSequence(FuzzedDataProvider data) {
    sequence(rewoundPath(), COUNTERS, VIRTUAL_HOSTS, INJECTED, SLOT, data);
  }

  /** {@link #frameSequence} on a path built by {@link #newPath} with these. */
  static void sequence(
      HostServerPath path,
      Counters counters,
      VirtualHostTable virtualHosts,
      List<byte[]> injected,
      UnsafeBuffer slot,
      FuzzedDataProvider data) {
    long now = 1_000_000_000L;
    for (int n = 0; n < 64 && data.remainingBytes() > 0; n++) {
      int op = data.consumeInt(0, 3);
      if (op == 3) {
        now += data.consumeLong(0, 3_000_000_000L);
        continue;
      }
      byte[] frame = op == 0 ? data.consumeBytes(data.consumeInt(0, 9_200)) : tunnelled(op, data);
      path.tick(now);
      int before = injected.size();
      slot.putBytes(128, frame);
      path.process(slot, 128, frame.length, 0);
      for (byte[] packet : injected.subList(before, injected.size())) {
        checkInjected(packet, virtualHosts);
      }
      if (path.reassembler().inUse() > CONTEXTS) {
        throw new AssertionError("reassembly contexts " + path.reassembler().inUse());
      }
      long outcomes =
          counters.get(HostServerCounter.NOT_TUNNELLED.id())
              + counters.get(HostServerCounter.OUTER_FRAGMENTS_HELD.id())
              + counters.get(HostServerCounter.DECAPSULATED.id())
              + counters.get(HostServerCounter.DROP_BAD_OUTER.id())
              + counters.get(HostServerCounter.DROP_OUTER_FRAGMENT.id())
              + counters.get(HostServerCounter.DROP_BAD_INNER.id())
              + counters.get(HostServerCounter.DROP_BAD_GUE.id());
      if (outcomes != counters.get(HostServerCounter.RX_FRAMES.id())) {
        throw new AssertionError("outcomes " + outcomes + " != rx_frames");
      }
    }
  }

  /** IP-in-IP with a fuzzed inner datagram; op 2 sends it as one outer fragment. */
  private static byte[] tunnelled(int op, FuzzedDataProvider data) {
    byte[] inner;
    if (data.consumeBoolean()) {
      inner =
          PacketBuilder.ethernet(0, 0)
              .ipv4(SampleTopology.CLIENT, pick(data))
              .ttl(data.consumeInt(0, 255))
              .udp(data.consumeInt(0, 65535), 53)
              .payload(data.consumeInt(0, 9_000))
              .build();
      inner = java.util.Arrays.copyOfRange(inner, EthernetHeader.LENGTH, inner.length);
    } else {
      inner = data.consumeBytes(data.consumeInt(0, 9_000));
    }
    PacketBuilder outer =
        PacketBuilder.ethernet(SampleTopology.HS0_MAC, SampleTopology.HOST_SERVER_MAC)
            .ipv4(SampleTopology.HS0_IP, pick(data))
            .id(data.consumeInt(0, 3));
    if (op == 2) {
      int offset = 8 * data.consumeInt(0, 1_200);
      int length = data.consumeInt(0, 1_480);
      int from = Math.min(offset, inner.length);
      byte[] piece =
          java.util.Arrays.copyOfRange(inner, from, Math.min(inner.length, from + length));
      outer.moreFragments(data.consumeBoolean()).fragmentOffset(offset).ipPayload(piece);
    } else {
      outer.ipPayload(inner);
    }
    byte[] frame = outer.build();
    if (data.consumeInt(0, 7) == 0) {
      frame[data.consumeInt(0, frame.length - 1)] = data.consumeByte();
    }
    return frame;
  }

  private static int pick(FuzzedDataProvider data) {
    int i = data.consumeInt(0, ADDRESSES.length);
    return i == ADDRESSES.length ? data.consumeInt() : ADDRESSES[i];
  }

  private static void checkInjected(byte[] packet, VirtualHostTable virtualHosts) {
    UnsafeBuffer b = new UnsafeBuffer(packet);
    if (packet.length < Ipv4Header.MIN_LENGTH || Ipv4Header.version(b, 0) != 4) {
      throw new AssertionError("injected a packet that is not IPv4");
    }
    int ihl = Ipv4Header.headerLength(b, 0);
    if (ihl < Ipv4Header.MIN_LENGTH || ihl > packet.length) {
      throw new AssertionError("injected IHL " + ihl);
    }
    if (!InternetChecksum.verify(b, 0, ihl)) {
      throw new AssertionError("injected a bad header checksum");
    }
    if (Ipv4Header.totalLength(b, 0) != packet.length) {
      throw new AssertionError("injected total length != bytes written");
    }
    if (!virtualHosts.isVirtualHost(Ipv4Header.destination(b, 0))) {
      throw new AssertionError("injected a packet for no virtual host");
    }
  }
}
