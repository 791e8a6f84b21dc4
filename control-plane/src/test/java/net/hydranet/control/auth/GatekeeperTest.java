package net.hydranet.control.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.security.KeyPair;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.hydranet.control.wire.Addresses;
import net.hydranet.control.wire.Codec;
import net.hydranet.control.wire.Entry;
import net.hydranet.control.wire.Malformed;
import net.hydranet.control.wire.Malformed.Refused;
import net.hydranet.control.wire.Message;
import net.hydranet.control.wire.MessageType;
import org.junit.jupiter.api.Test;

/** Every refusal of {@link Gatekeeper#admit}, one reason at a time, beside what it admits. */
class GatekeeperTest {
  private static final int HS = Addresses.parse("192.0.2.1");
  private static final int RD = Addresses.parse("192.0.2.2");
  private static final int ORIGIN = Addresses.parse("198.51.100.80");
  private static final int OTHER_ORIGIN = Addresses.parse("203.0.113.80");
  private static final long T = 1_700_000_000_000_000L;
  private static final long WINDOW = 30_000_000L;

  private final KeyPair hsKey = Keys.generate();
  private final KeyPair rdKey = Keys.generate();
  private final Signer hs = new Signer(hsKey.getPrivate());
  private final Signer rd = new Signer(rdKey.getPrivate());
  private final Gatekeeper gatekeeper =
      new Gatekeeper(
          Map.of(
              HS, new Peer(HS, Message.ROLE_HOST_SERVER, hsKey.getPublic(), 1),
              RD, new Peer(RD, Message.ROLE_REDIRECTOR, rdKey.getPublic(), 1)),
          new Authorisations(List.of(new Authorisations.Rule(ORIGIN & 0xffffff00, 24, Set.of(HS)))),
          WINDOW);

  private static Entry entry(int origin, int hostServer, int distance) {
    return new Entry(origin, 6, 80, hostServer, 100, 0, distance);
  }

  private static byte[] announce(Signer s, int sender, long t, int origin) {
    return s.sign(
        Codec.encodeUnsigned(
            new Message(
                MessageType.ANNOUNCE, sender, t, 3000, 0, List.of(entry(origin, sender, 0)))));
  }

  private Message admit(byte[] d, int source, long now) throws Refused {
    return gatekeeper.admit(d, d.length, source, now);
  }

  private void refused(Malformed reason, byte[] d, int source, long now) {
    Refused r = assertThrows(Refused.class, () -> admit(d, source, now));
    assertEquals(reason, r.reason(), r.getMessage());
  }

  @Test
  void shouldAdmitAnAuthorisedAnnouncementSignedByItsSender() throws Refused {
    Message m = admit(announce(hs, HS, T, ORIGIN), HS, T);
    assertEquals(List.of(entry(ORIGIN, HS, 0)), m.entries());
  }

  @Test
  void shouldRefuseASignatureByAnotherKey() {
    refused(Malformed.BAD_SIGNATURE, announce(rd, HS, T, ORIGIN), HS, T);
    byte[] flipped = announce(hs, HS, T, ORIGIN);
    flipped[flipped.length - 1] ^= 1;
    refused(Malformed.BAD_SIGNATURE, flipped, HS, T);
    byte[] changed = announce(hs, HS, T, ORIGIN);
    changed[35] = 99; // the load, after signing
    refused(Malformed.BAD_SIGNATURE, changed, HS, T);
  }

  @Test
  void shouldNotLetAForgeryAdvanceTheReplayGuard() throws Refused {
    refused(Malformed.BAD_SIGNATURE, announce(rd, HS, T + 10, ORIGIN), HS, T);
    admit(announce(hs, HS, T + 5, ORIGIN), HS, T);
  }

  @Test
  void shouldRefuseTheSameDatagramTwice() throws Refused {
    byte[] d = announce(hs, HS, T, ORIGIN);
    admit(d, HS, T);
    refused(Malformed.REPLAYED, d, HS, T + 1);
  }

  @Test
  void shouldRefuseAnOlderTimestampThanTheLastAdmitted() throws Refused {
    admit(announce(hs, HS, T, ORIGIN), HS, T);
    refused(Malformed.REPLAYED, announce(hs, HS, T - 1, ORIGIN), HS, T);
    admit(announce(hs, HS, T + 1, ORIGIN), HS, T);
  }

