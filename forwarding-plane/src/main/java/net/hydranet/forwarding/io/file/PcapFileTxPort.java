package net.hydranet.forwarding.io.file;

import java.nio.file.Path;
import java.sql.Timestamp;
import net.hydranet.forwarding.io.TxPort;
import org.agrona.DirectBuffer;
import org.pcap4j.core.NotOpenException;
import org.pcap4j.core.PcapDumper;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.PcapNativeException;
import org.pcap4j.core.Pcaps;
import org.pcap4j.packet.namednumber.DataLinkType;

/**
 * Writes one interface's outgoing frames to an Ethernet pcap file, as a {@link TxPort}.
 *
 * <p>The file is written at nanosecond precision (pcap magic 0xa1b23c4d, which tcpdump, tshark and
 * libpcap read) so that timestamps survive a round trip through {@link PcapFileSource} exactly.
 * Each frame is copied into a fresh array because pcap4j's dumper takes a whole array (and
 * allocates a native header per call anyway): this port is for replay and tests, not line rate.
 */
public final class PcapFileTxPort implements TxPort {
  /** Largest frame written; also the snap length in the file header. */
  public static final int SNAP_LENGTH = 65536;

  private final Path path;
  private final PcapHandle dead;
  private final PcapDumper dumper;
  private long written;
  private long rejected;

  /**
   * Creates (or truncates) {@code path}.
   *
   * @throws PcapFileException if the file cannot be created
   */
  public PcapFileTxPort(Path path) {
    this.path = path;
    PcapHandle handle = null;
    try {
      handle = Pcaps.openDead(DataLinkType.EN10MB, SNAP_LENGTH, PcapHandle.TimestampPrecision.NANO);
      this.dumper = handle.dumpOpen(path.toString());
    } catch (PcapNativeException | NotOpenException e) {
      if (handle != null) {
        handle.close();
      }
      throw new PcapFileException(path, 0, "cannot create: " + e.getMessage(), e);
    }
    this.dead = handle;
  }

  @Override
  public boolean send(DirectBuffer buffer, int offset, int length, long timestampNanos) {
    if (length <= 0 || length > SNAP_LENGTH || !dumper.isOpen()) {
      rejected++;
      return false;
    }
    byte[] frame = new byte[length];
    buffer.getBytes(offset, frame);
    try {
      dumper.dumpRaw(frame, timestamp(timestampNanos));
    } catch (NotOpenException e) {
      rejected++;
      return false;
    }
    written++;
    return true;
  }

  @Override
  public void flush() {
    if (!dumper.isOpen()) {
      return;
    }
    try {
      dumper.flush();
    } catch (PcapNativeException | NotOpenException e) {
      throw new PcapFileException(path, written, "flush failed: " + e.getMessage(), e);
    }
  }

  /** Frames written so far. */
  public long written() {
    return written;
  }

  /** Frames refused: empty, longer than {@link #SNAP_LENGTH}, or sent after close. */
  public long rejected() {
    return rejected;
  }

  public Path path() {
    return path;
  }

  @Override
  public void close() {
    if (dumper.isOpen()) {
      flush();
      // pcap_dump_close flushes and closes the stdio stream.
      dumper.close();
    }
    dead.close();
  }

  static Timestamp timestamp(long nanos) {
    Timestamp timestamp = new Timestamp(Math.floorDiv(nanos, 1_000_000_000L) * 1000L);
    timestamp.setNanos((int) Math.floorMod(nanos, 1_000_000_000L));
    return timestamp;
  }
}
