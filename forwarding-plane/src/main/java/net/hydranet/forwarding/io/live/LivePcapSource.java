package net.hydranet.forwarding.io.live;

import com.sun.jna.Native;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.hydranet.forwarding.io.FrameSource;
import org.agrona.BufferUtil;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives frames from one live interface through libpcap's memory-mapped ring, copying each frame
 * straight from the ring into the caller's slot with no JNA callback and no allocation per frame.
 *
 * <p>Why our own direct-mapped {@code pcap_create}/{@code pcap_activate} instead of pcap4j's {@code
 * PcapHandle}: the receive loop must call {@code pcap_next_ex} through a direct mapping anyway, and
 * pcap4j would only contribute the open sequence while hiding the {@code pcap_t*} in a private
 * final field (reflection that breaks silently on an upgrade) and turning {@code pcap_activate}'s
 * status codes into strings — we want {@code PCAP_ERROR_PERM_DENIED} as a number to give the
 * root/CAP_NET_RAW hint. One binding, one owner of the handle.
 *
 * <p>Cost (measured in the planning spike on this class of machine): the direct {@code
 * pcap_next_ex} path avoids the ≈1.7 µs/frame of a JNA callback out of {@code pcap_loop}. {@link
 * #pollBatch} goes further: one JNA call reads a whole batch with {@code pcap_dispatch} through our
 * C shim ({@link PcapShim}), whose C callback copies each frame into its ring slot; without the
 * shim (or with {@code -Dhydranet.pcap.batch=false}) a batch is read one {@code pcap_next_ex} per
 * frame.
 *
 * <p>Threading: {@link #poll} and the counters it bumps belong to the one receive thread. The
 * {@link #txPort()} shares the handle (so the kernel never echoes our own frames back to us) and
 * may be used by another thread; libpcap touches shared state on those two paths only when writing
 * an error message. {@link #close()} must come after both threads have stopped.
 */
public final class LivePcapSource implements FrameSource {
  private static final Logger LOG = LoggerFactory.getLogger(LivePcapSource.class);

  /** DLT_EN10MB: the only link type the pipeline parses. */
  private static final int DLT_EN10MB = 1;

  private final String interfaceName;
  private final int ifIndex;
  private final long pcap;
  private final int nanosPerTick;
  private volatile boolean closed;

  // Two out-pointers pcap_next_ex fills: allocated once, read through an Agrona view.
  private final ByteBuffer outPointersMemory = ByteBuffer.allocateDirect(16);
  private final UnsafeBuffer outPointers = new UnsafeBuffer(outPointersMemory);
  private final long headerOutAddress = outPointers.addressOffset();
  private final long dataOutAddress = headerOutAddress + 8;
  // Re-pointed at libpcap's header and frame for every packet; wrap() only sets two fields.
  private final UnsafeBuffer header = new UnsafeBuffer(0, 0);
  private final UnsafeBuffer frame = new UnsafeBuffer(0, 0);
  private final ByteBuffer statsMemory = ByteBuffer.allocateDirect(PcapNative.PCAP_STAT_SIZE);
  private final UnsafeBuffer stats = new UnsafeBuffer(statsMemory);

  // The shim's struct hn_batch (PcapShim's offsets): rebound when the caller's batch changes.
  private final boolean batchReads;
  private final UnsafeBuffer nativeBatch =
      new UnsafeBuffer(BufferUtil.allocateDirectAligned(PcapShim.SIZE, 64));
  private Batch boundBatch;

  // Written only by the receive thread; other threads may read slightly stale values.
  private long framesReceived;
  private long bytesReceived;
  private long oversizeFrames;
  private long receiveErrors;
  private boolean errorLogged;

  private final LivePcapTxPort txPort;

  private final PacketTxRing txRing;

  // Transmit rings of other pipelines' ports onto this interface (openTxPort); closed with it.
  private final List<PacketTxRing> otherRings = new ArrayList<>();

  private LivePcapSource(
      String interfaceName,
      int ifIndex,
      long pcap,
      int nanosPerTick,
      PacketTxRing txRing,
      boolean batchReads) {
    this.interfaceName = interfaceName;
    this.batchReads = batchReads;
    this.ifIndex = ifIndex;
    this.pcap = pcap;
    this.nanosPerTick = nanosPerTick;
    this.txRing = txRing;
    this.txPort = new LivePcapTxPort(this, txRing);
  }

  /** Opens {@code interfaceName} with the default {@link Options}. */
  public static LivePcapSource open(String interfaceName) throws IOException {
    return open(interfaceName, new Options());
  }

  /**
   * Opens and activates a capture on {@code interfaceName}.
   *
   * @throws IOException with libpcap's message, and a hint when the cause is a missing privilege
   * @throws UnsatisfiedLinkError when libpcap cannot be loaded
   */
  public static LivePcapSource open(String interfaceName, Options options) throws IOException {
    options.conclude();
    PcapNative.load();
    final byte[] errbuf = new byte[PcapNative.ERRBUF_SIZE];
    final long p = PcapNative.pcap_create(interfaceName, errbuf);
    if (p == 0) {
      throw new IOException("pcap_create(" + interfaceName + "): " + cString(errbuf));
    }
    boolean ok = false;
    try {
      check(p, PcapNative.pcap_set_snaplen(p, options.snaplen), "pcap_set_snaplen");
      check(p, PcapNative.pcap_set_promisc(p, options.promiscuous ? 1 : 0), "pcap_set_promisc");
      // Only matters until pcap_setnonblock below; 0 would mean "wait forever".
      check(p, PcapNative.pcap_set_timeout(p, 1), "pcap_set_timeout");
      check(p, PcapNative.pcap_set_buffer_size(p, options.bufferBytes), "pcap_set_buffer_size");
      // Immediate mode: without it libpcap's block mode delayed ACKs into retransmissions
      // (shared notes); with it libpcap 1.10 uses TPACKET_V2, one ring slot per frame.
      check(p, PcapNative.pcap_set_immediate_mode(p, 1), "pcap_set_immediate_mode");
      // Nanosecond stamps if the kernel offers them; a refusal is not an error.
      PcapNative.pcap_set_tstamp_precision(p, PcapNative.PCAP_TSTAMP_PRECISION_NANO);
      final int status = PcapNative.pcap_activate(p);
      if (status < 0) {
        final String detail =
            PcapNative.pcap_statustostr(status) + " (" + PcapNative.pcap_geterr(p) + ")";
        final String hint =
            status == PcapNative.PCAP_ERROR_PERM_DENIED
                ? KernelChecks.pcapPermissionHint()
                : KernelChecks.pcapOpenHint(detail);
        throw new IOException(
            "pcap_activate("
                + interfaceName
                + "): "
                + detail
                + (hint.isEmpty() ? "" : "; " + hint));
      }
      if (status > 0) {
        LOG.warn(
            "pcap_activate({}): {} ({})",
            interfaceName,
            PcapNative.pcap_statustostr(status),
            PcapNative.pcap_geterr(p));
      }
      final int dlt = PcapNative.pcap_datalink(p);
      if (dlt != DLT_EN10MB) {
        throw new IOException(interfaceName + ": link type " + dlt + " is not Ethernet");
      }
      if (options.filter != null && !options.filter.isEmpty()) {
        setFilter(p, options.filter);
      }
      // Non-blocking, always: in blocking mode libpcap 1.10.3's pcap_next_ex retried its 1 ms
      // poll() forever while the link was idle (seen here: a test thread parked for 10 minutes),
      // so poll could never return NONE and close() could never be reached safely. Idle
      // back-off is the caller's idle strategy; an empty ring costs one poll(2) with timeout 0.
      if (PcapNative.pcap_setnonblock(p, 1, errbuf) == PcapNative.PCAP_ERROR) {
        throw new IOException("pcap_setnonblock(" + interfaceName + "): " + cString(errbuf));
      }
      final int nanosPerTick =
          PcapNative.pcap_get_tstamp_precision(p) == PcapNative.PCAP_TSTAMP_PRECISION_NANO
              ? 1
              : 1000;
      PacketTxRing txRing = null;
      if (options.txRing) {
        try {
          txRing =
              PacketTxRing.open(
                  KernelChecks.ifIndex(interfaceName), PcapNative.pcap_get_selectable_fd(p));
        } catch (IOException e) {
          LOG.warn(
              "{}: no transmit ring, one send(2) per frame: {}", interfaceName, e.getMessage());
        }
      }
      final LivePcapSource source =
          new LivePcapSource(
              interfaceName,
              options.ingress >= 0 ? options.ingress : KernelChecks.ifIndex(interfaceName),
              p,
              nanosPerTick,
              txRing,
              options.batchReads && PcapShim.available());
      ok = true;
      LOG.info(
          "opened {} ({}): snaplen {}, buffer {} B, filter '{}', receive {}, transmit {}",
          interfaceName,
          PcapNative.pcap_lib_version(),
          options.snaplen,
          options.bufferBytes,
          options.filter,
          source.batchReads ? "pcap_dispatch batches" : "pcap_next_ex",
          txRing != null ? "ring" : "pcap_sendpacket");
      return source;
    } finally {
      if (!ok) {
        PcapNative.pcap_close(p);
      }
    }
  }

  /**
   * Opens {@code n} captures of {@code interfaceName}, one per forwarding pipeline, as the members
   * of one new {@code PACKET_FANOUT} group ({@code PACKET_FANOUT_HASH}): the kernel hands each
   * frame to exactly one of them, chosen by its flow hash, so every frame of a flow reaches the
   * same capture (packet(7)). Capture {@code i} is member {@code i}: opened for each interface in
   * the same order, a flow's frames meet pipeline {@code i} on every interface, and the kernel's
   * hash is symmetric (the same for both directions of a connection).
   *
   * <p>Not {@code PACKET_FANOUT_FLAG_DEFRAG}, measured ({@code LivePcapFanoutTest}): with it the
   * kernel reassembles an IPv4 datagram for the group before hashing it, but libpcap sizes its
   * ring's slots by the interface's MTU when offloads are off (as they must be here), so every
   * reassembled datagram larger than the MTU — that is, nearly every fragmented one — arrives cut
   * and is skipped: fragmented traffic would be lost. Without it, an IPv4 fragment, having no
   * ports, is hashed by its addresses and protocol alone: all fragments of a datagram meet one
   * pipeline (whose {@code FragmentTracker} then sees the first and the rest together), but not
   * always the pipeline of its flow's unfragmented packets. There the first fragment is decided by
   * the consistent hash, which every pipeline computes alike, so it goes where its flow goes unless
   * the flow's pin differs from the hash (pinned to the origin before a replica came, or to a host
   * server drained since). {@code PACKET_FANOUT_FLAG_IGNORE_OUTGOING} with a transmit ring, because
   * the group's hook, not the socket's, sees outgoing frames and would clone every frame we send
   * (what {@code PACKET_IGNORE_OUTGOING} stops for one capture). Never {@code ROLLOVER}: a full
   * ring must drop, not move a flow to another pipeline.
   *
   * <p>A capture receives every frame until it joins the group, so frames queued before the last
   * member joined could reach two pipelines: they are discarded once all have joined.
   *
   * @throws IOException when a capture cannot be opened or the kernel refuses the group
   */
  public static LivePcapSource[] openFanout(String interfaceName, Options options, int n)
      throws IOException {
    if (n < 1) {
      throw new IllegalArgumentException("fanout of " + n + " captures");
    }
    final LivePcapSource[] members = new LivePcapSource[n];
    boolean ok = false;
    try {
      for (int i = 0; i < n; i++) {
        members[i] = open(interfaceName, options);
      }
      final int flags =
          (options.fanoutDefrag ? LibC.PACKET_FANOUT_FLAG_DEFRAG : 0)
              | (options.txRing ? LibC.PACKET_FANOUT_FLAG_IGNORE_OUTGOING : 0);
      final UnsafeBuffer opt = new UnsafeBuffer(ByteBuffer.allocateDirect(16));
      int group = -1;
      for (int i = 0; i < n; i++) {
        final int fd = members[i].selectableFd();
        // The first creates a group with an id no one else in this namespace has; the others
        // join it by that id (packet(7): the id is in the low 16 bits, type and flags above).
        final int request =
            i == 0
                ? (LibC.PACKET_FANOUT_HASH | flags | LibC.PACKET_FANOUT_FLAG_UNIQUEID) << 16
                : group | (LibC.PACKET_FANOUT_HASH | flags) << 16;
        opt.putInt(0, request);
        if (fd < 0
            || LibC.setsockopt(fd, LibC.SOL_PACKET, LibC.PACKET_FANOUT, opt.addressOffset(), 4)
                != 0) {
          throw new IOException(
              interfaceName
                  + ": joining PACKET_FANOUT group (member "
                  + i
                  + " of "
                  + n
                  + "): "
                  + LibC.strerror(Native.getLastError()));
        }
        if (i == 0) {
          opt.putInt(0, 0);
          opt.putInt(8, 4);
          if (LibC.getsockopt(
                  fd,
                  LibC.SOL_PACKET,
                  LibC.PACKET_FANOUT,
                  opt.addressOffset(),
                  opt.addressOffset() + 8)
              != 0) {
            throw new IOException(
                interfaceName
                    + ": reading the PACKET_FANOUT group id: "
                    + LibC.strerror(Native.getLastError()));
          }
          group = opt.getInt(0) & 0xFFFF;
        }
      }
      long discarded = 0;
      for (LivePcapSource member : members) {
        discarded += member.discardQueued();
      }
      ok = true;
      LOG.info(
          "{}: {} captures in PACKET_FANOUT group {} (flow hash{}{}); {} frames from before the"
              + " group discarded",
          interfaceName,
          n,
          group,
          options.fanoutDefrag ? ", defrag" : "",
          options.txRing ? ", ignore outgoing" : "",
          discarded);
      return members;
    } finally {
      if (!ok) {
        for (LivePcapSource member : members) {
          if (member != null) {
            member.close();
          }
        }
      }
    }
  }

  /** Reads and drops every frame the capture holds now; before the receive thread starts. */
  private long discardQueued() {
    long n = 0;
    while (PcapNative.pcap_next_ex(pcap, headerOutAddress, dataOutAddress) == 1) {
      n++;
    }
    return n;
  }

  /**
   * Compiles {@code expression} with libpcap and attaches it to the capture's socket ourselves.
   *
   * <p>Not through {@code pcap_setfilter}: after it, libpcap 1.10 runs the old ring's frames — at
   * least one, even when the ring is empty — through its user-space copy of the filter, which
   * cannot evaluate the kernel's packet-type load behind {@code inbound} and so rejects them: the
   * first frame to arrive after start was lost (seen here; {@code LivePcapVethTest}). Attached
   * directly, the kernel filters every frame and libpcap filters none. Frames captured between
   * activation and this call are few and unfiltered; the router handles what it is sent.
   */
  private static void setFilter(long p, String expression) throws IOException {
    final ByteBuffer program = ByteBuffer.allocateDirect(PcapNative.BPF_PROGRAM_SIZE);
    final UnsafeBuffer bpf = new UnsafeBuffer(program);
    if (PcapNative.pcap_compile(
            p, bpf.addressOffset(), expression, 1, PcapNative.PCAP_NETMASK_UNKNOWN)
        != 0) {
      throw new IOException("pcap_compile('" + expression + "'): " + PcapNative.pcap_geterr(p));
    }
    try {
      // struct bpf_program { u_int bf_len; struct bpf_insn *bf_insns; } to the kernel's
      // struct sock_fprog { unsigned short len; struct sock_filter *filter; }: same instructions.
      final int instructions = bpf.getInt(0);
      if (instructions > 0xFFFF) {
        throw new IOException("filter '" + expression + "': " + instructions + " instructions");
      }
      final UnsafeBuffer fprog =
          new UnsafeBuffer(ByteBuffer.allocateDirect(PcapNative.BPF_PROGRAM_SIZE));
      fprog.putShort(0, (short) instructions);
      fprog.putLong(8, bpf.getLong(8));
      final int fd = PcapNative.pcap_get_selectable_fd(p);
      // The kernel keeps its own copy of the program: frames it rejects never take a ring slot.
      if (fd < 0
          || LibC.setsockopt(
                  fd,
                  LibC.SOL_SOCKET,
                  LibC.SO_ATTACH_FILTER,
                  fprog.addressOffset(),
                  PcapNative.BPF_PROGRAM_SIZE)
              != 0) {
        throw new IOException(
            "attaching filter '" + expression + "': " + LibC.strerror(Native.getLastError()));
      }
    } finally {
      PcapNative.pcap_freecode(bpf.addressOffset());
    }
  }

  private static void check(long p, int status, String call) throws IOException {
    if (status != 0) {
      throw new IOException(call + ": " + PcapNative.pcap_statustostr(status));
    }
  }

  private static String cString(byte[] bytes) {
    int n = 0;
    while (n < bytes.length && bytes[n] != 0) {
      n++;
    }
    return new String(bytes, 0, n, StandardCharsets.UTF_8);
  }

  @Override
  public int poll(MutableDirectBuffer buffer, int offset, int capacity, FrameMeta meta) {
    // Each pass either returns or consumes one ring slot, so the loop ends when the ring is empty.
    for (; ; ) {
      final int rc = PcapNative.pcap_next_ex(pcap, headerOutAddress, dataOutAddress);
      if (rc == 1) {
        header.wrap(outPointers.getLong(0), PcapNative.PKTHDR_SIZE);
        final int caplen = header.getInt(PcapNative.PKTHDR_CAPLEN);
        final int len = header.getInt(PcapNative.PKTHDR_LEN);
        if (caplen > capacity || caplen < len) {
          // Too long for a slot, or cut by the snaplen: never hand on a truncated frame.
          oversizeFrames++;
          continue;
        }
        frame.wrap(outPointers.getLong(8), caplen);
        buffer.putBytes(offset, frame, 0, caplen);
        meta.timestampNanos =
            header.getLong(PcapNative.PKTHDR_TV_SEC) * 1_000_000_000L
                + header.getLong(PcapNative.PKTHDR_TV_FRACTION) * nanosPerTick;
        meta.ingress = ifIndex;
        framesReceived++;
        bytesReceived += caplen;
        return caplen;
      }
      if (rc == 0) {
        return NONE;
      }
      if (rc == PcapNative.PCAP_ERROR_BREAK) {
        return END;
      }
      readFailed("pcap_next_ex");
      return NONE;
    }
  }

  /**
   * Reads up to {@code max} frames with one native call ({@link PcapShim}: {@code pcap_dispatch}
   * with a C callback that copies each frame into its slot), or one {@code pcap_next_ex} per frame
   * without the shim. Oversize frames are counted and skipped either way; an error is counted and
   * logged once as in {@link #poll}, and the frames stored before it still count.
   */
  @Override
  public int pollBatch(Batch batch, int max) {
    if (!batchReads) {
      return FrameSource.super.pollBatch(batch, max);
    }
    if (max < 1 || max > batch.maxFrames()) {
      // pcap_dispatch reads the whole ring for a count of 0 or less: never let that through.
      throw new IllegalArgumentException(max + " frames for a batch of " + batch.maxFrames());
    }
    if (batch != boundBatch) {
      bind(batch);
    }
    nativeBatch.putLong(PcapShim.FIRST, batch.first());
    nativeBatch.putInt(PcapShim.MAX, max);
    final int rc = PcapShim.read(pcap, nativeBatch.addressOffset());
    final int count = nativeBatch.getInt(PcapShim.COUNT);
    framesReceived += count;
    if (rc == PcapNative.PCAP_ERROR_BREAK) {
      batch.end();
    } else if (rc < 0) {
      readFailed("pcap_dispatch");
    }
    return count;
  }

  /** Writes the batch's fixed layout into the shim's struct; once per batch object. */
  private void bind(Batch batch) {
    nativeBatch.putLong(PcapShim.SLOTS, batch.slotsAddress());
    nativeBatch.putLong(PcapShim.FRAMES, batch.framesAddress());
    nativeBatch.putLong(PcapShim.MASK, batch.mask());
    nativeBatch.putInt(PcapShim.SLOT_SIZE, batch.slotSize());
    nativeBatch.putInt(PcapShim.HEADROOM, batch.headroom());
    nativeBatch.putInt(PcapShim.CAPACITY, batch.capacity());
    nativeBatch.putInt(PcapShim.INGRESS, ifIndex);
    nativeBatch.putInt(PcapShim.NANOS_PER_TICK, nanosPerTick);
    boundBatch = batch;
  }

  private void readFailed(String call) {
    receiveErrors++;
    if (!errorLogged) {
      errorLogged = true;
      LOG.error(
          "{}({}) failed (further errors only counted): {}",
          call,
          interfaceName,
          PcapNative.pcap_geterr(pcap));
    }
  }

  /** True when {@link #pollBatch} reads through the shim, one native call per batch. */
  public boolean readsInBatches() {
    return batchReads;
  }

  /**
   * pcap's kernel drop counts (ring full, {@code ps_drop}, plus interface drops, {@code ps_ifdrop})
   * since open; -1 if they cannot be read. A system call: keep it off the hot path.
   */
  public long kernelDrops() {
    if (closed) {
      return -1;
    }
    synchronized (stats) {
      if (PcapNative.pcap_stats(pcap, stats.addressOffset()) != 0) {
        return -1;
      }
      // u_int fields: unsigned 32-bit counts.
      return (stats.getInt(4) & 0xFFFF_FFFFL) + (stats.getInt(8) & 0xFFFF_FFFFL);
    }
  }

  /** The descriptor {@code poll(2)} reports readable when a frame waits; -1 if none. */
  public int selectableFd() {
    return PcapNative.pcap_get_selectable_fd(pcap);
  }

  /** The port that sends on this same handle; closing it leaves the capture open. */
  public LivePcapTxPort txPort() {
    return txPort;
  }

  public String interfaceName() {
    return interfaceName;
  }

  /** The kernel's index of the interface, reported as {@link FrameMeta#ingress}. */
  public int ifIndex() {
    return ifIndex;
  }

  public long framesReceived() {
    return framesReceived;
  }

  public long bytesReceived() {
    return bytesReceived + nativeBatch.getLong(PcapShim.BYTES);
  }

  /** Frames skipped because they were longer than the caller's capacity or cut by the snaplen. */
  public long oversizeFrames() {
    return oversizeFrames + nativeBatch.getLong(PcapShim.OVERSIZE);
  }

  /** Failed reads, and frames the shim found past a batch's end (none while libpcap keeps cnt). */
  public long receiveErrors() {
    return receiveErrors + nativeBatch.getLong(PcapShim.OVERRUN);
  }

  /**
   * Another port onto this interface, for a pipeline that sends here but does not read this capture
   * (pipelines fed by interface): a transmit ring of its own (its own socket), so no two threads
   * share one; without a transmit ring on this capture, {@code pcap_sendpacket} on its handle,
   * which threads may share. Closed with the capture.
   *
   * @throws IOException if the ring cannot be made
   */
  public synchronized LivePcapTxPort openTxPort() throws IOException {
    if (closed) {
      throw new IOException(interfaceName + ": closed");
    }
    if (txRing == null) {
      return new LivePcapTxPort(this, null);
    }
    final PacketTxRing ring = PacketTxRing.open(KernelChecks.ifIndex(interfaceName), -1);
    otherRings.add(ring);
    return new LivePcapTxPort(this, ring);
  }

  long nativeHandle() {
    return pcap;
  }

  boolean isClosed() {
    return closed;
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      if (txRing != null) {
        txRing.close();
      }
      for (PacketTxRing ring : otherRings) {
        ring.close();
      }
      PcapNative.pcap_close(pcap);
    }
  }

  /** How to open a live capture; every default sits beside its setter. */
  public static final class Options {
    /** A 9000-byte jumbo frame plus an 802.1Q-tagged Ethernet header (FrameSlot.MAX_FRAME). */
    public static final int DEFAULT_SNAPLEN = 9018;

    /** 32 MiB: with offloads on libpcap uses 64 KiB slots, so 2 MiB held only ~32 frames. */
    public static final int DEFAULT_BUFFER_BYTES = 32 << 20;

    /**
     * Only frames arriving from the wire: the kernel drops our own transmissions before the ring.
     */
    public static final String DEFAULT_FILTER = "inbound";

    /**
     * Frames sent on this interface leave through a {@code PACKET_TX_RING}, a batch per system
     * call, rather than one {@code pcap_sendpacket} each (BENCHMARKS.md, "CPU per frame").
     */
    public static final boolean DEFAULT_TX_RING = true;

    int snaplen = DEFAULT_SNAPLEN;
    int bufferBytes = DEFAULT_BUFFER_BYTES;
    boolean promiscuous = true;
    String filter = DEFAULT_FILTER;
    int ingress = -1;
    boolean txRing = DEFAULT_TX_RING;
    boolean fanoutDefrag;
    boolean batchReads = true;

    /**
     * Sends through a transmit ring of its own socket; the capture then ignores every outgoing
     * frame on the interface (PACKET_IGNORE_OUTGOING), also those the host's own stack sends.
     */
    public Options txRing(boolean txRing) {
      this.txRing = txRing;
      return this;
    }

    /**
     * The interface index the pipeline knows this interface by (its position in the router's
     * config), reported as {@code meta.ingress}; by default the kernel's ifindex.
     */
    public Options ingress(int ingress) {
      this.ingress = ingress;
      return this;
    }

    /**
     * Reads batches through the C shim when it is loaded (the default); false reads one {@code
     * pcap_next_ex} per frame, as {@code -Dhydranet.pcap.batch=false} does for every capture.
     */
    public Options batchReads(boolean batchReads) {
      this.batchReads = batchReads;
      return this;
    }

    /**
     * Asks a fanout group to reassemble IPv4 datagrams first ({@code PACKET_FANOUT_FLAG_DEFRAG});
     * off, and only for the test that shows why ({@link #openFanout}).
     */
    Options fanoutDefrag(boolean defrag) {
      this.fanoutDefrag = defrag;
      return this;
    }

    public Options snaplen(int snaplen) {
      this.snaplen = snaplen;
      return this;
    }

    public Options bufferBytes(int bufferBytes) {
      this.bufferBytes = bufferBytes;
      return this;
    }

    public Options promiscuous(boolean promiscuous) {
      this.promiscuous = promiscuous;
      return this;
    }

    /** A BPF expression compiled into the kernel; null or empty for none. */
    public Options filter(String filter) {
      this.filter = filter;
      return this;
    }

    /** Validates; names the field that is wrong. */
    public Options conclude() {
      if (snaplen < 64 || snaplen > 262_144) {
        throw new IllegalArgumentException("snaplen " + snaplen + " not in [64, 262144]");
      }
      if (bufferBytes < (1 << 20)) {
        throw new IllegalArgumentException("bufferBytes " + bufferBytes + " below 1 MiB");
      }
      return this;
    }
  }
}
