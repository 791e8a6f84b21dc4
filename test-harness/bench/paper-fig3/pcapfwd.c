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
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
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

struct side {
  const char *name;
  const char *own;
  uint8_t mac[6];      /* this interface's MAC (source of frames sent out of it) */
  uint8_t peer[6];     /* the next hop's MAC out of this interface */
  pcap_t *p;
  struct side *out;
  unsigned long fwd, err, kicks;
  /* transmit ring (--tx-ring): written by the thread that captures on the other side */
  int txfd;
  uint8_t *ring;
  unsigned next, pending;
};

#define TX_FRAME 2048
#define TX_FRAMES 512
#define TX_DATA 32 /* TPACKET_ALIGN(sizeof(struct tpacket2_hdr)) */
static int use_ring;

static void tx_open(struct side *s) {
  int fd = socket(AF_PACKET, SOCK_RAW, 0), v = TPACKET_V2, one = 1;
  struct tpacket_req req = {1 << 16, TX_FRAMES * TX_FRAME / (1 << 16), TX_FRAME, TX_FRAMES};
  struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(s->name)};
  if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) ||
      setsockopt(fd, SOL_PACKET, PACKET_LOSS, &one, sizeof one) ||
      setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof req)) { perror("tx ring"); exit(2); }
  s->ring = mmap(NULL, TX_FRAMES * TX_FRAME, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (s->ring == MAP_FAILED || bind(fd, (struct sockaddr *)&ll, sizeof ll)) { perror("tx ring"); exit(2); }
  if (setsockopt(pcap_get_selectable_fd(s->p), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one)) {
    perror("PACKET_IGNORE_OUTGOING"); exit(2);
  }
  s->txfd = fd;
}

static void tx_kick(struct side *s) {
  if (s->pending == 0) return;
  s->pending = 0; s->kicks++;
  if (send(s->txfd, NULL, 0, MSG_DONTWAIT) < 0) s->err++;
}

static int tx_offer(struct side *s, const uint8_t *f, unsigned len) {
  struct tpacket2_hdr *h = (struct tpacket2_hdr *)(s->ring + (size_t)s->next * TX_FRAME);
  if (len > TX_FRAME - TX_DATA) { tx_kick(s); return pcap_inject(s->p, f, len) < 0 ? -1 : 0; }
  if (atomic_load_explicit((_Atomic uint32_t *)&h->tp_status, memory_order_acquire) != TP_STATUS_AVAILABLE) {
    tx_kick(s);
    if (atomic_load_explicit((_Atomic uint32_t *)&h->tp_status, memory_order_acquire) != TP_STATUS_AVAILABLE) return -1;
  }
  memcpy((uint8_t *)h + TX_DATA, f, len);
  h->tp_len = len;
  atomic_store_explicit((_Atomic uint32_t *)&h->tp_status, TP_STATUS_SEND_REQUEST, memory_order_release);
  s->next = (s->next + 1) % TX_FRAMES;
  s->pending++;
  return 0;
}

static volatile sig_atomic_t stop;
static void on_signal(int s) { (void)s; stop = 1; }

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

static pcap_t *open_if(struct side *s) {
  char err[PCAP_ERRBUF_SIZE], filter[512], own4[64];
  pcap_t *p = pcap_create(s->name, err);
  if (!p) { fprintf(stderr, "%s: %s\n", s->name, err); exit(2); }
  pcap_set_snaplen(p, 65535);
  pcap_set_promisc(p, 0);
  pcap_set_immediate_mode(p, 1);
  pcap_set_buffer_size(p, 32 << 20);
  if (pcap_activate(p) < 0) { fprintf(stderr, "%s: %s\n", s->name, pcap_geterr(p)); exit(2); }
  struct bpf_program prog;
  const char *v6 = strchr(s->own, ',');     /* "V4" or "V4,V6" */
  snprintf(own4, sizeof own4, "%.*s", v6 ? (int)(v6 - s->own) : (int)strlen(s->own), s->own);
  if (v6)
    snprintf(filter, sizeof filter,
             "inbound and ((ip and not dst host %s) or"
             " (ip6 and not ip6 multicast and not dst net fe80::/10 and not dst host %s))", own4, v6 + 1);
  else
    snprintf(filter, sizeof filter, "inbound and ip and not dst host %s", own4);
  if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) || pcap_setfilter(p, &prog)) {
    fprintf(stderr, "%s: filter: %s\n", s->name, pcap_geterr(p)); exit(2);
  }
  pcap_freecode(&prog);
  return p;
}

static void handle(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes) {
  struct side *in = (struct side *)user, *out = in->out;
  if (h->caplen != h->len || h->caplen < 34) return;
  uint8_t *f = (uint8_t *)bytes;               /* libpcap's ring slot; ours until we return */
  uint8_t *ip = f + 14;
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

static void *run(void *arg) {
  struct side *s = arg;
  while (!stop) {
    if (pcap_dispatch(s->p, 256, handle, (u_char *)s) < 0) break;
    if (use_ring) tx_kick(s->out);   /* the batch leaves in one send(2) */
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc == 8 && strcmp(argv[1], "--tx-ring") == 0) { use_ring = 1; argv++; argc--; }
  if (argc != 7) { fprintf(stderr, "usage: %s [--tx-ring] IF_A OWN_A PEER_MAC_A IF_B OWN_B PEER_MAC_B\n", argv[0]); return 2; }
  static struct side a, b;
  a.name = argv[1]; a.own = argv[2]; b.name = argv[4]; b.own = argv[5];
  if (parse_mac(argv[3], a.peer) || parse_mac(argv[6], b.peer)) { fprintf(stderr, "bad MAC\n"); return 2; }
  read_mac(a.name, a.mac); read_mac(b.name, b.mac);
  a.out = &b; b.out = &a;
  a.p = open_if(&a); b.p = open_if(&b);
  if (use_ring) { tx_open(&a); tx_open(&b); }
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;       /* no SA_RESTART: the blocking poll returns with EINTR */
  sigaction(SIGINT, &sa, NULL); sigaction(SIGTERM, &sa, NULL);
  pthread_t ta, tb;
  pthread_create(&ta, NULL, run, &a);
  pthread_create(&tb, NULL, run, &b);
  fprintf(stderr, "pcapfwd: forwarding %s <-> %s\n", a.name, b.name);
  while (!stop) pause();
  pcap_breakloop(a.p); pcap_breakloop(b.p);
  pthread_kill(ta, SIGINT); pthread_kill(tb, SIGINT);
  pthread_join(ta, NULL); pthread_join(tb, NULL);
  fprintf(stderr, "pcapfwd: %s->%s %lu (errors %lu), %s->%s %lu (errors %lu), sends of a ring %lu\n",
          a.name, b.name, a.fwd, a.err, b.name, a.name, b.fwd, b.err, a.kicks + b.kicks);
  return 0;
}
