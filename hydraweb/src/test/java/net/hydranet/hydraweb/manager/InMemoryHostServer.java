package net.hydranet.hydraweb.manager;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import net.hydranet.hydraweb.HydraWebServer;
import net.hydranet.hydraweb.channel.ChannelFraming;
import net.hydranet.hydraweb.channel.ReplicaChannel;

/**
 * A host server in the test's process: INSTALL starts a real HydraWebServer on loopback and, after
 * a start-up delay, its ReplicaChannel on a Unix socket in a temp directory; APP payloads are
 * relayed both ways as the real host server does, and dropped while the replica's channel is not
 * connected (as the real one may).
 */
final class InMemoryHostServer implements HostServerLink.Factory {
  /** One installed replica. */
  static final class Installed {
    final String name;
    final HydraWebServer server;
    final ServerSocketChannel listener;
    volatile SocketChannel channelEnd;
    volatile ReplicaChannel channel;
    final Thread relay;

    Installed(String name, HydraWebServer server, ServerSocketChannel listener, Thread relay) {
      this.name = name;
      this.server = server;
      this.listener = listener;
      this.relay = relay;
    }
  }

  private final Path dir;
  private final long channelDelayMillis;
  final Map<String, Installed> installed = new ConcurrentHashMap<>();
  final List<String> removed = new ArrayList<>();
  final AtomicLong dropped = new AtomicLong();

  InMemoryHostServer(Path dir, long channelDelayMillis) {
    this.dir = dir;
    this.channelDelayMillis = channelDelayMillis;
  }

  Installed replica(String name) {
    return installed.get(name);
  }

  @Override
  public HostServerLink connect(ManagerConfig.HostServer hs, HostServerLink.Listener listener) {
    return new HostServerLink() {
      private volatile boolean open = true;

      @Override
      public Reply install(String name, byte[] jar, byte[] signature, Duration timeout)
          throws IOException {
        if (installed.containsKey(name)) {
          return new Reply(false, "REFUSED (NAME_IN_USE) " + name);
        }
        Path sock = Files.createDirectories(dir.resolve(name)).resolve("channel.sock");
        Files.deleteIfExists(sock);
        ServerSocketChannel l = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        l.bind(UnixDomainSocketAddress.of(sock));
        HydraWebServer server =
            new HydraWebServer(new HydraWebServer.Config().missTimeoutMillis(3000)).start();
        Installed[] self = new Installed[1];
        Thread relay =
            new Thread(
                () -> {
                  try (SocketChannel c = l.accept()) {
                    self[0].channelEnd = c;
                    byte[] p;
                    while ((p = ChannelFraming.read(c)) != null) {
                      listener.onApp(name, p);
                    }
                  } catch (IOException e) {
                    // removed
                  }
                },
                "fake-host-relay-" + name);
        relay.setDaemon(true);
        Installed i = new Installed(name, server, l, relay);
        self[0] = i;
        installed.put(name, i);
        relay.start();
        Thread starter =
            new Thread(
                () -> {
                  try {
                    Thread.sleep(channelDelayMillis); // the replica's JVM starting
                  } catch (InterruptedException e) {
                    return;
                  }
                  i.channel =
                      new ReplicaChannel(server, new ReplicaChannel.Config(sock, 20, 200, 256))
                          .start();
                });
        starter.setDaemon(true);
        starter.start();
        return new Reply(true, "OK started " + name);
      }

      @Override
      public Reply remove(String name, long drainMillis, Duration timeout) throws IOException {
        Installed i = installed.remove(name);
        if (i == null) {
          return new Reply(false, "REFUSED (NO_SUCH_REPLICA) " + name);
        }
        i.server.drain(Math.min(drainMillis, 2000));
        if (i.channel != null) {
          i.channel.close();
        }
        i.listener.close();
        SocketChannel c = i.channelEnd;
        if (c != null) {
          c.close();
        }
        synchronized (removed) {
          removed.add(name);
        }
        return new Reply(true, "OK removed " + name);
      }

      @Override
      public List<Status> status(String name, Duration timeout) {
        List<Status> l = new ArrayList<>();
        installed.keySet().forEach(n -> l.add(new Status(n, "running", n + " running")));
        return l;
      }

      @Override
      public void sendApp(String replica, byte[] payload) throws IOException {
        Installed i = installed.get(replica);
        SocketChannel c = i == null ? null : i.channelEnd;
        if (c == null) {
          dropped.incrementAndGet(); // no channel yet: the real host server refuses or drops
          return;
        }
        synchronized (c) {
          ChannelFraming.write(c, payload);
        }
      }

      @Override
      public boolean isOpen() {
        return open;
      }

      @Override
      public void close() {
        open = false;
      }
    };
  }

  void closeAll() throws IOException {
    for (Installed i : installed.values()) {
      if (i.channel != null) {
        i.channel.close();
      }
      i.server.close();
      i.listener.close();
    }
  }
}
