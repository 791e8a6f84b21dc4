/**
 * The daemons' wiring, one small class a job: {@code redirector} and {@code hostserver} hold the
 * parts their commands ({@code hydranet redirector}, {@code hydranet hostserver}) call in order;
 * this package holds what both do alike (libpcap, the control file, the second-chance port, the
 * metrics endpoint, the status file).
 */
package net.hydranet.router.daemon;
