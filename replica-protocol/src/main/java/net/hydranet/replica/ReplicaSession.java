package net.hydranet.replica;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.SignatureException;

/**
 * One authenticated replica management connection (REPLICAS.md): both ends send HELLO with a fresh
 * nonce, then every frame is signed by its sender over the receiver's nonce and a sequence number
 * that grows by one per frame, so a frame cannot be replayed into another connection, reordered,
 * dropped or altered unseen. Sending is thread-safe; one thread receives.
 */
public final class ReplicaSession implements Closeable {
  /** The well-known TCP port a host server takes replica management connections on. */
  public static final int PORT = 6227;

  /**
   * The HELLO version an IPv4 node says (and every node before version 2); {@link Hello} has both.
   */
  public static final int VERSION = Hello.V1;

  public static final int ROLE_MANAGER = 1;
  public static final int ROLE_HOST_SERVER = 2;
  public static final int SIGNATURE = 64;
  public static final int NONCE = 16;

  /**
   * The largest HELLO frame (type, sequence, body, signature): a stranger can send no more. 108
   * bytes: a version-2 HELLO with an IPv6 address (95 for version 1).
   */
  static final int MAX_HELLO_FRAME = 1 + 8 + Hello.MAX_BODY + SIGNATURE;

  private static final byte[] CONTEXT = "HNRM1".getBytes(StandardCharsets.US_ASCII);
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Who may speak: the key of a peer that says it is {@code address} in {@code role}. */
  @FunctionalInterface
  public interface PeerKeys {
    /**
     * The peer's public key, or a {@link ProtocolException} saying why it may not connect (an
     * unknown sender, a role it may not take, an address it does not connect from).
     */
    PublicKey keyOf(InetAddress address, int role, InetAddress remote) throws ProtocolException;
  }

  private final Socket socket;
  private final DataInputStream in;
  private final DataOutputStream out;
  private final int maxFrameBytes;
  private final Signature signer;
  private final Signature verifier;
  private final byte[] ownNonce = new byte[NONCE];
  private byte[] peerNonce = new byte[NONCE];
  // Written under the lock by senders; read without it by the receiving thread.
  private volatile long sent;
  private long received;
  private InetAddress peerAddress;
  private int peerRole;
  private int peerVersion;

