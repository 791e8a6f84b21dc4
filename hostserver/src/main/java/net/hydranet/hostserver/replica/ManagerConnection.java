package net.hydranet.hostserver.replica;

import static net.hydranet.hostserver.replica.ReplicaService.LOG;
import static net.hydranet.hostserver.replica.ReplicaService.format;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import net.hydranet.replica.Body;
import net.hydranet.replica.Frame;
import net.hydranet.replica.ProtocolException;
import net.hydranet.replica.Refusal;
import net.hydranet.replica.ReplicaSession;
import net.hydranet.replica.RmType;

/**
 * An authenticated manager connection of one origin: its reader thread takes each request in turn
 * to the part of the service that answers it. Any thread may send on it (the session serialises).
 */
final class ManagerConnection {
  /** Answers one kind of request, on the connection's reader thread. */
  @FunctionalInterface
  interface Handler {
    void handle(ManagerConnection c, Frame f) throws ProtocolException;
  }

  /** Who answers which request. */
  record Handlers(Handler install, Handler remove, Handler status, Handler app) {}

  final ReplicaSession session;
  final Origin origin;
  private final ReplicaCounters counters;

  ManagerConnection(ReplicaSession session, Origin origin, ReplicaCounters counters) {
    this.session = session;
    this.origin = origin;
    this.counters = counters;
  }

  /** Serves requests until the manager disconnects, breaks the protocol, or {@code open} ends. */
  void run(Handlers handlers, BooleanSupplier open) throws IOException {
    while (open.getAsBoolean()) {
      Frame f;
      try {
        f = session.receive();
      } catch (EOFException | SocketException e) {
        LOG.info("replica service: manager {} disconnected", format(origin.manager()));
        return;
      } catch (ProtocolException e) {
        counters.add(ReplicaCounter.PROTOCOL_ERRORS);
        LOG.warn("replica service: manager {}: {}", format(origin.manager()), e.getMessage());
        return;
      }
      try {
        switch (f.type()) {
          case INSTALL -> handlers.install().handle(this, f);
          case REMOVE -> handlers.remove().handle(this, f);
          case STATUS -> handlers.status().handle(this, f);
          case APP -> handlers.app().handle(this, f);
          default -> throw new ProtocolException("a manager does not send " + f.type());
        }
      } catch (ProtocolException e) {
        // A body that lies about its lengths: refuse, and end the connection as the spec says.
        counters.add(ReplicaCounter.PROTOCOL_ERRORS);
        LOG.warn("replica service: manager {}: {}", format(origin.manager()), e.getMessage());
        refuse(f.sequence(), Refusal.MALFORMED, e.getMessage());
        return;
      }
    }
  }

  /** Sends one frame; a connection that cannot take it is closed (its reader then ends). */
  void send(RmType type, byte[] body) {
    try {
      session.send(type, body);
    } catch (IOException e) {
      LOG.info("replica service: to manager {}: {}", format(origin.manager()), e.getMessage());
      close();
    }
  }

  void close() {
    try {
      session.close();
    } catch (IOException e) {
      // closing
    }
  }

  void refuse(long seq, Refusal why, String text) {
    refuse(seq, why, null, text);
  }

  /**
   * Refuses request {@code seq}; {@code field} names what was wrong (a manifest attribute, a
   * resource, "name"), or is null. Logged with reason (the refusal's name, as in {@code hydranet
   * ctl replicas} and the metrics), code (the REFUSED frame's), field and manager as keys; at info,
   * but NO_CHANNEL at debug: the manager probes a starting replica every second until its channel
   * is up, and each probe is refused so (counted all the same).
   */
  void refuse(long seq, Refusal why, String field, String text) {
    counters.refused(why);
    var event =
        (why == Refusal.NO_CHANNEL ? LOG.atDebug() : LOG.atInfo())
            .addKeyValue("reason", why.name().toLowerCase(Locale.ROOT))
            .addKeyValue("code", why.code);
    if (field != null) {
      event = event.addKeyValue("field", field);
    }
    event
        .addKeyValue("manager", format(origin.manager()))
        .log("replica service: refused a request: {}", text);
    send(RmType.REFUSED, new Body.Writer().u64(seq).u8(why.code).str(clip(text)).toByteArray());
  }

  void ok(long seq, String text) {
    send(RmType.OK, new Body.Writer().u64(seq).str(clip(text)).toByteArray());
  }

  private static String clip(String s) {
    return s.length() > 1000 ? s.substring(0, 1000) : s;
  }
}
