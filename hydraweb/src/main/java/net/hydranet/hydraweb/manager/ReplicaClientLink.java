package net.hydranet.hydraweb.manager;

import java.io.IOException;
import java.net.Inet4Address;
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

  /** Links that connect from {@code managerAddress} and sign with {@code originKey}. */
  public static Factory factory(InetAddress managerAddress, PrivateKey originKey) {
    if (!(managerAddress instanceof Inet4Address)) {
      throw new IllegalArgumentException("manager address must be IPv4: " + managerAddress);
    }
    byte[] b = managerAddress.getAddress();
    int self = ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
    return (hostServer, listener) ->
        new ReplicaClientLink(
            ReplicaClient.connect(
                hostServer.address(),
                self,
                originKey,
                hostServer.key(),
                listener::onApp,
                listener::onEvent));
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
