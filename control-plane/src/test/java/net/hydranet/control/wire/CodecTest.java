package net.hydranet.control.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.function.Consumer;
import net.hydranet.control.agent.ControlAgent;
import net.hydranet.control.wire.Malformed.Refused;
import org.junit.jupiter.api.Test;

/**
 * The encoder refuses what the decoder would refuse (nothing is truncated into a 16-bit field or
 * sent only to be dropped by every receiver), and the decoder's structural refusals, one per
 * reason. The byte-exact encodings are in {@link CodecVectorsTest}.
 */
class CodecTest {
  private static final int SENDER = Addresses.parse("192.0.2.1");
  private static final int ORIGIN = Addresses.parse("198.51.100.80");
  private static final long T = 1_700_000_000_000_000L;

  private static Entry entry(int weight, int load) {
    return new Entry(ORIGIN, 6, 80, SENDER, weight, load, 0);
  }

  private static Message announce(int hold, Entry... entries) {
    return new Message(MessageType.ANNOUNCE, SENDER, T, hold, 0, List.of(entries));
  }

  private static void refusedToEncode(Message m) {
    assertThrows(IllegalArgumentException.class, () -> Codec.encodeUnsigned(m), m.toString());
  }

  @Test
  void shouldRefuseToEncodeWhatNoReceiverWouldAccept() {
    refusedToEncode(announce(50, entry(1, 0)));
    refusedToEncode(announce(70_000, entry(1, 0)));
    refusedToEncode(announce(3000, entry(Codec.MAX_WEIGHT + 1, 0)));
    refusedToEncode(announce(3000, entry(-1, 0)));
    refusedToEncode(announce(3000, entry(1, Codec.MAX_LOAD + 1)));
    refusedToEncode(announce(3000, new Entry(ORIGIN, 6, 65_536, SENDER, 1, 0, 0)));
    refusedToEncode(announce(3000, new Entry(ORIGIN, 6, 0, SENDER, 1, 0, 0)));
    refusedToEncode(announce(3000, new Entry(ORIGIN, 1, 80, SENDER, 1, 0, 0)));
    refusedToEncode(
        announce(3000, new Entry(Addresses.parse("224.0.0.1"), 6, 80, SENDER, 1, 0, 0)));
    refusedToEncode(announce(3000, entry(1, 0), entry(2, 0)));
    refusedToEncode(announce(3000, new Entry(ORIGIN, 6, 80, ORIGIN, 1, 0, 0)));
    refusedToEncode(
        new Message(
            MessageType.UPDATE,
            SENDER,
            T,
            3000,
            0,
            List.of(new Entry(ORIGIN, 6, 80, SENDER, 1, 0, Codec.INFINITY + 1))));
    refusedToEncode(new Message(MessageType.HELLO, SENDER, T, 3000, 3, List.of()));
    refusedToEncode(new Message(MessageType.KEEPALIVE, SENDER, T, 3000, 0, List.of(entry(1, 0))));
    refusedToEncode(new Message(MessageType.KEEPALIVE, SENDER, 0, 3000, 0, List.of()));
    refusedToEncode(new Message(MessageType.KEEPALIVE, 0, T, 3000, 0, List.of()));
  }

  @Test
  void shouldEncodeTheLimits() throws Refused {
    Entry[] max = new Entry[Codec.MAX_ANNOUNCE_ENTRIES];
    for (int i = 0; i < max.length; i++) {
      max[i] = new Entry(ORIGIN, 17, i + 1, SENDER, Codec.MAX_WEIGHT, Codec.MAX_LOAD, 0);
    }
    Message m = announce(0xffff, max);
    byte[] unsigned = Codec.encodeUnsigned(m);
    byte[] datagram = java.util.Arrays.copyOf(unsigned, unsigned.length + Codec.SIGNATURE);
    assertEquals(m, Codec.decode(datagram, datagram.length));
    Entry[] tooMany = java.util.Arrays.copyOf(max, max.length + 1);
    tooMany[max.length] = new Entry(ORIGIN, 6, 1, SENDER, 1, 0, 0);
    refusedToEncode(announce(3000, tooMany));
  }

