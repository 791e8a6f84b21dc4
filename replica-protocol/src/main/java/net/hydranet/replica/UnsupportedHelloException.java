package net.hydranet.replica;

/**
 * A HELLO of a version or an address family this node does not read: refused and counted apart from
 * a malformed or forged one, since it is a peer to upgrade (or a configuration to change), not an
 * attack.
 */
public final class UnsupportedHelloException extends ProtocolException {
  private static final long serialVersionUID = 1L;

  public UnsupportedHelloException(String message) {
    super(message);
  }
}
