package net.hydranet.control.wire;

/**
 * Why a datagram was refused. Each reason is a counter; none is an exception that escapes the
 * control loop.
 */
public enum Malformed {
  TOO_SHORT,
  TOO_LONG,
  BAD_MAGIC,
  BAD_VERSION,
  BAD_TYPE,
  BAD_LENGTH,
  BAD_ENTRY,
  UNKNOWN_SENDER,
  SPOOFED_SOURCE,
  BAD_SIGNATURE,
  REPLAYED,
  STALE,
  UNAUTHORISED,
  UNEXPECTED,
  RATE_LIMITED;

  /** The counter's name: lower case. */
  public String metricName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** Thrown inside the decoder only; the agent catches it at once and counts {@link #reason}. */
  public static final class Refused extends Exception {
    private static final long serialVersionUID = 1L;
    private final Malformed reason;

    public Refused(Malformed reason, String detail) {
      super(detail, null, false, false);
      this.reason = reason;
    }

    public Malformed reason() {
      return reason;
    }
  }
}
