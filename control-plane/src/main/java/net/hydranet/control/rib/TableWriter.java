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
}
