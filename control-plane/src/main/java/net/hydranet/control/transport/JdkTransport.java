package net.hydranet.control.transport;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import net.hydranet.control.wire.Addresses;

/**
 * The portable transport: a {@link DatagramSocket}, one datagram a call. It cannot read a
 * datagram's TTL nor set the unicast TTL, so TTL security is off with it.
 */
public final class JdkTransport implements Transport {
  private final DatagramSocket socket;
  private final byte[] buffer = new byte[2048];
  private final DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
  private int source;

  public JdkTransport(int address, int port) throws IOException {
    InetAddress bind = InetAddress.getByAddress(ByteBuffer.allocate(4).putInt(address).array());
    socket = new DatagramSocket(null);
    socket.setReuseAddress(true);
    try {
      socket.setReceiveBufferSize(RECEIVE_BUFFER);
      socket.bind(new InetSocketAddress(bind, port));
    } catch (IOException e) {
      socket.close();
      throw new IOException(
          "cannot bind the control socket to "
              + Addresses.format(address)
              + ":"
              + port
              + ": "
              + e.getMessage(),
          e);
    }
  }

  @Override
  public int receive(int timeoutMillis) throws IOException {
    socket.setSoTimeout(Math.max(1, timeoutMillis)); // 0 would mean "for ever"
    packet.setLength(buffer.length);
    try {
      socket.receive(packet);
    } catch (SocketTimeoutException e) {
      return 0;
    }
    source =
        packet.getAddress() instanceof Inet4Address a
            ? ByteBuffer.wrap(a.getAddress()).getInt()
            : 0; // not IPv4: refused as a spoofed source
    return 1;
  }

  @Override
  public byte[] data(int i) {
    return buffer;
  }

  @Override
  public int length(int i) {
    return packet.getLength();
  }

  @Override
  public int source(int i) {
    return source;
  }

  @Override
  public int ttl(int i) {
    return TTL_UNKNOWN;
  }

  @Override
  public boolean readsTtl() {
    return false;
  }

  @Override
  public void send(byte[] datagram, int length, int address, int port) throws IOException {
    InetAddress dst = InetAddress.getByAddress(ByteBuffer.allocate(4).putInt(address).array());
    socket.send(new DatagramPacket(datagram, length, dst, port));
  }

  @Override
  public void close() {
    socket.close();
  }
}