  @Test
  void shouldRefuseControlSettingsTheWireCannotCarry() {
    int self = Addresses.parse("192.0.2.9");
    ControlAgent.Settings ok = ControlAgent.Settings.defaults(self);
    assertThrows(IllegalArgumentException.class, () -> ok.withHold(99));
    assertThrows(IllegalArgumentException.class, () -> ok.withHold(65_536));
    assertThrows(IllegalArgumentException.class, () -> ok.withPort(0));
    assertEquals(100, ok.withHold(100).holdMillis());
  }

  private static byte[] valid() {
    byte[] unsigned = Codec.encodeUnsigned(announce(3000, entry(100, 5)));
    return java.util.Arrays.copyOf(unsigned, unsigned.length + Codec.SIGNATURE);
  }

  private static void refused(Malformed reason, Consumer<byte[]> change) {
    byte[] d = valid();
    change.accept(d);
    Refused r = assertThrows(Refused.class, () -> Codec.decode(d, d.length));
    assertEquals(reason, r.reason(), r.getMessage());
  }

  @Test
  void shouldRefuseEachMalformationWithItsReason() {
    refused(Malformed.BAD_MAGIC, d -> d[0] = 'h');
    refused(Malformed.BAD_VERSION, d -> d[2] = 3);
    refused(Malformed.BAD_VERSION, d -> d[2] = 0);
    // A version-1 body under a version-2 header is refused by its length, never misread.
    refused(Malformed.BAD_LENGTH, d -> d[2] = 2);
    refused(Malformed.BAD_TYPE, d -> d[3] = 7);
    refused(Malformed.BAD_TYPE, d -> d[3] = 0);
    refused(Malformed.BAD_LENGTH, d -> d[19]++); // body length lies
    refused(Malformed.BAD_LENGTH, d -> d[3] = 5); // ANNOUNCE's body is no UPDATE's
    refused(Malformed.BAD_LENGTH, d -> d[3] = 2); // KEEPALIVE has no body
    refused(Malformed.BAD_LENGTH, d -> d[21] = 2); // count lies
    refused(
        Malformed.BAD_ENTRY,
        d -> {
          d[16] = 0;
          d[17] = 50; // hold 50 ms
        });
    refused(Malformed.BAD_ENTRY, d -> d[4] = (byte) 224); // multicast sender
    refused(Malformed.BAD_ENTRY, d -> d[8] = (byte) 0x80); // negative timestamp
    refused(Malformed.BAD_ENTRY, d -> d[28] = 1); // protocol 1
    refused(Malformed.BAD_ENTRY, d -> d[32] = 4); // weight 1124
    refused(Malformed.BAD_ENTRY, d -> d[35] = 101); // load 101

    byte[] d = valid();
    Refused r = assertThrows(Refused.class, () -> Codec.decode(d, d.length - 1));
    assertEquals(Malformed.BAD_LENGTH, r.reason());
    r = assertThrows(Refused.class, () -> Codec.decode(d, Codec.HEADER + Codec.SIGNATURE - 1));
    assertEquals(Malformed.TOO_SHORT, r.reason());
    r = assertThrows(Refused.class, () -> Codec.decode(new byte[1500], 1401));
    assertEquals(Malformed.TOO_LONG, r.reason());
    r = assertThrows(Refused.class, () -> Codec.decode(d, d.length + 1));
    assertEquals(Malformed.TOO_LONG, r.reason(), "a length beyond the array");
    r = assertThrows(Refused.class, () -> Codec.sender(new byte[4], 100));
    assertEquals(Malformed.TOO_LONG, r.reason(), "a length beyond the array");
  }
}
