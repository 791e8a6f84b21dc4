// The kernel's own IP-in-IP redirect, for the side-by-side benchmark (there is no ipip or IPVS in
// this kernel). Attached to the redirector's host route for the origin with
//   ip route add ORIGIN/32 encap bpf xmit obj lwt_ipip.o section lwt_xmit headroom 20 dev core0
// Packets for the replicated ports get an outer IPv4 header (redirector -> host server, protocol
// 4, DF and TOS copied) and are re-routed by the outer destination; everything else is forwarded
// to the origin unchanged. Addresses and ports are set at build time (-D) by paper-fig3.
#include <linux/bpf.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef OUTER_SRC
#define OUTER_SRC 0xC6120101 /* 198.18.1.1, the redirector's client-side address */
#endif
#ifndef OUTER_DST
#define OUTER_DST 0xC6120114 /* 198.18.1.20, the host server */
#endif

static __always_inline int redirected(__u8 proto, __u16 dport) {
  if (proto == IPPROTO_TCP) return dport == 5202 || dport == 5302;
  if (proto == IPPROTO_UDP) return dport == 9;
  return 0;
}

static __always_inline __u16 csum_fold(__u32 sum) {
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return (__u16)~sum;
}

SEC("lwt_xmit")
int ipip_encap(struct __sk_buff *skb) {
  void *data = (void *)(long)skb->data;
  void *end = (void *)(long)skb->data_end;
  struct iphdr *ip = data; /* LWT programs see the packet from the network header */
  if ((void *)(ip + 1) > end || ip->version != 4) return BPF_OK;
  __u32 ihl = ip->ihl * 4;
  if (ihl < 20 || ihl > 60) return BPF_OK;
  if (ip->frag_off & bpf_htons(0x1fff)) return BPF_OK; /* later fragments carry no ports */
  __u16 *ports = data + ihl;
  if ((void *)(ports + 2) > end) return BPF_OK;
  if (!redirected(ip->protocol, bpf_ntohs(ports[1]))) return BPF_OK;

  struct iphdr outer = {};
  outer.version = 4;
  outer.ihl = 5;
  outer.tos = ip->tos;
  outer.tot_len = bpf_htons(bpf_ntohs(ip->tot_len) + 20);
  outer.frag_off = ip->frag_off & bpf_htons(0x4000); /* DF copied */
  outer.ttl = 64;
  outer.protocol = IPPROTO_IPIP;
  outer.saddr = bpf_htonl(OUTER_SRC);
  outer.daddr = bpf_htonl(OUTER_DST);
  __u16 *w = (__u16 *)&outer;
  __u32 sum = 0;
#pragma unroll
  for (int i = 0; i < 10; i++) sum += w[i];
  outer.check = csum_fold(sum);
  if (bpf_lwt_push_encap(skb, BPF_LWT_ENCAP_IP, &outer, sizeof(outer)) != 0) return BPF_DROP;
  return BPF_LWT_REROUTE;
}

char _license[] SEC("license") = "GPL";
