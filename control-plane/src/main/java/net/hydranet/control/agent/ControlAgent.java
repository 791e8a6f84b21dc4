package net.hydranet.control.agent;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import net.hydranet.control.auth.Gatekeeper;
import net.hydranet.control.auth.Peer;
import net.hydranet.control.auth.SessionTags;
import net.hydranet.control.auth.Signer;
import net.hydranet.control.transport.Transport;
import net.hydranet.control.wire.Addresses;
import net.hydranet.control.wire.Codec;
import net.hydranet.control.wire.Entry;
import net.hydranet.control.wire.Malformed;
import net.hydranet.control.wire.Malformed.Refused;
import net.hydranet.control.wire.Message;
import net.hydranet.control.wire.MessageType;
import org.slf4j.Logger;

/**
 * The control thread shared by the redirector's and the host server's agents: one UDP socket bound
 * to this node's control address and the well-known port (nothing wider, a {@link Transport}), a
 * loop that receives batches with a timeout up to the next tick, TTL security and {@link
 * SessionTags} in front of the work budget, a {@link TokenBucket} per sender in front of the {@link
 * Gatekeeper}, and a queue through which other threads (the virtual host scanner, {@code hydranet
 * ctl}) hand it work. Nothing else touches the agent's state.
 */
public abstract class ControlAgent implements AutoCloseable {
  /** The HYDRANET routing protocol's well-known UDP port (PROTOCOL.md). */
  public static final int PORT = 6226;

  /**
   * The default hold time: the "no more than 3 s", with room inside 3 s for a missed
   * keepalive to be noticed (one tick), the table to be rewritten and a new connection to land.
   */
  public static final int DEFAULT_HOLD_MILLIS = 2400;

  /** Expiry and sending are checked this often; failure detection is hold + at most this. */
  public static final int TICK_MILLIS = 20;

  /** Common settings. Times in milliseconds. */
  public record Settings(
      int address,
      int port,
      int holdMillis,
      int refreshMillis,
      int tickMillis,
      int ratePerSecond,
      long replayWindowMicros) {
    public Settings {
      String why = null;
      if (port < 1 || port > 0xffff) {
        why = "port " + port;
      } else if (holdMillis < Codec.MIN_HOLD_MILLIS || holdMillis > 0xffff) {
        // The hold time is a 16-bit field, and receivers refuse one under 100 ms.
        why = "hold time " + holdMillis + " ms is outside [" + Codec.MIN_HOLD_MILLIS + ", 65535]";
      } else if (refreshMillis < 1 || tickMillis < 1 || ratePerSecond < 1) {
        why = "refresh, tick and rate must be positive";
      } else if (replayWindowMicros < 1) {
        why = "replay window " + replayWindowMicros + " µs";
      }
      if (why != null) {
        throw new IllegalArgumentException("control-plane settings: " + why);
      }
    }

    public static Settings defaults(int address) {
      return new Settings(address, PORT, DEFAULT_HOLD_MILLIS, 5000, TICK_MILLIS, 2000, 30_000_000L);
    }

    public Settings withHold(int hold) {
      return new Settings(
          address, port, hold, refreshMillis, tickMillis, ratePerSecond, replayWindowMicros);
    }

    public Settings withPort(int p) {
      return new Settings(
          address, p, holdMillis, refreshMillis, tickMillis, ratePerSecond, replayWindowMicros);
    }
  }

  protected final Settings settings;
  protected final Logger log;
  protected final ControlCounters counters = new ControlCounters();
  protected final LongSupplier clock;
  private final Signer signer;
  private final Gatekeeper gatekeeper;
  private final Transport transport;
  private final SessionTags tags;

  /** Work budget per trusted sender (datagrams per second); see {@link #receive}. */
  private final int perSender;

  /** Per sender: the budget of its untagged datagrams (an older node's, or anyone's forgeries). */
  private final java.util.Map<Integer, TokenBucket> buckets = new java.util.HashMap<>();

