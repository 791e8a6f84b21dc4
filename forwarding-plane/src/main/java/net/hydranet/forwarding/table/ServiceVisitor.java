package net.hydranet.forwarding.table;

/** Receives each service index of a {@link RedirectorTable} in turn, off the hot path. */
@FunctionalInterface
public interface ServiceVisitor {
  /** Called once for each service in use; the visitor must not change the table. */
  void visit(int service);
}
