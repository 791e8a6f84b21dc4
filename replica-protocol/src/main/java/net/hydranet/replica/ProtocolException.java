package net.hydranet.replica;

import java.io.IOException;

/** A peer broke the replica management protocol: the connection is closed, the reason logged. */
public class ProtocolException extends IOException {
  private static final long serialVersionUID = 1L;

  public ProtocolException(String message) {
    super(message);
  }
}
