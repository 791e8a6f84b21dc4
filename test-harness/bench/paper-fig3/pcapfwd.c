// The ceiling of the pcap approach: a plain C libpcap forwarder between two interfaces, one thread
// per direction: pcap_dispatch on the ingress handle, TTL decrement with an incremental checksum
// update (RFC 1624), MAC rewrite, pcap_inject on the egress handle. No routing table: everything
// IPv4 that arrives on A goes to MAC_B_PEER out of B, and back. Immediate mode, 32 MiB buffers,
// kernel filter "inbound and ip and not dst host <own address>" (frames for the box itself and
// ARP are left to the kernel). Counters on SIGINT/SIGTERM.
// With an IPv6 address after the IPv4 one (OWN = "V4,V6"), IPv6 is forwarded too: the filter adds
// "ip6 and not ip6 multicast and not dst net fe80::/10 and not dst host V6" (neighbour discovery
// and everything for the box stays with the kernel), and the hop limit is decremented (IPv6 has no
// header checksum). A hop limit or TTL of 1 or less is dropped, as in IPv4.
//   pcapfwd [--tx-ring] IF_A OWN_A PEER_MAC_A IF_B OWN_B PEER_MAC_B
// With --tx-ring, frames leave the way HydraNet's do by default: copied into a PACKET_TX_RING
// (TPACKET_V2, 2 KiB slots) of a socket of their own, one send(2) per pcap_dispatch batch, the
// capture set to PACKET_IGNORE_OUTGOING; frames longer than a slot go through pcap_inject.
// With --redirect DST PORT HS HS_MAC, the pcap approach's ceiling for redirection: an IPv4 TCP or
// UDP packet for DST:PORT arriving on IF_A is put in IP-in-IP (RFC 2003: outer source OWN_A, outer
// destination HS, TTL 64, DF and TOS copied) and sent back out of IF_A to HS_MAC, by the thread
// that captured it (with --tx-ring through a transmit ring of its own on IF_A); everything else is
// forwarded as above. No MSS clamp, no fragmentation: a packet that does not fit 1500 bytes with
// the outer header is counted and dropped (the replica behind the C host server advertises an MSS
// that fits, as HydraNet's virtual host does).
// With --decap, the C host server: one thread captures "inbound and ip proto 4 and dst host OWN"
// on IF_IN, strips Ethernet and the outer header and writes the inner packet behind a new Ethernet
// header (to PEER_MAC, from IF_OUT's MAC) into a PACKET_TX_RING on IF_OUT, one send(2) per batch:
// what HydraNet's host server does onto a virtual host's link (ARCHITECTURE.md). Needs --tx-ring.
//   pcapfwd [--tx-ring] [--redirect DST PORT HS HS_MAC] IF_A OWN_A PEER_MAC_A IF_B OWN_B PEER_MAC_B
//   pcapfwd --tx-ring --decap IF_IN OWN IF_OUT PEER_MAC
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>

struct side {
  const char *name;
  const char *own;
  uint8_t mac[6];      /* this interface's MAC (source of frames sent out of it) */
  uint8_t peer[6];     /* the next hop's MAC out of this interface */
  pcap_t *p;
  struct side *out;
  unsigned long fwd, err, kicks, tunnelled;
  /* transmit ring (--tx-ring): written by the thread that captures on the other side */
  int txfd;
  uint8_t *ring;
  unsigned next, pending;
  struct side *back;   /* --redirect: the transmit side on this same interface, toward HS */
};

#define TX_FRAME 2048
#define TX_FRAMES 512
#define TX_DATA 32 /* TPACKET_ALIGN(sizeof(struct tpacket2_hdr)) */
static int use_ring;
static int redirect;                    /* --redirect: the service and where it is tunnelled */
static uint8_t r_dst[4], r_src[4], r_hs[4];
static uint16_t r_port;

