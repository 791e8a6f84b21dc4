package net.hydranet.harness.trace;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import net.hydranet.forwarding.io.FrameSource;
import net.hydranet.forwarding.io.file.PcapFileSource;
import net.hydranet.forwarding.io.file.PcapFileTxPort;
import org.agrona.concurrent.UnsafeBuffer;

/** A list of frames with timestamps: written to and read from pcap files. */
public final class Trace {
  private final List<byte[]> frames = new ArrayList<>();
  private final List<Long> timestamps = new ArrayList<>();

  /** Appends a frame at {@code timestampNanos}. */
  public Trace add(long timestampNanos, byte[] frame) {
    frames.add(frame);
    timestamps.add(timestampNanos);
    return this;
  }

  public List<byte[]> frames() {
    return frames;
  }

  public long timestamp(int i) {
    return timestamps.get(i);
  }

  public int size() {
    return frames.size();
  }

  /** Writes a pcap file with nanosecond timestamps. */
  public void write(Path file) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    try (PcapFileTxPort port = new PcapFileTxPort(file)) {
      for (int i = 0; i < frames.size(); i++) {
        byte[] f = frames.get(i);
        port.send(new UnsafeBuffer(f), 0, f.length, timestamps.get(i));
      }
      port.flush();
    }
  }

  /** Reads every frame of a pcap file. */
  public static Trace read(Path file) {
    Trace trace = new Trace();
    UnsafeBuffer buffer = new UnsafeBuffer(new byte[65_536]);
    FrameSource.FrameMeta meta = new FrameSource.FrameMeta();
    try (PcapFileSource source = new PcapFileSource(file, 0)) {
      int length;
      while ((length = source.poll(buffer, 0, buffer.capacity(), meta)) != FrameSource.END) {
        if (length > 0) {
          byte[] f = new byte[length];
          buffer.getBytes(0, f);
          trace.add(meta.timestampNanos, f);
        }
      }
    }
    return trace;
  }
}
