package net.hydranet.replica;

/** Why a host server refused a request (the REFUSED frame's reason code). */
public enum Refusal {
  MALFORMED(1, "malformed request"),
  BAD_SIGNATURE(2, "bundle signature does not verify with the origin's key"),
  BAD_MANIFEST(3, "bundle manifest is missing or invalid"),
  WRONG_ORIGIN(4, "bundle serves an address this origin is not authorised for"),
  EXCEEDS_GRANT(5, "bundle asks for more than this host server grants"),
  TOO_MANY_REPLICAS(6, "origin already runs as many replicas as it is granted"),
  NAME_IN_USE(7, "a replica of that name is installed"),
  NO_SUCH_REPLICA(8, "no replica of that name"),
  START_FAILED(9, "replica could not be started"),
  NO_CHANNEL(10, "replica has no channel open");

  private static final Refusal[] BY_CODE = new Refusal[256];

  static {
    for (Refusal r : values()) {
      BY_CODE[r.code] = r;
    }
  }

  public final int code;
  public final String meaning;

  Refusal(int code, String meaning) {
    this.code = code;
    this.meaning = meaning;
  }

  /** The refusal with this code, or MALFORMED for a code this version does not know. */
  public static Refusal of(int code) {
    Refusal r = code < 0 || code > 255 ? null : BY_CODE[code];
    return r == null ? MALFORMED : r;
  }
}