  /** Per sender: the budget of datagrams whose tag verified, which only that sender can spend. */
  private final java.util.Map<Integer, TokenBucket> taggedBuckets = new java.util.HashMap<>();

  /**
   * Senders whose tag has verified since this node started: they are of this version, so an
   * untagged datagram in their name is a forgery (or a downgrade) and costs no signature check.
   */
  private final java.util.Set<Integer> tagging = new java.util.HashSet<>();

  /**
   * Per trusted node: the highest protocol version it said it reads (its HELLO's octet, or a
   * version-2 message it sent). Absent: not known yet, so it is sent version 1 only, and its next
   * HELLO from us asks it for its own (IPV6.md §2).
   */
  private final java.util.Map<Integer, Integer> reads = new java.util.HashMap<>();

  /** Nodes already warned about once: IPv6 entries withheld from them, or a version refused. */
  private final java.util.Set<Integer> warnedWithheld = new java.util.HashSet<>();

  private final java.util.Set<Integer> warnedVersion = new java.util.HashSet<>();

  /** The node the last HELLO went to during {@link #handle}: 0 (no node) before each. */
  private int helloSentTo;

  private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final Thread thread;
  private volatile boolean running = true;
  private long lastTimestamp;

  protected ControlAgent(
      String name, Settings settings, Signer signer, Gatekeeper gatekeeper, Logger log)
      throws IOException {
    this.settings = settings;
    this.signer = signer;
    this.gatekeeper = gatekeeper;
    this.log = log;
    this.clock = System::nanoTime;
    this.tags = new SessionTags(signer.key(), settings.address(), gatekeeper.trusted());
    this.transport = Transport.open(settings.address(), settings.port());
    if (!transport.readsTtl()) {
      for (Peer p : gatekeeper.trusted().values()) {
        if (p.ttlSecurity()) {
          transport.close();
          throw new IOException(
              "ttlSecurity for "
                  + Addresses.format(p.address())
                  + " needs the TTL of each datagram, which only the Linux transport (JNA) reads");
        }
      }
    }
    this.perSender =
        Math.max(10, settings.ratePerSecond() / Math.max(1, gatekeeper.trusted().size()));
    this.thread = new Thread(this::loop, name);
    thread.setDaemon(true);
  }

  public void start() {
    thread.start();
  }

  public ControlCounters counters() {
    return counters;
  }

  /** Runs {@code task} on the control thread. */
  public void submit(Runnable task) {
    tasks.add(task);
  }

  /** Runs {@code query} on the control thread and waits for its answer (bounded). */
  public <T> T query(Callable<T> query) throws Exception {
    CompletableFuture<T> f = new CompletableFuture<>();
    submit(
        () -> {
          try {
            f.complete(query.call());
          } catch (Exception e) {
            f.completeExceptionally(e);
          }
        });
    return f.get(2, TimeUnit.SECONDS);
  }

  private void loop() {
    long nextTick = clock.getAsLong();
    onStart();
    while (running) {
      long now = clock.getAsLong();
      try {
        if (now >= nextTick) {
          // What waits in the socket first: after a stall of this thread (a GC pause, a starved
          // core) the peers' keepalives are queued there, and expiring them before reading the
          // queue would declare live nodes lost.
          drainQueued();
          tick(clock.getAsLong());
          nextTick = now + settings.tickMillis() * 1_000_000L;
        }
        Runnable task;
        while ((task = tasks.poll()) != null) {
          task.run();
        }
        int wait = (int) Math.max(1, (nextTick - clock.getAsLong()) / 1_000_000L);
        int n = transport.receive(wait);
        for (int i = 0; i < n; i++) {
          try {
            receive(transport.data(i), transport.length(i), transport.source(i), transport.ttl(i));
          } catch (RuntimeException e) {
            log.error("control plane: unexpected error", e);
          }
        }
      } catch (IOException e) {
        if (running) {
          log.warn("control socket: {}", e.getMessage());
        }
      } catch (RuntimeException e) {
        // A bug, not bad input (bad input is refused and counted); log it and carry on.
        log.error("control plane: unexpected error", e);
      }
    }
  }