static void tx_open(struct side *s) {
  int fd = socket(AF_PACKET, SOCK_RAW, 0), v = TPACKET_V2, one = 1;
  struct tpacket_req req = {1 << 16, TX_FRAMES * TX_FRAME / (1 << 16), TX_FRAME, TX_FRAMES};
  struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(s->name)};
  if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) ||
      setsockopt(fd, SOL_PACKET, PACKET_LOSS, &one, sizeof one) ||
      setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof req)) { perror("tx ring"); exit(2); }
  s->ring = mmap(NULL, TX_FRAMES * TX_FRAME, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (s->ring == MAP_FAILED || bind(fd, (struct sockaddr *)&ll, sizeof ll)) { perror("tx ring"); exit(2); }
  if (s->p && setsockopt(pcap_get_selectable_fd(s->p), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one)) {
    perror("PACKET_IGNORE_OUTGOING"); exit(2);
  }
  s->txfd = fd;
}

static void tx_kick(struct side *s) {
  if (s->pending == 0) return;
  s->pending = 0; s->kicks++;
  if (send(s->txfd, NULL, 0, MSG_DONTWAIT) < 0) s->err++;
}

/* The next free slot's data for a frame of len bytes, or NULL (too long, or the ring full after a
 * kick); tx_commit hands it to the kernel. */
static uint8_t *tx_slot(struct side *s, unsigned len) {
  struct tpacket2_hdr *h = (struct tpacket2_hdr *)(s->ring + (size_t)s->next * TX_FRAME);
  if (len > TX_FRAME - TX_DATA) return NULL;
  if (atomic_load_explicit((_Atomic uint32_t *)&h->tp_status, memory_order_acquire) != TP_STATUS_AVAILABLE) {
    tx_kick(s);
    if (atomic_load_explicit((_Atomic uint32_t *)&h->tp_status, memory_order_acquire) != TP_STATUS_AVAILABLE) return NULL;
  }
  return (uint8_t *)h + TX_DATA;
}

static void tx_commit(struct side *s, unsigned len) {
  struct tpacket2_hdr *h = (struct tpacket2_hdr *)(s->ring + (size_t)s->next * TX_FRAME);
  h->tp_len = len;
  atomic_store_explicit((_Atomic uint32_t *)&h->tp_status, TP_STATUS_SEND_REQUEST, memory_order_release);
  s->next = (s->next + 1) % TX_FRAMES;
  s->pending++;
}

static int tx_offer(struct side *s, const uint8_t *f, unsigned len) {
  if (len > TX_FRAME - TX_DATA) { tx_kick(s); return pcap_inject(s->p, f, len) < 0 ? -1 : 0; }
  uint8_t *d = tx_slot(s, len);
  if (!d) return -1;
  memcpy(d, f, len);
  tx_commit(s, len);
  return 0;
}

/* --redirect: is this frame an IPv4 TCP or UDP packet (first fragment) for DST:PORT? */
static int for_service(const uint8_t *f, unsigned len) {
  const uint8_t *ip = f + 14;
  if (f[12] != 0x08 || f[13] != 0x00 || len < 14 + 20) return 0;
  unsigned ihl = (ip[0] & 0x0f) * 4u;
  if (memcmp(ip + 16, r_dst, 4) != 0 || (ip[9] != 6 && ip[9] != 17) || ihl < 20 || len < 14 + ihl + 4) return 0;
  if (((ip[6] & 0x1f) << 8 | ip[7]) != 0) return 0;
  return (ip[ihl + 2] << 8 | ip[ihl + 3]) == r_port;
}

/* The tunnel's 34 bytes at o (Ethernet to HS from this interface, the outer IPv4 header) for an
 * inner packet of n bytes. */
