package net.hydranet.hydraweb.manager;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.security.PrivateKey;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;
import net.hydranet.replica.ReplicaClient;

/** {@link HostServerLink} over the replica management protocol's {@link ReplicaClient}. */
public final class ReplicaClientLink implements HostServerLink {
  private final ReplicaClient client;

  private ReplicaClientLink(ReplicaClient client) {
    this.client = client;
  }

  /**
   * Links that connect to each host server from the manager's address of its family ({@code
   * managerAddress} to IPv4 host servers, {@code managerAddress6} to IPv6 ones; either may be null
   * when no host server needs it) and sign with {@code originKey}.
   */
  public static Factory factory(
      InetAddress managerAddress, InetAddress managerAddress6, PrivateKey originKey) {
    if (managerAddress != null && !(managerAddress instanceof Inet4Address)) {
      throw new IllegalArgumentException("manager address must be IPv4: " + managerAddress);
    }
    if (managerAddress6 != null && !(managerAddress6 instanceof Inet6Address)) {
      throw new IllegalArgumentException("manager address6 must be IPv6: " + managerAddress6);
    }
    return (hostServer, listener) -> {
      boolean v4 = hostServer.address().getAddress() instanceof Inet4Address;
      InetAddress self = v4 ? managerAddress : managerAddress6;
      if (self == null) {
        throw new IOException(
            "host server "
                + hostServer
                + ": the manager has no "
                + (v4 ? "IPv4 address" : "IPv6 address (address6)")
                + " to connect from");
      }
      return new ReplicaClientLink(
          ReplicaClient.connect(
              hostServer.address(),
              self,
              originKey,
              hostServer.key(),
              listener::onApp,
              listener::onEvent));
    };
  }

  /** IPv4 only: links that connect from {@code managerAddress} and sign with {@code originKey}. */
  public static Factory factory(InetAddress managerAddress, PrivateKey originKey) {
    return factory(managerAddress, null, originKey);
  }

  @Override
  public Reply install(String name, byte[] jar, byte[] signature, Duration timeout)
      throws IOException {
    try {
      ReplicaClient.Reply r = client.install(name, jar, signature, timeout);
      return new Reply(r.ok(), r.toString());
    } catch (TimeoutException e) {
      throw new IOException("INSTALL " + name + " unanswered after " + timeout, e);
    }
  }

  @Override
  public Reply remove(String name, long drainMillis, Duration timeout) throws IOException {
    try {
      ReplicaClient.Reply r = client.remove(name, drainMillis, timeout);
      return new Reply(r.ok(), r.toString());
    } catch (TimeoutException e) {
      throw new IOException("REMOVE " + name + " unanswered after " + timeout, e);
    }
  }

  @Override
  public List<Status> status(String name, Duration timeout) throws IOException {
    try {
      return client.status(name, timeout).stream()
          .map(s -> new Status(s.name(), s.state(), s.toString()))
          .toList();
    } catch (TimeoutException e) {
      throw new IOException("STATUS unanswered after " + timeout, e);
    }
  }

  @Override
  public void sendApp(String replica, byte[] payload) throws IOException {
    client.sendApp(replica, payload);
  }

  @Override
  public boolean isOpen() {
    return client.isOpen();
  }

  @Override
  public void close() {
    client.close();
  }
}
