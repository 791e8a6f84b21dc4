package net.hydranet.forwarding.wire;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The frames of a classic pcap file on the test class path (little- or big-endian, microsecond or
 * nanosecond, Ethernet link type), read with nothing but the file format so that a fixture's bytes
 * come straight from tcpdump.
 */
final class CapturedFrames {
  private CapturedFrames() {}

  static List<byte[]> read(String resource) {
    try (InputStream in = CapturedFrames.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("no such resource: " + resource);
      }
      ByteBuffer file = ByteBuffer.wrap(in.readAllBytes());
      int magic = file.order(ByteOrder.LITTLE_ENDIAN).getInt(0);
      if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) {
        file.order(ByteOrder.BIG_ENDIAN);
        magic = file.getInt(0);
      }
      if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) {
        throw new IllegalStateException(resource + " is not a pcap file");
      }
      if (file.getInt(20) != 1) {
        throw new IllegalStateException(resource + " is not an Ethernet capture");
      }
      List<byte[]> frames = new ArrayList<>();
      int at = 24;
      while (at + 16 <= file.limit()) {
        int captured = file.getInt(at + 8);
        byte[] frame = new byte[captured];
        file.get(at + 16, frame);
        frames.add(frame);
        at += 16 + captured;
      }
      return frames;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
