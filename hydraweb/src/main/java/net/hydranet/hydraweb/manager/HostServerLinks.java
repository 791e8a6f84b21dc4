package net.hydranet.hydraweb.manager;

import static net.hydranet.hydraweb.manager.ManagerState.LOG;

import java.io.IOException;
import java.util.List;

/**
 * The manager's links to its host servers, one per host server, each (re)connected on demand with a
 * backoff; and the sending of APP payloads to a replica over its host server's link. The array and
 * the backoffs are guarded by this object's lock; connecting and sending happen outside it.
 */
final class HostServerLinks {
  private final ManagerState state;
  private final HostServerLink.Factory factory;
  private final HostServerLink.Listener listener;
  private final HostServerLink[] links;
  private final long[] nextConnectAt;
  private final long[] connectBackoff;

  HostServerLinks(
      ManagerState state, HostServerLink.Factory factory, HostServerLink.Listener listener) {
    this.state = state;
    this.factory = factory;
    this.listener = listener;
    int n = state.config.hostServers().size();
    this.links = new HostServerLink[n];
    this.nextConnectAt = new long[n];
    this.connectBackoff = new long[n];
  }

  int size() {
    return links.length;
  }

  /** The open link to {@code host}, or null. */
  synchronized HostServerLink open(int host) {
    HostServerLink l = links[host];
    return l != null && l.isOpen() ? l : null;
  }

  /** The link to {@code host}, connecting if needed (with backoff); null if unreachable. */
  HostServerLink connect(int host) {
    HostServerLink l = open(host);
    if (l != null) {
      return l;
    }
    long now = System.nanoTime();
    synchronized (this) {
      if (now - nextConnectAt[host] < 0) {
        return null;
      }
    }
    ManagerConfig.HostServer hs = state.hostServer(host);
    try {
      l = factory.connect(hs, listener);
    } catch (IOException e) {
      synchronized (this) {
        connectBackoff[host] = Math.min(30_000, Math.max(500, connectBackoff[host] * 2));
        nextConnectAt[host] = now + connectBackoff[host] * 1_000_000L;
      }
      state.logOnce("cannot connect to host server " + hs, e);
      return null;
    }
    synchronized (this) {
      HostServerLink old = links[host];
      links[host] = l;
      connectBackoff[host] = 0;
      if (old != null) {
        old.close();
      }
    }
    LOG.info("connected to host server {}", hs);
    return l;
  }

  /**
   * Sends {@code payloads} to replica {@code r} in order over its host server's open link. Without
   * one, all are counted as send failures; a send that fails is counted and ends the batch. Either
   * way nothing is lost: what is not ACKed is planned again.
   */
  void send(ManagedReplica r, List<byte[]> payloads) {
    if (payloads.isEmpty()) {
      return;
    }
    HostServerLink link = open(r.host);
    if (link == null) {
      state.count(ManagerCounter.SEND_FAILURES, payloads.size());
      return; // re-sent when the link is back and the replica has spoken again
    }
    for (byte[] p : payloads) {
      try {
        link.sendApp(r.name, p);
      } catch (IOException e) {
        state.count(ManagerCounter.SEND_FAILURES);
        state.logOnce("sending to " + r.name + " failed", e);
        return;
      }
    }
  }

  /** Closes every link. */
  synchronized void closeAll() {
    for (int i = 0; i < links.length; i++) {
      if (links[i] != null) {
        links[i].close();
        links[i] = null;
      }
    }
  }
}
