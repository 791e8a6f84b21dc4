package net.hydranet.control.wire;

/** The message types of the HYDRANET routing protocol (PROTOCOL.md, "Messages"). */
public enum MessageType {
  /** Opens an adjacency; carries the sender's role. Answered with a HELLO and a full dump. */
  HELLO(1),
  /** Liveness only; every message also refreshes the sender's hold time. */
  KEEPALIVE(2),
  /** Host server to redirector: the complete set of its service access points. */
  ANNOUNCE(3),
  /** Host server to redirector: these service access points are gone, now. */
  WITHDRAW(4),
  /** Redirector to redirector: routes with their distance; distance 255 withdraws. */
  UPDATE(5),
  /** "Send me everything you have": a redirector that just started asks its peers. */
  REQUEST(6);

  private static final MessageType[] BY_CODE = new MessageType[7];

  static {
    for (MessageType t : values()) {
      BY_CODE[t.code] = t;
    }
  }

  private final int code;

  MessageType(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  /** The type with this code, or null. */
  public static MessageType of(int code) {
    return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
  }
}
