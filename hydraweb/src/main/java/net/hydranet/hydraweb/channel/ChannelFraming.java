package net.hydranet.hydraweb.channel;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import net.hydranet.replica.ProtocolException;

/**
 * The replica's channel framing: {@code u32 length, payload}, big-endian, payload ≤ {@link
 * AppCodec#MAX_PAYLOAD}. For blocking channels; the length is checked before the payload's buffer
 * is allocated.
 */
public final class ChannelFraming {
  private ChannelFraming() {}

  /** The next payload, or null at a clean end of stream (between frames). */
  public static byte[] read(ReadableByteChannel ch) throws IOException {
    ByteBuffer head = ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN);
    if (!fill(ch, head, true)) {
      return null;
    }
    long length = head.getInt(0) & 0xffffffffL;
    if (length > AppCodec.MAX_PAYLOAD) {
      throw new ProtocolException(
          "channel frame of " + length + " bytes exceeds " + AppCodec.MAX_PAYLOAD);
    }
    ByteBuffer payload = ByteBuffer.allocate((int) length);
    fill(ch, payload, false);
    return payload.array();
  }

  private static boolean fill(ReadableByteChannel ch, ByteBuffer b, boolean endOk)
      throws IOException {
    while (b.hasRemaining()) {
      int n = ch.read(b);
      if (n < 0) {
        if (endOk && b.position() == 0) {
          return false;
        }
        throw new EOFException("channel closed inside a frame");
      }
    }
    return true;
  }

  /** Writes one frame; the caller serialises writers. */
  public static void write(WritableByteChannel ch, byte[] payload) throws IOException {
    if (payload.length > AppCodec.MAX_PAYLOAD) {
      throw new IllegalArgumentException("payload of " + payload.length + " bytes is too large");
    }
    ByteBuffer b = ByteBuffer.allocate(4 + payload.length).order(ByteOrder.BIG_ENDIAN);
    b.putInt(payload.length).put(payload).flip();
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }
}