  /**
   * Handles what the socket holds now, without waiting; bounded, so a flood cannot hold the tick.
   */
  private void drainQueued() throws IOException {
    for (int round = 0; round < 64; round++) {
      int n = transport.receive(0);
      for (int i = 0; i < n; i++) {
        try {
          receive(transport.data(i), transport.length(i), transport.source(i), transport.ttl(i));
        } catch (RuntimeException e) {
          log.error("control plane: unexpected error", e);
        }
      }
      if (n == 0) {
        return;
      }
    }
  }

  /**
   * One datagram, cheapest check first (PROTOCOL.md, "Admission"): a trusted sender from its own
   * address; TTL 255 if it is directly connected; then a token from that sender's budget — the
   * budget of tagged datagrams if its tag verifies (about a microsecond, and only that sender can
   * make one), of untagged ones otherwise — and only then decoding and the Ed25519 signature.
   */
  void receive(byte[] data, int length, int from, int ttl) {
    long now = clock.getAsLong();
    counters.increment(ControlCounter.RECEIVED);
    if (from == 0) {
      counters.increment(ControlCounter.REFUSED_SPOOFED_SOURCE); // not IPv4
      return;
    }
    Message m;
    try {
      m = admit(data, length, from, ttl, now);
    } catch (Refused r) {
      refused(r, from);
      return;
    }
    if (m != null) {
      accept(m, from, now);
    }
  }

  /**
   * The admission checks of {@link #receive} in their order, the signature last: the message, or
   * null when a check before decoding refused it (counted).
   */
  private Message admit(byte[] data, int length, int from, int ttl, long now) throws Refused {
    boolean tagged = SessionTags.tagged(data, length);
    int signed = tagged ? length - SessionTags.TAG : length;
    int sender = gatekeeper.precheck(data, signed, from);
    Peer peer = gatekeeper.trusted().get(sender);
    if (peer.ttlSecurity() && ttl != 255) {
      counters.increment(ControlCounter.REFUSED_TTL_SECURITY);
      return null;
    }
    TokenBucket bucket = budget(tagged, sender, data, length, now);
    if (bucket == null) {
      return null;
    }
    if (!bucket.take(now)) {
      counters.increment(ControlCounter.REFUSED_RATE_LIMITED);
      return null;
    }
    return gatekeeper.admit(data, signed, from, wallMicros());
  }

  /**
   * The budget a datagram of {@code sender} spends: that of its tagged datagrams if its tag
   * verifies and it is fresh, of its untagged ones if it has never tagged; null (counted) if
   * neither.
   */
  private TokenBucket budget(boolean tagged, int sender, byte[] data, int length, long now) {
    if (!tagged) {
      if (tagging.contains(sender)) {
        counters.increment(ControlCounter.REFUSED_UNTAGGED);
        return null;
      }
      return bucket(buckets, sender, now); // an older node's, until its first tag
    }
    if (!tags.verify(sender, data, length)) {
      counters.increment(ControlCounter.REFUSED_BAD_TAG);
      return null;
    }
    // Authentic but possibly captured and sent again: refused before it spends the budget.
    Malformed stale = gatekeeper.freshness(sender, data, wallMicros());
    if (stale != null) {
      counters.refused(stale);
      return null;
    }
    counters.increment(ControlCounter.RECEIVED_TAGGED);
    tagging.add(sender);
    return bucket(taggedBuckets, sender, now);
  }

