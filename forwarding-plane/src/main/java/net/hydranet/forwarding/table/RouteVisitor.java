package net.hydranet.forwarding.table;

/** Receives each route index of a {@link RouteTable} in turn, off the hot path. */
@FunctionalInterface
public interface RouteVisitor {
  /** Called once for each route in use; the visitor must not change the table. */
  void visit(int route);
}
