// The ceiling of the pcap approach: a plain C libpcap forwarder between two interfaces, one thread
// per direction: pcap_dispatch on the ingress handle, TTL decrement with an incremental checksum
// update (RFC 1624), MAC rewrite, pcap_inject on the egress handle. No routing table: everything
// IPv4 that arrives on A goes to MAC_B_PEER out of B, and back. Immediate mode, 32 MiB buffers,
// kernel filter "inbound and ip and not dst host <own address>" (frames for the box itself and
// ARP are left to the kernel). Counters on SIGINT/SIGTERM.
//   pcapfwd IF_A OWN_A PEER_MAC_A IF_B OWN_B PEER_MAC_B
#include <pcap/pcap.h>
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
  unsigned long fwd, err;
};

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
  char err[PCAP_ERRBUF_SIZE], filter[128];
  pcap_t *p = pcap_create(s->name, err);
  if (!p) { fprintf(stderr, "%s: %s\n", s->name, err); exit(2); }
  pcap_set_snaplen(p, 65535);
  pcap_set_promisc(p, 0);
  pcap_set_immediate_mode(p, 1);
  pcap_set_buffer_size(p, 32 << 20);
  if (pcap_activate(p) < 0) { fprintf(stderr, "%s: %s\n", s->name, pcap_geterr(p)); exit(2); }
  struct bpf_program prog;
  snprintf(filter, sizeof filter, "inbound and ip and not dst host %s", s->own);
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
  if (ip[8] <= 1) return;                      /* TTL expired: a real router sends ICMP */
  ip[8]--;                                     /* TTL -1: checksum +0x0100 (RFC 1624) */
  uint32_t sum = ((uint32_t)ip[10] << 8 | ip[11]) + 0x0100;
  sum = (sum & 0xffff) + (sum >> 16);
  ip[10] = sum >> 8; ip[11] = sum & 0xff;
  memcpy(f, out->peer, 6);
  memcpy(f + 6, out->mac, 6);
  if (pcap_inject(out->p, f, h->caplen) < 0) in->err++; else in->fwd++;
}

static void *run(void *arg) {
  struct side *s = arg;
  while (!stop) {
    if (pcap_dispatch(s->p, 256, handle, (u_char *)s) < 0) break;
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 7) { fprintf(stderr, "usage: %s IF_A OWN_A PEER_MAC_A IF_B OWN_B PEER_MAC_B\n", argv[0]); return 2; }
  static struct side a, b;
  a.name = argv[1]; a.own = argv[2]; b.name = argv[4]; b.own = argv[5];
  if (parse_mac(argv[3], a.peer) || parse_mac(argv[6], b.peer)) { fprintf(stderr, "bad MAC\n"); return 2; }
  read_mac(a.name, a.mac); read_mac(b.name, b.mac);
  a.out = &b; b.out = &a;
  a.p = open_if(&a); b.p = open_if(&b);
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
  fprintf(stderr, "pcapfwd: %s->%s %lu (errors %lu), %s->%s %lu (errors %lu)\n", a.name, b.name,
          a.fwd, a.err, b.name, a.name, b.fwd, b.err);
  return 0;
}