static void tunnel_header(const struct side *s, uint8_t *o, const uint8_t *inner, unsigned n) {
  uint8_t *ip = o + 14;
  unsigned tot = n + 20;
  uint32_t sum = 0;
  memcpy(o, s->peer, 6); memcpy(o + 6, s->mac, 6); o[12] = 0x08; o[13] = 0x00;
  ip[0] = 0x45; ip[1] = inner[1]; ip[2] = tot >> 8; ip[3] = tot & 0xff;
  ip[4] = ip[5] = 0; ip[6] = inner[6] & 0x40; ip[7] = 0;
  ip[8] = 64; ip[9] = 4; ip[10] = ip[11] = 0;
  memcpy(ip + 12, r_src, 4); memcpy(ip + 16, r_hs, 4);
  for (int i = 0; i < 20; i += 2) sum += (uint32_t)ip[i] << 8 | ip[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  ip[10] = (uint8_t)(~sum >> 8); ip[11] = (uint8_t)~sum;
}

static int tunnel(struct side *s, const uint8_t *f, unsigned len) {
  unsigned n = len - 14;
  if (n + 20 > 1500) return -1;            /* the ceiling neither fragments nor answers */
  if (!use_ring) {
    uint8_t buf[1514];
    tunnel_header(s, buf, f + 14, n);
    memcpy(buf + 34, f + 14, n);
    return pcap_inject(s->p, buf, n + 34) < 0 ? -1 : 0;
  }
  uint8_t *d = tx_slot(s, n + 34);
  if (!d) return -1;
  tunnel_header(s, d, f + 14, n);
  memcpy(d + 34, f + 14, n);
  tx_commit(s, n + 34);
  return 0;
}

static volatile sig_atomic_t stop;
static pcap_t *volatile decap_p;       /* --decap: its loop runs on the thread the signal interrupts */
static void on_signal(int s) {
  (void)s;
  stop = 1;
  if (decap_p) pcap_breakloop(decap_p);   /* safe in a handler; wakes libpcap's poll */
}

static int parse_mac(const char *s, uint8_t m[6]) {
  return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6
             ? 0 : -1;
}

static void read_mac(const char *ifname, uint8_t m[6]) {
  char path[256], buf[64];
  snprintf(path, sizeof path, "/sys/class/net/%s/address", ifname);
  FILE *f = fopen(path, "r");
  if (!f || !fgets(buf, sizeof buf, f) || parse_mac(buf, m)) { fprintf(stderr, "no MAC for %s\n", ifname); exit(2); }
  fclose(f);
}

/* Compiles expr and attaches it to the capture's socket directly, not through pcap_setfilter:
 * after pcap_setfilter, libpcap 1.10 runs the ring's next frame through its user-space copy of
 * the filter, which cannot evaluate the kernel's packet-type load behind "inbound" and rejects
 * it, so the first frame to arrive on each interface after start was lost (every C forwarder
 * block lost its first connection). HydraNet's capture attaches its filter the same way
 * (LivePcapSource.setFilter). Returns 0, or -1 with the reason on stderr. */
static int attach_filter(pcap_t *p, const char *name, const char *expr) {
  struct bpf_program prog;
  if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN)) {
    fprintf(stderr, "%s: filter: %s\n", name, pcap_geterr(p)); return -1;
  }
  /* struct bpf_insn and the kernel's struct sock_filter are the same instructions */
  struct sock_fprog fprog = {(unsigned short)prog.bf_len, (struct sock_filter *)prog.bf_insns};
  int rc = prog.bf_len > 0xffff
           || setsockopt(pcap_get_selectable_fd(p), SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog);
  if (rc) fprintf(stderr, "%s: attaching filter: %s\n", name, prog.bf_len > 0xffff ? "too long" : strerror(errno));
  pcap_freecode(&prog);
  return rc ? -1 : 0;
}

static pcap_t *open_if(struct side *s) {
  char err[PCAP_ERRBUF_SIZE], filter[512], own4[64];
  pcap_t *p = pcap_create(s->name, err);
  if (!p) { fprintf(stderr, "%s: %s\n", s->name, err); exit(2); }
  pcap_set_snaplen(p, 65535);
  pcap_set_promisc(p, 0);
  pcap_set_immediate_mode(p, 1);
  pcap_set_buffer_size(p, 32 << 20);
  if (pcap_activate(p) < 0) { fprintf(stderr, "%s: %s\n", s->name, pcap_geterr(p)); exit(2); }
  const char *v6 = strchr(s->own, ',');     /* "V4" or "V4,V6" */
  snprintf(own4, sizeof own4, "%.*s", v6 ? (int)(v6 - s->own) : (int)strlen(s->own), s->own);
  if (v6)
    snprintf(filter, sizeof filter,
             "inbound and ((ip and not dst host %s) or"
             " (ip6 and not ip6 multicast and not dst net fe80::/10 and not dst host %s))", own4, v6 + 1);
  else
    snprintf(filter, sizeof filter, "inbound and ip and not dst host %s", own4);
  if (attach_filter(p, s->name, filter)) exit(2);
  return p;
}

