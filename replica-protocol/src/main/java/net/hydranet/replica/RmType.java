package net.hydranet.replica;

/** The replica management protocol's frame types (REPLICAS.md, "Frames"). */
public enum RmType {
  HELLO(0),
  INSTALL(1),
  REMOVE(2),
  STATUS(3),
  APP(4),
  OK(16),
  REFUSED(17),
  STATUS_REPLY(18),
  EVENT(19);

  private static final RmType[] BY_CODE = new RmType[256];

  static {
    for (RmType t : values()) {
      BY_CODE[t.code] = t;
    }
  }

  public final int code;

  RmType(int code) {
    this.code = code;
  }

  /** The type with this code, or null. */
  public static RmType of(int code) {
    return code < 0 || code > 255 ? null : BY_CODE[code];
  }
}