  @Test
  void shouldRefuseATimestampOutsideTheWindowEvenWhenNothingWasHeardBefore() throws Refused {
    // A receiver that restarted knows no last timestamp: only the window protects it.
    refused(Malformed.STALE, announce(hs, HS, T - WINDOW - 1, ORIGIN), HS, T);
    refused(Malformed.STALE, announce(hs, HS, T + WINDOW + 1, ORIGIN), HS, T);
    admit(announce(hs, HS, T - WINDOW, ORIGIN), HS, T);
  }

  @Test
  void shouldRefuseAnUnknownSender() {
    int stranger = Addresses.parse("192.0.2.66");
    refused(Malformed.UNKNOWN_SENDER, announce(hs, stranger, T, ORIGIN), stranger, T);
  }

  @Test
  void shouldRefuseASourceAddressOtherThanTheSender() {
    refused(Malformed.SPOOFED_SOURCE, announce(hs, HS, T, ORIGIN), RD, T);
  }

  @Test
  void shouldDropOnlyTheEntriesWhoseOriginDidNotAuthoriseTheHostServer() throws Refused {
    byte[] mixed =
        hs.sign(
            Codec.encodeUnsigned(
                new Message(
                    MessageType.ANNOUNCE,
                    HS,
                    T,
                    3000,
                    0,
                    List.of(entry(ORIGIN, HS, 0), entry(OTHER_ORIGIN, HS, 0)))));
    Message m = admit(mixed, HS, T);
    assertEquals(List.of(entry(ORIGIN, HS, 0)), m.entries(), "the authorised entry stands");
    assertEquals(1, gatekeeper.unauthorisedEntries());
    // A redirector may not pass on a route to an unauthorised host server either...
    byte[] update =
        rd.sign(
            Codec.encodeUnsigned(
                new Message(MessageType.UPDATE, RD, T, 3000, 0, List.of(entry(ORIGIN, RD, 1)))));
    assertEquals(List.of(), admit(update, RD, T).entries());
    assertEquals(1, gatekeeper.unauthorisedEntries());
    // ...but may withdraw anything (distance 255), and a host server may withdraw anything.
    byte[] poison =
        rd.sign(
            Codec.encodeUnsigned(
                new Message(
                    MessageType.UPDATE,
                    RD,
                    T + 1,
                    3000,
                    0,
                    List.of(entry(OTHER_ORIGIN, RD, Codec.INFINITY)))));
    admit(poison, RD, T);
    byte[] withdraw =
        hs.sign(
            Codec.encodeUnsigned(
                new Message(
                    MessageType.WITHDRAW,
                    HS,
                    T + 1,
                    3000,
                    0,
                    List.of(entry(OTHER_ORIGIN, HS, 0)))));
    admit(withdraw, HS, T);
  }

  @Test
  void shouldRefuseWhatTheSendersRoleMayNotSend() {
    refused(Malformed.UNEXPECTED, announce(rd, RD, T, ORIGIN), RD, T);
    byte[] update =
        hs.sign(
            Codec.encodeUnsigned(
                new Message(
                    MessageType.UPDATE, HS, T + 1, 3000, 0, List.of(entry(ORIGIN, HS, 1)))));
    refused(Malformed.UNEXPECTED, update, HS, T);
    byte[] hello =
        hs.sign(
            Codec.encodeUnsigned(
                new Message(
                    MessageType.HELLO, HS, T + 2, 3000, Message.ROLE_REDIRECTOR, List.of())));
    refused(Malformed.UNEXPECTED, hello, HS, T);
  }

  @Test
  void shouldRefuseOversizeAndUndersizeDatagrams() {
    byte[] d = announce(hs, HS, T, ORIGIN);
    byte[] big = Arrays.copyOf(d, Codec.MAX_DATAGRAM + 1);
    refused(Malformed.TOO_LONG, big, HS, T);
    refused(Malformed.TOO_SHORT, Arrays.copyOf(d, Codec.HEADER + Codec.SIGNATURE - 1), HS, T);
    Refused r = assertThrows(Refused.class, () -> gatekeeper.admit(d, d.length + 1, HS, T));
    assertEquals(Malformed.TOO_LONG, r.reason(), "a length beyond the array");
  }

  @Test
  void shouldRefuseAMalformedMessageBeforeAnyCryptography() {
    byte[] d = announce(hs, HS, T, ORIGIN);
    d[3] = 9;
    refused(Malformed.BAD_TYPE, d, HS, T);
  }
}
