/*
 * HydraNet's batch read through libpcap: one JNA call reads up to a batch of frames with
 * pcap_dispatch and copies each straight into its Disruptor ring slot (LivePcapSource.pollBatch).
 *
 * Why C: a direct-mapped JNA call costs 0.3-0.5 us on the VMs measured, and the per-frame
 * pcap_next_ex loop made 1.5 of them a frame; pcap_dispatch's callback must be native to be cheap
 * (a JNA callback costs about 1.7 us a frame). This file needs neither libpcap's headers nor its
 * library at link time: Java passes the address of pcap_dispatch, and the few bits of ABI used
 * (struct pcap_pkthdr on LP64, the callback's signature) are declared here, as PcapNative does.
 *
 * The layout of struct hn_batch is mirrored by LivePcapSource.NativeBatch; the static assertions
 * below pin every offset Java writes or reads.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* struct pcap_pkthdr on LP64: struct timeval (two longs), then caplen and len as u_int. */
struct hn_pkthdr {
  int64_t tv_sec;
  int64_t tv_fraction; /* microseconds, or nanoseconds with PCAP_TSTAMP_PRECISION_NANO */
  uint32_t caplen;
  uint32_t len;
};

/* One frame's facts, in FrameSource.Batch's frame table. */
struct hn_frame {
  int64_t timestamp_nanos;
  int32_t length;
  int32_t ingress;
};

struct hn_batch {
  unsigned char *slots;    /* the ring's slot memory: slot i at slots + i * slot_size */
  struct hn_frame *frames; /* frame j of this batch's facts */
  int64_t first;           /* the ring index of the batch's first slot */
  int64_t mask;            /* ring size - 1 (a power of two) */
  int32_t slot_size;
  int32_t headroom;   /* where a frame starts in its slot */
  int32_t capacity;   /* the longest frame a slot takes */
  int32_t max;        /* frames this read may store, at least 1 */
  int32_t ingress;    /* reported for every frame */
  int32_t nanos_per_tick;
  int32_t count;      /* out: frames stored */
  int32_t unused;
  int64_t oversize;   /* out, added to: frames too long for a slot or cut by the snaplen */
  int64_t bytes;      /* out, added to: bytes stored */
  int64_t overrun;    /* out, added to: frames past max (never, if pcap_dispatch keeps its cnt) */
};

_Static_assert(sizeof(void *) == 8, "LP64 only, as PcapNative");
_Static_assert(offsetof(struct hn_batch, first) == 16, "Java layout");
_Static_assert(offsetof(struct hn_batch, slot_size) == 32, "Java layout");
_Static_assert(offsetof(struct hn_batch, max) == 44, "Java layout");
_Static_assert(offsetof(struct hn_batch, count) == 56, "Java layout");
_Static_assert(offsetof(struct hn_batch, oversize) == 64, "Java layout");
_Static_assert(offsetof(struct hn_batch, overrun) == 80, "Java layout");
_Static_assert(sizeof(struct hn_batch) == 88, "Java layout");
_Static_assert(sizeof(struct hn_frame) == 16, "Java layout");
_Static_assert(offsetof(struct hn_pkthdr, caplen) == 16, "libpcap ABI");

typedef void (*hn_handler)(unsigned char *user, const struct hn_pkthdr *h,
                           const unsigned char *bytes);
typedef int (*hn_dispatch)(void *p, int cnt, hn_handler callback, unsigned char *user);

static void hn_copy(unsigned char *user, const struct hn_pkthdr *h, const unsigned char *bytes) {
  struct hn_batch *b = (struct hn_batch *)user;
  if (h->caplen > (uint32_t)b->capacity || h->caplen < h->len) {
    /* Too long for a slot, or cut by the snaplen: never hand on a truncated frame. */
    b->oversize++;
    return;
  }
  if (b->count >= b->max) {
    b->overrun++;
    return;
  }
  const int64_t slot = (b->first + b->count) & b->mask;
  memcpy(b->slots + slot * b->slot_size + b->headroom, bytes, h->caplen);
  struct hn_frame *f = &b->frames[b->count];
  f->timestamp_nanos = h->tv_sec * 1000000000LL + h->tv_fraction * b->nanos_per_tick;
  f->length = (int32_t)h->caplen;
  f->ingress = b->ingress;
  b->bytes += h->caplen;
  b->count++;
}

/*
 * Reads up to b->max frames of capture p with pcap_dispatch (dispatch is its address) into the
 * batch's slots; b->count says how many were stored. Returns pcap_dispatch's result unchanged:
 * frames processed (stored or skipped), 0 for none (non-blocking), PCAP_ERROR or
 * PCAP_ERROR_BREAK. Frames stored before an error stay stored and counted.
 */
int hn_pcap_read(void *dispatch, void *p, struct hn_batch *b) {
  b->count = 0;
  return ((hn_dispatch)dispatch)(p, b->max, hn_copy, (unsigned char *)b);
}

/* The layout version Java checks at load, so a stale library is refused rather than misused. */
int hn_pcap_abi(void) { return (int)sizeof(struct hn_batch) * 100 + 1; }
