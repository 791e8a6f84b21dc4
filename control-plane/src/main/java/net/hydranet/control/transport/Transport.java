package net.hydranet.control.transport;

import java.io.IOException;

/**
 * The control plane's UDP socket, bound to one IPv4 address and port: receives datagrams in
 * batches, each with its source address and — where the platform tells — the IPv4 TTL it arrived
 * with (for the generalised TTL security mechanism, RFC 5082), and sends with TTL 255. Used by the
 * control thread only.
 */
public interface Transport extends AutoCloseable {
  /** {@link #ttl} when the transport cannot read the TTL. */
  int TTL_UNKNOWN = -1;

  /** Receive buffer asked of the kernel: a flood's burst waits here rather than being dropped. */
  int RECEIVE_BUFFER = 4 << 20;

  /**
   * Waits at most {@code timeoutMillis} (0: not at all) for datagrams and receives what is queued,
   * up to the batch.
   *
   * @return how many were received (0 on timeout); read each with {@link #data}, {@link #length},
   *     {@link #source}, {@link #ttl}, valid until the next call
   */
  int receive(int timeoutMillis) throws IOException;

  /** The i-th datagram's bytes (the array may be longer than it). */
  byte[] data(int i);

  int length(int i);

  /** Its IPv4 source address. */
  int source(int i);

  /** The TTL it arrived with, or {@link #TTL_UNKNOWN}. */
  int ttl(int i);

  /** Whether {@link #ttl} is known: false means TTL security cannot be enforced here. */
  boolean readsTtl();

  void send(byte[] datagram, int length, int address, int port) throws IOException;

  @Override
  void close();

  /**
   * The Linux transport (JNA: recvmmsg with IP_RECVTTL, sent with TTL 255) where it can be loaded,
   * else the JDK's socket, which reads no TTL.
   */
  static Transport open(int address, int port) throws IOException {
    if (LinuxUdpTransport.available()) {
      return new LinuxUdpTransport(address, port);
    }
    return new JdkTransport(address, port);
  }
}