static void handle(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes) {
  struct side *in = (struct side *)user, *out = in->out;
  if (h->caplen != h->len || h->caplen < 34) return;
  uint8_t *f = (uint8_t *)bytes;               /* libpcap's ring slot; ours until we return */
  uint8_t *ip = f + 14;
  if (in->back && for_service(f, h->caplen)) {
    if (tunnel(in->back, f, h->caplen) < 0) in->err++;
    else in->tunnelled++;
    return;
  }
  if (f[12] == 0x86 && f[13] == 0xdd) {        /* IPv6: hop limit -1, no header checksum */
    if (h->caplen < 54 || ip[7] <= 1) return;  /* expired: a real router sends ICMPv6 */
    ip[7]--;
  } else {
    if (ip[8] <= 1) return;                    /* TTL expired: a real router sends ICMP */
    ip[8]--;                                   /* TTL -1: checksum +0x0100 (RFC 1624) */
    uint32_t sum = ((uint32_t)ip[10] << 8 | ip[11]) + 0x0100;
    sum = (sum & 0xffff) + (sum >> 16);
    ip[10] = sum >> 8; ip[11] = sum & 0xff;
  }
  memcpy(f, out->peer, 6);
  memcpy(f + 6, out->mac, 6);
  if ((use_ring ? tx_offer(out, f, h->caplen) : pcap_inject(out->p, f, h->caplen)) < 0) in->err++;
  else in->fwd++;
}

/* --decap: the inner packet of an IP-in-IP frame onto IF_OUT's ring. */
static void decap(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes) {
  struct side *in = (struct side *)user, *out = in->out;
  const uint8_t *f = bytes;
  if (h->caplen != h->len || h->caplen < 14 + 20 + 20 || f[12] != 0x08 || f[13] != 0x00) { in->err++; return; }
  unsigned ihl = (f[14] & 0x0f) * 4u;
  if (f[23] != 4 || ihl < 20 || h->caplen < 14 + ihl + 20 || ((f[20] & 0x3f) << 8 | f[21]) != 0
      || f[14 + ihl] >> 4 != 4) { in->err++; return; }
  unsigned n = h->caplen - 14 - ihl;
  uint8_t *d = tx_slot(out, n + 14);
  if (!d) { in->err++; return; }
  memcpy(d, out->peer, 6); memcpy(d + 6, out->mac, 6); d[12] = 0x08; d[13] = 0x00;
  memcpy(d + 14, f + 14 + ihl, n);
  tx_commit(out, n + 14);
  in->fwd++;
}

static int decap_mode;

static void *run(void *arg) {
  struct side *s = arg;
  while (!stop) {
    if (pcap_dispatch(s->p, 256, decap_mode ? decap : handle, (u_char *)s) < 0) break;
    if (use_ring) {                  /* the batch leaves in one send(2) */
      tx_kick(s->out);
      if (s->back) tx_kick(s->back);
    }
  }
  return NULL;
}

static void usage(const char *me) {
  fprintf(stderr, "usage: %s [--tx-ring] [--redirect DST PORT HS HS_MAC] IF_A OWN_A PEER_MAC_A IF_B OWN_B PEER_MAC_B\n"
                  "       %s --tx-ring --decap IF_IN OWN IF_OUT PEER_MAC\n", me, me);
  exit(2);
}

static void on_signals(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;       /* no SA_RESTART: the blocking poll returns with EINTR */
  sigaction(SIGINT, &sa, NULL); sigaction(SIGTERM, &sa, NULL);
}