  /** A datagram the gatekeeper refused: counted each time, logged at debug, a version said once. */
  private void refused(Refused r, int from) {
    counters.refused(r.reason());
    if (r.reason() == Malformed.BAD_VERSION && warnedVersion.add(from)) {
      // Counted every time, said once per node: a peer of a newer protocol version, or a
      // version-1 node would misread nothing (it refuses version 2 the same way).
      log.atWarn()
          .addKeyValue("event", "bad-version")
          .addKeyValue("node", Addresses.format(from))
          .log(
              "refusing {} from {}: this node reads protocol versions {} to {}; further ones"
                  + " are only counted (refused_bad_version)",
              r.getMessage(),
              Addresses.format(from),
              Codec.VERSION,
              Codec.MAX_VERSION);
    }
    log.debug(
        "refused a datagram from {}: {} ({})", Addresses.format(from), r.reason(), r.getMessage());
  }

  /**
   * An admitted message: its unauthorised entries counted, the versions its sender reads learnt,
   * handed to {@link #handle}, and a HELLO that asks for ours answered if {@code handle} did not.
   */
  private void accept(Message m, int from, long now) {
    counters.increment(ControlCounter.ACCEPTED);
    for (int i = gatekeeper.unauthorisedEntries(); i > 0; i--) {
      counters.increment(ControlCounter.REFUSED_UNAUTHORISED);
    }
    if (gatekeeper.unauthorisedEntries() > 0) {
      log.warn(
          "{} entr(ies) from {} refused: origin did not authorise that host server",
          gatekeeper.unauthorisedEntries(),
          Addresses.format(from));
    }
    Peer peer = gatekeeper.trusted().get(m.sender());
    learnVersion(m);
    helloSentTo = 0;
    handle(m, peer, now);
    if (m.type() == MessageType.HELLO
        && m.answer()
        && m.holdMillis() != 0
        && helloSentTo != m.sender()) {
      // It does not know which version we read (it started, or we are new to it): tell it.
      send(peer, MessageType.HELLO, settings.holdMillis(), role(), List.of());
    }
  }

  /** What an admitted message says of the versions its sender reads. */
  private void learnVersion(Message m) {
    int before = reads.getOrDefault(m.sender(), 0);
    int now = before;
    if (m.type() == MessageType.HELLO) {
      // A version-1 node sends 0 there (reserved): it reads version 1. A node that reads more
      // than we do is sent what we both read.
      now = Math.max(Codec.VERSION, Math.min(Codec.MAX_VERSION, m.reads()));
    }
    if (m.version() >= Codec.VERSION_2 && m.version() > now) {
      now = m.version(); // it sent version 2, so it reads it (version 1 says nothing: any node
      // sends version 1 when the message needs nothing more)
    }
    if (now != before) {
      reads.put(m.sender(), now);
      if (now >= Codec.VERSION_2) {
        warnedWithheld.remove(m.sender()); // if it goes back to version 1, say so again
      }
      log.atInfo()
          .addKeyValue("event", "protocol-version")
          .addKeyValue("node", Addresses.format(m.sender()))
          .addKeyValue("reads", now)
          .log("{} reads protocol version {}", Addresses.format(m.sender()), now);
    }
  }

  /** The highest version {@code node} is known to read; 0 if it has not said yet. */
  public int readsVersion(int node) {
    return reads.getOrDefault(node, 0);
  }

  /** This agent's role in its HELLOs. */
  protected abstract int role();

  private TokenBucket bucket(java.util.Map<Integer, TokenBucket> of, int sender, long now) {
    TokenBucket b = of.get(sender);
    if (b == null) {
      b = new TokenBucket(perSender, perSender / 4 + 4, now);
      of.put(sender, b);
    }
    return b;
  }

  /** Called on the control thread once, before the first tick. */
  protected abstract void onStart();

  /** Called on the control thread every tick. */
  protected abstract void tick(long now);

  /** An authenticated, authorised message from a trusted peer. */
  protected abstract void handle(Message m, Peer from, long now);

  /** Microseconds since the epoch, strictly increasing: the replay guard's timestamp. */
  private long nextTimestamp() {
    long t = Math.max(wallMicros(), lastTimestamp + 1);
    lastTimestamp = t;
    return t;
  }

  private static long wallMicros() {
    java.time.Instant i = java.time.Instant.now();
    return i.getEpochSecond() * 1_000_000L + i.getNano() / 1_000;
  }

