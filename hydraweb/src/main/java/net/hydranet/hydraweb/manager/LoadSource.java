package net.hydranet.hydraweb.manager;

import java.io.IOException;

/** The origin's load, for placement. */
@FunctionalInterface
public interface LoadSource {
  /** Requests per second over the time since the last call; NaN when not known yet. */
  double requestsPerSecond() throws IOException;

  /** No load source: placement acts on its minimum replica count only. */
  LoadSource NONE = () -> Double.NaN;
}