/* --decap: one thread, IF_IN's tunnel packets onto IF_OUT's ring; counters on the signal. */
static int run_decap(char **arg) {
  static struct side in, out;
  char err[PCAP_ERRBUF_SIZE], filter[128];
  in.name = arg[0]; in.own = arg[1]; out.name = arg[2];
  if (parse_mac(arg[3], out.peer)) { fprintf(stderr, "bad MAC\n"); return 2; }
  read_mac(out.name, out.mac);
  in.out = &out;
  in.p = pcap_create(in.name, err);
  if (!in.p) { fprintf(stderr, "%s: %s\n", in.name, err); return 2; }
  pcap_set_snaplen(in.p, 65535); pcap_set_promisc(in.p, 0); pcap_set_immediate_mode(in.p, 1);
  pcap_set_buffer_size(in.p, 32 << 20);
  if (pcap_activate(in.p) < 0) { fprintf(stderr, "%s: %s\n", in.name, pcap_geterr(in.p)); return 2; }
  snprintf(filter, sizeof filter, "inbound and ip proto 4 and dst host %s", in.own);
  if (attach_filter(in.p, in.name, filter)) return 2;
  tx_open(&out);                   /* no capture on IF_OUT: its ring is the only socket there */
  decap_p = in.p;
  on_signals();
  fprintf(stderr, "pcapfwd: decapsulating %s -> %s\n", in.name, out.name);
  run(&in);
  fprintf(stderr, "pcapfwd: decapsulated %lu (errors %lu), sends of a ring %lu\n", in.fwd, in.err, out.kicks);
  return 0;
}

int main(int argc, char **argv) {
  const char *hs_mac = NULL;
  int i = 1;
  while (i < argc && strncmp(argv[i], "--", 2) == 0) {
    if (strcmp(argv[i], "--tx-ring") == 0) { use_ring = 1; i++; }
    else if (strcmp(argv[i], "--decap") == 0) { decap_mode = 1; i++; }
    else if (strcmp(argv[i], "--redirect") == 0 && i + 4 < argc) {
      char *end;
      long port = strtol(argv[i + 2], &end, 10);
      if (inet_pton(AF_INET, argv[i + 1], r_dst) != 1 || inet_pton(AF_INET, argv[i + 3], r_hs) != 1
          || *end || port < 1 || port > 65535) usage(argv[0]);
      r_port = (uint16_t)port;
      hs_mac = argv[i + 4];
      redirect = 1; i += 5;
    } else usage(argv[0]);
  }
  if (decap_mode) {
    if (!use_ring || redirect || argc - i != 4) usage(argv[0]);
    return run_decap(argv + i);
  }
  if (argc - i != 6) usage(argv[0]);
  static struct side a, b, aback;
  char **arg = argv + i;
  a.name = arg[0]; a.own = arg[1]; b.name = arg[3]; b.own = arg[4];
  if (parse_mac(arg[2], a.peer) || parse_mac(arg[5], b.peer)) { fprintf(stderr, "bad MAC\n"); return 2; }
  read_mac(a.name, a.mac); read_mac(b.name, b.mac);
  a.out = &b; b.out = &a;
  a.p = open_if(&a); b.p = open_if(&b);
  if (use_ring) { tx_open(&a); tx_open(&b); }
  if (redirect) {                  /* the tunnel leaves IF_A again, toward HS */
    char own4[64];
    const char *v6 = strchr(a.own, ',');
    snprintf(own4, sizeof own4, "%.*s", v6 ? (int)(v6 - a.own) : (int)strlen(a.own), a.own);
    if (inet_pton(AF_INET, own4, r_src) != 1) { fprintf(stderr, "bad address %s\n", own4); return 2; }
    aback = a;
    aback.out = NULL; aback.back = NULL;
    aback.fwd = aback.err = aback.kicks = aback.tunnelled = 0; aback.next = aback.pending = 0;
    if (parse_mac(hs_mac, aback.peer)) { fprintf(stderr, "bad MAC\n"); return 2; }
    if (use_ring) tx_open(&aback);
    a.back = &aback;
  }
  on_signals();
  pthread_t ta, tb;
  pthread_create(&ta, NULL, run, &a);
  pthread_create(&tb, NULL, run, &b);
  fprintf(stderr, "pcapfwd: forwarding %s <-> %s\n", a.name, b.name);
  while (!stop) pause();
  pcap_breakloop(a.p); pcap_breakloop(b.p);
  pthread_kill(ta, SIGINT); pthread_kill(tb, SIGINT);
  pthread_join(ta, NULL); pthread_join(tb, NULL);
  fprintf(stderr, "pcapfwd: %s->%s %lu (errors %lu), %s->%s %lu (errors %lu), tunnelled %lu, sends of a ring %lu\n",
          a.name, b.name, a.fwd, a.err, b.name, a.name, b.fwd, b.err, a.tunnelled, a.kicks + b.kicks + aback.kicks);
  return 0;
}
