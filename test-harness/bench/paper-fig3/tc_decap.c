// The host server's half of the kernel's IP-in-IP redirect: a tc clsact ingress program that
// strips the outer IPv4 header of protocol-4 packets addressed to this host server, so that the
// inner packet (to the origin's address, which sits on lo) is delivered by the kernel.
//   tc qdisc add dev eth0 clsact; tc filter add dev eth0 ingress bpf da obj tc_decap.o sec tc
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef HOST_SERVER
#define HOST_SERVER 0xC6120114 /* 198.18.1.20 */
#endif

SEC("tc")
int ipip_decap(struct __sk_buff *skb) {
  void *data = (void *)(long)skb->data;
  void *end = (void *)(long)skb->data_end;
  struct ethhdr *eth = data;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > end) return TC_ACT_OK;
  if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_IPIP) return TC_ACT_OK;
  if (ip->ihl != 5 || ip->daddr != bpf_htonl(HOST_SERVER)) return TC_ACT_OK;
  if (ip->frag_off & bpf_htons(0x3fff)) return TC_ACT_OK; /* fragments: leave to the stack */
  if (bpf_skb_adjust_room(skb, -20, BPF_ADJ_ROOM_MAC, 0) != 0) return TC_ACT_SHOT;
  return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