  private ReplicaSession(Socket socket, PrivateKey key, int maxFrameBytes) throws IOException {
    this.socket = socket;
    this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 65536));
    this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 65536));
    this.maxFrameBytes = maxFrameBytes;
    try {
      signer = Signature.getInstance("Ed25519");
      signer.initSign(key);
      verifier = Signature.getInstance("Ed25519");
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("not an Ed25519 private key: " + e.getMessage(), e);
    }
    RANDOM.nextBytes(ownNonce);
  }

  /**
   * Says HELLO on {@code socket} and authenticates the peer's HELLO. The caller sets a read timeout
   * on the socket beforehand so that a silent peer cannot hold the handshake open.
   */
  public static ReplicaSession open(
      Socket socket,
      int role,
      InetAddress selfAddress,
      PrivateKey key,
      PeerKeys peers,
      int maxFrameBytes)
      throws IOException {
    ReplicaSession s = new ReplicaSession(socket, key, maxFrameBytes);
    s.handshake(role, selfAddress, peers, 0);
    return s;
  }

  /** As the other {@code open}, for a node at the IPv4 address {@code selfAddress}. */
  public static ReplicaSession open(
      Socket socket, int role, int selfAddress, PrivateKey key, PeerKeys peers, int maxFrameBytes)
      throws IOException {
    return open(socket, role, ipv4(selfAddress), key, peers, maxFrameBytes);
  }

  /**
   * As {@link #open(Socket, int, InetAddress, PrivateKey, PeerKeys, int)}, but the peer's whole
   * HELLO must have arrived by {@code deadlineNanos} ({@link System#nanoTime}): each read waits
   * only for what is left of it, so a peer that sends a byte at a time cannot stretch the handshake
   * (a read timeout alone restarts with every byte). Throws {@link HelloTimeoutException} when it
   * passes; the socket's read timeout is left at what remained, for the caller to set.
   */
  public static ReplicaSession open(
      Socket socket,
      int role,
      InetAddress selfAddress,
      PrivateKey key,
      PeerKeys peers,
      int maxFrameBytes,
      long deadlineNanos)
      throws IOException {
    ReplicaSession s = new ReplicaSession(socket, key, maxFrameBytes);
    s.handshake(role, selfAddress, peers, deadlineNanos);
    return s;
  }

  /** As the other {@code open} with a deadline, for a node at the IPv4 address {@code self}. */
  public static ReplicaSession open(
      Socket socket,
      int role,
      int selfAddress,
      PrivateKey key,
      PeerKeys peers,
      int maxFrameBytes,
      long deadlineNanos)
      throws IOException {
    return open(socket, role, ipv4(selfAddress), key, peers, maxFrameBytes, deadlineNanos);
  }

  /** The IPv4 address {@code a} (big-endian). */
  public static InetAddress ipv4(int a) {
    try {
      return InetAddress.getByAddress(
          new byte[] {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a});
    } catch (java.net.UnknownHostException e) {
      throw new IllegalStateException("4 bytes are an address", e);
    }
  }

  /** The peer's HELLO did not arrive whole by the deadline. */
  public static final class HelloTimeoutException extends java.net.SocketTimeoutException {
    private static final long serialVersionUID = 1L;

    HelloTimeoutException(String message) {
      super(message);
    }
  }

  /**
   * Fills {@code b} from the peer by {@code deadlineNanos} (0: no deadline of our own, the socket's
   * read timeout applies per read).
   */
  private void readHello(byte[] b, long deadlineNanos) throws IOException {
    int off = 0;
    while (off < b.length) {
      if (deadlineNanos != 0) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
          throw new HelloTimeoutException("no complete HELLO by the deadline (" + off + " bytes)");
        }
        socket.setSoTimeout(
            (int) Math.max(1, Math.min(Integer.MAX_VALUE, (left + 999_999) / 1_000_000)));
      }
      int n;
      try {
        n = in.read(b, off, b.length - off);
      } catch (java.net.SocketTimeoutException e) {
        if (deadlineNanos != 0) {
          throw new HelloTimeoutException("no complete HELLO by the deadline (" + off + " bytes)");
        }
        throw e;
      }
      if (n < 0) {
        throw new EOFException("peer closed during HELLO");
      }
      off += n;
    }
  }

  private void handshake(int role, InetAddress selfAddress, PeerKeys peers, long deadlineNanos)
      throws IOException {
    // Version 1 for an IPv4 address, the same bytes as before version 2; version 2 for IPv6.
    byte[] hello = Hello.of(role, selfAddress, ownNonce).encode();
    // HELLO is signed over an all-zero nonce: the sender does not know the peer's yet.
    synchronized (this) {
      write(RmType.HELLO, 0, hello, new byte[NONCE]);
    }
    byte[] prefix = new byte[4];
    readHello(prefix, deadlineNanos);
    int length =
        ((prefix[0] & 255) << 24)
            | ((prefix[1] & 255) << 16)
            | ((prefix[2] & 255) << 8)
            | (prefix[3] & 255);
    if (length < 1 + 8 + SIGNATURE || length > MAX_HELLO_FRAME) {
      throw new ProtocolException("first frame is " + length + " bytes: not a HELLO");
    }
    byte[] frame = new byte[length];
    readHello(frame, deadlineNanos);
    if (RmType.of(frame[0] & 0xff) != RmType.HELLO) {
      throw new ProtocolException("first frame is not a HELLO");
    }
    for (int i = 1; i < 9; i++) {
      if (frame[i] != 0) {
        throw new ProtocolException("HELLO with a sequence number other than 0");
      }
    }
    Hello h = Hello.decode(java.util.Arrays.copyOfRange(frame, 9, length - SIGNATURE));
    peerRole = h.role();
    if (peerRole == role) {
      throw new ProtocolException("peer has our own role " + role);
    }
    peerAddress = h.address();
    peerVersion = h.version();
    PublicKey peerKey = peers.keyOf(peerAddress, peerRole, socket.getInetAddress());
    verify(peerKey, frame, new byte[NONCE]);
    peerNonce = h.nonce();
    received = 0;
  }

  /** The peer's address as it said in HELLO (checked by {@link PeerKeys}). */
  public InetAddress peerAddress() {
    return peerAddress;
  }

  /** The version of the peer's HELLO: 1 (IPv4) or 2. */
  public int peerVersion() {
    return peerVersion;
  }

  public int peerRole() {
    return peerRole;
  }

  public InetAddress remote() {
    return socket.getInetAddress();
  }

  /** How many frames this end has sent after HELLO: the last sequence number used. */
  public long sentCount() {
    return sent;
  }

  /** Signs and sends one frame; returns its sequence number. */
  public synchronized long send(RmType type, byte[] body) throws IOException {
    if (type == RmType.HELLO) {
      throw new IllegalArgumentException("HELLO is sent by open() alone");
    }
    long seq = ++sent;
    write(type, seq, body, peerNonce);
    return seq;
  }

  private void write(RmType type, long seq, byte[] body, byte[] nonce) throws IOException {
    byte[] head = head(type, seq);
    byte[] sig = sign(signer, head, body, nonce);
    // Streamed, not copied into one array: an INSTALL's body is the whole jar.
    out.writeInt(head.length + body.length + SIGNATURE);
    out.write(head);
    out.write(body);
    out.write(sig);
    out.flush();
  }

  private static byte[] head(RmType type, long seq) {
    byte[] head = new byte[9];
    head[0] = (byte) type.code;
    for (int i = 0; i < 8; i++) {
      head[1 + i] = (byte) (seq >>> (56 - 8 * i));
    }
    return head;
  }

  private static byte[] sign(Signature signer, byte[] head, byte[] body, byte[] nonce) {
    try {
      signer.update(CONTEXT);
      signer.update(nonce);
      signer.update(head);
      signer.update(body);
      return signer.sign();
    } catch (SignatureException e) {
      throw new IllegalStateException("signing failed", e);
    }
  }

  /**
   * One frame as {@link #write} puts it on the wire, in one array (for golden vectors): length,
   * type, sequence, body, and {@code signer}'s signature over the context, the receiver's {@code
   * nonce}, type, sequence and body.
   */
  static byte[] frame(Signature signer, RmType type, long seq, byte[] body, byte[] nonce) {
    byte[] head = head(type, seq);
    byte[] sig = sign(signer, head, body, nonce);
    return new Body.Writer()
        .u32(head.length + body.length + SIGNATURE)
        .raw(head)
        .raw(body)
        .raw(sig)
        .toByteArray();
  }

  /**
   * The next frame, authenticated and in sequence. Throws {@link EOFException} when the peer
   * closed, {@link ProtocolException} for anything it should not have sent.
   */
  public Frame receive() throws IOException {
    int length = in.readInt();
    if (length < 1 + 8 + SIGNATURE || length > maxFrameBytes) {
      throw new ProtocolException(
          "frame of "
              + length
              + " bytes (limit "
              + maxFrameBytes
              + ", least "
              + (9 + SIGNATURE)
              + ")");
    }
    byte[] frame = new byte[length];
    in.readFully(frame);
    RmType type = RmType.of(frame[0] & 0xff);
    long seq = 0;
    for (int i = 0; i < 8; i++) {
      seq = (seq << 8) | (frame[1 + i] & 0xff);
    }
    verifyWith(frame, ownNonce);
    if (type == null || type == RmType.HELLO) {
      throw new ProtocolException("unexpected frame type " + (frame[0] & 0xff));
    }
    if (seq != received + 1) {
      throw new ProtocolException("sequence " + seq + " after " + received);
    }
    received = seq;
    return new Frame(type, seq, java.util.Arrays.copyOfRange(frame, 9, length - SIGNATURE));
  }

  private PublicKey peerKey;

  private void verify(PublicKey key, byte[] frame, byte[] nonce) throws ProtocolException {
    try {
      verifier.initVerify(key);
    } catch (GeneralSecurityException e) {
      throw new ProtocolException("peer key is not Ed25519");
    }
    peerKey = key;
    verifyWith(frame, nonce);
  }

  private void verifyWith(byte[] frame, byte[] nonce) throws ProtocolException {
    int n = frame.length - SIGNATURE;
    boolean ok;
    try {
      verifier.initVerify(peerKey);
      verifier.update(CONTEXT);
      verifier.update(nonce);
      verifier.update(frame, 0, n);
      ok = verifier.verify(frame, n, SIGNATURE);
    } catch (GeneralSecurityException e) {
      ok = false;
    }
    if (!ok) {
      throw new ProtocolException("bad signature");
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  @Override
  public String toString() {
    return "replica session with " + socket.getRemoteSocketAddress();
  }
}
