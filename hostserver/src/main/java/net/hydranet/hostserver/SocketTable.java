package net.hydranet.hostserver;

/**
 * Whether a virtual host holds a TCP socket for a connection: the truth the second chance asks for
 * (SECOND-CHANCE.md). Live, a netlink {@code sock_diag} query in the virtual host's network
 * namespace ({@link SockDiag}); in tests, a set. Called on the forwarding thread only.
 */
public interface SocketTable {
  /** The virtual host has a socket for the connection (any state but LISTEN). */
  int HELD = 1;

  /** It has none: the connection lives elsewhere, or nowhere. */
  int NOT_HELD = 0;

  /** No answer (no table for this virtual host, an error): the caller takes the packet locally. */
  int UNKNOWN = -1;

  /**
   * @param origin the virtual host's (origin's) address: the connection's local side
   * @return {@link #HELD}, {@link #NOT_HELD} or {@link #UNKNOWN}
   */
  int lookup(int origin, int originPort, int client, int clientPort);
}
