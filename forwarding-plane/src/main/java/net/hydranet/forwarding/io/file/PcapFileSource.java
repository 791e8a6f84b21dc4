package net.hydranet.forwarding.io.file;

import java.io.EOFException;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.util.concurrent.TimeoutException;
import net.hydranet.forwarding.io.FrameSource;
import org.agrona.MutableDirectBuffer;
import org.pcap4j.core.NotOpenException;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.PcapNativeException;
import org.pcap4j.core.Pcaps;
import org.pcap4j.packet.namednumber.DataLinkType;

/**
 * Replays the Ethernet frames of a pcap or pcapng capture file as a {@link FrameSource}.
 *
 * <p>Reading goes through libpcap's offline handle, which understands both formats (libpcap ≥
 * 1.10). Each call copies one record, so it allocates the array pcap4j returns: this source is for
 * replay and tests, not for the live receive path. Timestamps are read at nanosecond precision
 * (libpcap scales microsecond files up), so a file written by {@link PcapFileTxPort} round-trips
 * exactly.
 *
 * <p>A record whose captured length is below its original length (the capture's snap length cut it)
 * is delivered as captured and counted in {@link #truncatedRecords()}: the forwarding plane's
 * header checks must see such frames, as they would from a NIC.
 */
public final class PcapFileSource implements FrameSource {
  private final Path path;
  private final int ingress;
  private final PcapHandle handle;
  private long records;
  private long oversizeSkipped;
  private long truncatedRecords;
  private boolean ended;

  /**
   * Opens {@code path}; every frame is reported as arriving on interface {@code ingress}.
   *
   * @throws PcapFileException if the file is missing or is not a capture file
   * @throws IllegalArgumentException if the capture's link type is not Ethernet (DLT_EN10MB)
   */
  public PcapFileSource(Path path, int ingress) {
    this.path = path;
    this.ingress = ingress;
    PcapHandle opened;
    try {
      opened = Pcaps.openOffline(path.toString(), PcapHandle.TimestampPrecision.NANO);
    } catch (PcapNativeException e) {
      throw new PcapFileException(path, 0, e.getMessage(), e);
    }
    DataLinkType dlt = opened.getDlt();
    if (!DataLinkType.EN10MB.equals(dlt)) {
      opened.close();
      // Only Ethernet: every element parses from an Ethernet header at the frame's start.
      throw new IllegalArgumentException(
          path
              + ": link type "
              + dlt.value()
              + " ("
              + dlt.name()
              + ") is not supported; only Ethernet (DLT_EN10MB, 1) is");
    }
    this.handle = opened;
  }

  @Override
  public int poll(MutableDirectBuffer buffer, int offset, int capacity, FrameMeta meta) {
    if (ended) {
      return END;
    }
    byte[] frame;
    long record = records + 1;
    try {
      frame = handle.getNextRawPacketEx();
    } catch (EOFException e) {
      ended = true;
      return END;
    } catch (TimeoutException e) {
      // Cannot happen offline; treat as "nothing now" rather than invent an end.
      return NONE;
    } catch (PcapNativeException e) {
      ended = true;
      throw new PcapFileException(path, record, e.getMessage(), e);
    } catch (NotOpenException e) {
      ended = true;
      throw new IllegalStateException(path + ": read after close", e);
    } catch (IllegalArgumentException e) {
      // pcap4j builds the record's Timestamp as it reads, and a fraction of a second of 10^9 or
      // more makes it throw (found by ParserFuzzTest): a corrupt record, reported like the others.
      ended = true;
      throw new PcapFileException(path, record, "bad timestamp: " + e.getMessage(), e);
    }
    records = record;
    Integer original = handle.getOriginalLength();
    if (original != null && original > frame.length) {
      truncatedRecords++;
    }
    if (frame.length > capacity) {
      // Never truncate a frame to fit: a cut frame would look like a malformed one.
      oversizeSkipped++;
      return NONE;
    }
    long timestamp;
    try {
      timestamp = nanos(handle.getTimestamp());
    } catch (IllegalArgumentException e) {
      ended = true;
      throw new PcapFileException(path, record, "bad timestamp: " + e.getMessage(), e);
    }
    buffer.putBytes(offset, frame);
    meta.timestampNanos = timestamp;
    meta.ingress = ingress;
    return frame.length;
  }

  /** Records read so far. */
  public long records() {
    return records;
  }

  /** Records longer than the poll capacity, skipped. */
  public long oversizeSkipped() {
    return oversizeSkipped;
  }

  /** Records whose captured length is below their original length on the wire. */
  public long truncatedRecords() {
    return truncatedRecords;
  }

  public Path path() {
    return path;
  }

  @Override
  public void close() {
    handle.close();
  }

  static long nanos(Timestamp timestamp) {
    // getTime() already holds the milliseconds of getNanos(); take whole seconds from it only.
    return Math.floorDiv(timestamp.getTime(), 1000L) * 1_000_000_000L + timestamp.getNanos();
  }
}
