package net.hydranet.hydraweb.manager;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * The manager's connection to one host server, as much of it as the manager needs: {@link
 * ReplicaClientLink} is the real one (the replica management protocol); tests use an in-memory host
 * server. Requests may come from any thread; the listener is called on the link's own thread.
 */
public interface HostServerLink extends AutoCloseable {
  /** The answer to INSTALL or REMOVE. */
  record Reply(boolean ok, String text) {}

  /** What the host server sends unasked. */
  interface Listener {
    /** An APP payload from {@code replica}; must not block. */
    void onApp(String replica, byte[] payload);

    /** News of a replica: {@code state} is one of REPLICAS.md's states. */
    void onEvent(String replica, String state, String text);
  }

  /** Opens links; one per host server. */
  @FunctionalInterface
  interface Factory {
    HostServerLink connect(ManagerConfig.HostServer hostServer, Listener listener)
        throws IOException;
  }

  Reply install(String name, byte[] jar, byte[] signature, Duration timeout) throws IOException;

  Reply remove(String name, long drainMillis, Duration timeout) throws IOException;

  /** A replica as the host server reports it; {@code text} is a readable line of the rest. */
  record Status(String name, String state, String text) {}

  /** This origin's replicas on the host server ({@code name} empty), or the one named. */
  List<Status> status(String name, Duration timeout) throws IOException;

  /** Relays {@code payload} to the replica's channel (dropped by the host if it is not up). */
  void sendApp(String replica, byte[] payload) throws IOException;

  boolean isOpen();

  @Override
  void close();
}
