/**
 * Fixed-capacity forwarding tables: {@link net.hydranet.forwarding.table.RedirectorTable}
 * (replicated service to host servers, with per-service counters and a {@link
 * net.hydranet.forwarding.table.Maglev} lookup table each), {@link
 * net.hydranet.forwarding.table.FlowTable} (the bounded LRU connection table consulted before the
 * consistent hash) and {@link net.hydranet.forwarding.table.RouteTable} (IPv4 longest-prefix
 * match).
 *
 * <p>Each table is allocated whole at construction, changed only by the forwarding thread as it
 * drains its command queue, and read on the per-packet path without allocating or locking. Each has
 * a plain reference implementation in the tests that the fast one is checked against.
 */
package net.hydranet.forwarding.table;
