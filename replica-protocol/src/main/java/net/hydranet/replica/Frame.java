package net.hydranet.replica;

/** One authenticated frame: its type, its sequence number in its direction, and its body. */
public record Frame(RmType type, long sequence, byte[] body) {
  /** A reader over the body. */
  public Body.Reader reader() {
    return new Body.Reader(body);
  }
}
