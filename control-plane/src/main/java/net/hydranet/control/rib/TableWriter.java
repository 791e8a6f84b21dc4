package net.hydranet.control.rib;

/**
 * Where the control plane's choices go: the redirector table, through the forwarding plane's
 * single-writer command API ({@code ForwardingPlane.addRedirect} and {@code removeRedirect} fit
 * these signatures). The control plane never touches the table directly.
 */
public interface TableWriter {
  /** Replaces the service's host servers and weights (weight 0 drains). */
  void put(int origin, int protocol, int port, int[] hostServers, int[] weights);

  /** Removes the service: its traffic goes to the origin again. */
  void remove(int origin, int protocol, int port);

  /**
   * The host server's hold time expired: it is dead, and so is the state of every connection it
   * held, so the forwarding plane ({@code ForwardingPlane.hostServerDead}) releases the flows
   * pinned to it rather than keep sending them there. Called just before the writes that take it
   * out of its services (same tick): every such flow is then released and counted at its next
   * packet, whichever of the commands the forwarding thread has applied by then. Not called for a
   * goodbye: a host server that drained and left is not dead. The default ignores it.
   */
  default void hostServerDead(int hostServer) {}
}
