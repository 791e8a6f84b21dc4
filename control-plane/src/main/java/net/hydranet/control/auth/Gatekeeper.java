package net.hydranet.control.auth;

import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.Signature;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import net.hydranet.control.wire.Codec;
import net.hydranet.control.wire.Entry;
import net.hydranet.control.wire.Malformed;
import net.hydranet.control.wire.Malformed.Refused;
import net.hydranet.control.wire.Message;
import net.hydranet.control.wire.MessageType;

/**
 * Everything a datagram must pass before the protocol acts on it, cheapest check first so that junk
 * costs no cryptography: size, a trusted sender, the datagram's source address equal to the sender,
 * well-formed, not replayed, a valid Ed25519 signature by that sender's key, a message type the
 * sender's role may send; the timestamp is recorded once the signature verifies. Then each
 * announced entry whose origin did not authorise its host server is dropped and counted, while the
 * rest of the message stands. Not thread-safe: the control thread owns it.
 */
public final class Gatekeeper {
  private final Map<Integer, Peer> trusted;
  private final Authorisations authorisations;
  private final ReplayGuard replay;
  private final Signature verifier;

  public Gatekeeper(Map<Integer, Peer> trusted, Authorisations authorisations, long windowMicros) {
    this.trusted = Map.copyOf(trusted);
    this.authorisations = authorisations;
    this.replay = new ReplayGuard(windowMicros);
    try {
      this.verifier = Signature.getInstance("Ed25519");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK has no Ed25519", e);
    }
  }

  /** The message, admitted; or a {@link Refused} naming why not. */
  public Message admit(byte[] data, int length, int sourceAddress, long nowMicros) throws Refused {
    Peer peer = trusted.get(precheck(data, length, sourceAddress));
    int sender = peer.address();
    Message m = Codec.decode(data, length);
    Malformed stale = replay.check(sender, m.timestamp(), nowMicros);
    if (stale != null) {
      throw new Refused(stale, "timestamp " + m.timestamp());
    }
    if (!verify(peer, data, length)) {
      throw new Refused(Malformed.BAD_SIGNATURE, "signature does not verify");
    }
    replay.accept(sender, m.timestamp());
    checkRole(peer, m);
    unauthorised = 0;
    if (m.type() == MessageType.WITHDRAW || m.entries().isEmpty()) {
      return m;
    }
    List<Entry> allowed = new ArrayList<>(m.entries().size());
    for (Entry e : m.entries()) {
      if (e.distance() >= Codec.INFINITY || authorisations.allowed(e.service(), e.hostServer())) {
        allowed.add(e);
      } else {
        unauthorised++;
      }
    }
    if (unauthorised == 0) {
      return m;
    }
    // Authentic, but some entries claim origins that did not authorise their host server: those
    // are dropped and counted, the rest stand — one misconfigured virtual host must not withdraw
    // every other service its host server announces.
    return new Message(m.type(), m.sender(), m.timestamp(), m.holdMillis(), m.role(), allowed);
  }

  private int unauthorised;

  /** How many entries of the last admitted message were dropped as unauthorised. */
  public int unauthorisedEntries() {
    return unauthorised;
  }

  /**
   * The checks that cost no parsing and no cryptography — size, a trusted sender, the source
   * address equal to it — so the agent can spend its per-sender work budget only on datagrams that
   * name a trusted sender from that sender's address.
   *
   * @return the sender
   */
  public int precheck(byte[] data, int length, int sourceAddress) throws Refused {
    if (length > Codec.MAX_DATAGRAM) {
      throw new Refused(Malformed.TOO_LONG, length + " bytes");
    }
    int sender = Codec.sender(data, length);
    if (!trusted.containsKey(sender)) {
      throw new Refused(Malformed.UNKNOWN_SENDER, "sender " + sender);
    }
    if (sourceAddress != sender) {
      throw new Refused(Malformed.SPOOFED_SOURCE, "source differs from sender");
    }
    return sender;
  }

  /**
   * The replay check alone, before any decoding: why the timestamp of a datagram from {@code
   * sender} (already prechecked) is refused, or null. For datagrams whose tag verified, so that a
   * captured and replayed one is refused before it spends the sender's budget.
   */
  public Malformed freshness(int sender, byte[] data, long nowMicros) {
    long timestamp = 0;
    for (int i = 8; i < 16; i++) {
      timestamp = timestamp << 8 | (data[i] & 0xff);
    }
    return replay.check(sender, timestamp, nowMicros);
  }

  private boolean verify(Peer peer, byte[] data, int length) {
    try {
      verifier.initVerify(peer.key());
      verifier.update(data, 0, length - Codec.SIGNATURE);
      return verifier.verify(data, length - Codec.SIGNATURE, Codec.SIGNATURE);
    } catch (InvalidKeyException e) {
      return false;
    } catch (java.security.SignatureException e) {
      return false;
    }
  }

  private static void checkRole(Peer peer, Message m) throws Refused {
    boolean ok =
        switch (m.type()) {
          case ANNOUNCE, WITHDRAW -> peer.role() == Message.ROLE_HOST_SERVER;
          case UPDATE -> peer.role() == Message.ROLE_REDIRECTOR;
          case HELLO -> m.role() == peer.role();
          case KEEPALIVE, REQUEST -> true;
        };
    if (!ok) {
      throw new Refused(Malformed.UNEXPECTED, m.type() + " from this peer's role");
    }
  }

  public Map<Integer, Peer> trusted() {
    return trusted;
  }
}
