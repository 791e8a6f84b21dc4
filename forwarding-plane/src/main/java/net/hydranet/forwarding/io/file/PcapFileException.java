package net.hydranet.forwarding.io.file;

import java.nio.file.Path;

/**
 * A capture file that cannot be read or written, reported in one line naming the file and record.
 *
 * <p>Unchecked because {@link net.hydranet.forwarding.io.FrameSource#poll} declares no checked
 * exceptions; the caller ends the replay and prints {@link #getMessage()} instead of a stack trace.
 */
public final class PcapFileException extends RuntimeException {
  private final Path path;
  private final long record;

  /**
   * @param record the 1-based record number that failed, or 0 for the file header
   */
  public PcapFileException(Path path, long record, String reason, Throwable cause) {
    super(message(path, record, reason), cause);
    this.path = path;
    this.record = record;
  }

  public Path path() {
    return path;
  }

  /** The 1-based record number that failed, or 0 when the file header (or open) failed. */
  public long record() {
    return record;
  }

  private static String message(Path path, long record, String reason) {
    // libpcap's own text sometimes ends in a newline; keep the message to one line.
    String oneLine = reason == null ? "unknown error" : reason.strip().replace('\n', ' ');
    return record == 0
        ? path + ": file header: " + oneLine
        : path + ": record " + record + ": " + oneLine;
  }
}