  protected void send(Peer to, MessageType type, int hold, int role, List<Entry> entries) {
    List<Entry> list = forPeer(to, type, entries);
    if (list.isEmpty() && !entries.isEmpty() && type != MessageType.ANNOUNCE) {
      return; // every entry withheld; an ANNOUNCE goes anyway: it is the complete set
    }
    Message m;
    if (type == MessageType.HELLO) {
      helloSentTo = to.address();
      m =
          new Message(
              type,
              settings.address(),
              nextTimestamp(),
              hold,
              role,
              list,
              Codec.VERSION,
              Codec.MAX_VERSION,
              !reads.containsKey(to.address()));
    } else {
      int version = hasIpv6(list) ? Codec.VERSION_2 : Codec.VERSION;
      m =
          new Message(
              type, settings.address(), nextTimestamp(), hold, role, list, version, 0, false);
    }
    byte[] datagram = tags.tag(to.address(), signer.sign(Codec.encodeUnsigned(m)));
    try {
      transport.send(datagram, datagram.length, to.address(), settings.port());
      counters.increment(ControlCounter.SENT);
    } catch (IOException e) {
      counters.increment(ControlCounter.SEND_ERRORS);
      log.debug("cannot send {} to {}: {}", type, Addresses.format(to.address()), e.getMessage());
    }
  }

  private static boolean hasIpv6(List<Entry> entries) {
    for (Entry e : entries) {
      if (!e.isIpv4()) {
        return true;
      }
    }
    return false;
  }

  /**
   * The entries {@code to} can read: all of them if it reads version 2, else the IPv4 ones. Each
   * IPv6 entry held back is counted ({@code ipv6_entries_withheld}) and the first time for a node
   * it is said, never dropped silently and never squeezed into the version-1 layout (IPV6.md §2).
   */
  private List<Entry> forPeer(Peer to, MessageType type, List<Entry> entries) {
    if (!hasIpv6(entries) || reads.getOrDefault(to.address(), 0) >= Codec.VERSION_2) {
      return entries;
    }
    List<Entry> ipv4 = new java.util.ArrayList<>(entries.size());
    for (Entry e : entries) {
      if (e.isIpv4()) {
        ipv4.add(e);
      }
    }
    int withheld = entries.size() - ipv4.size();
    counters.add(ControlCounter.IPV6_ENTRIES_WITHHELD, withheld);
    // Said once a node is known to read version 1 only; before its HELLO (at start) the entries
    // are only counted, and go to it as soon as it says it reads version 2.
    if (reads.getOrDefault(to.address(), 0) == Codec.VERSION && warnedWithheld.add(to.address())) {
      log.atWarn()
          .addKeyValue("event", "ipv6-withheld")
          .addKeyValue("node", Addresses.format(to.address()))
          .log(
              "{} reads protocol version 1 only: {} IPv6 entr(ies) of a {} withheld from it"
                  + " (counted as ipv6_entries_withheld from now on)",
              Addresses.format(to.address()),
              withheld,
              type);
    }
    return ipv4;
  }

  /** Sends entries in as many messages as they need, in the version they need. */
  protected void sendEntries(Peer to, MessageType type, List<Entry> entries) {
    List<Entry> list = forPeer(to, type, entries);
    if (list.isEmpty()) {
      if (entries.isEmpty() || type == MessageType.ANNOUNCE) {
        send(to, type, settings.holdMillis(), 0, list);
      }
      return;
    }
    int max = Codec.maxEntries(type, hasIpv6(list) ? Codec.VERSION_2 : Codec.VERSION);
    for (int i = 0; i < list.size(); i += max) {
      send(to, type, settings.holdMillis(), 0, list.subList(i, Math.min(list.size(), i + max)));
    }
  }

  public boolean isRunning() {
    return running && thread.isAlive();
  }

  @Override
  public void close() {
    running = false;
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    transport.close();
  }
}
