package net.hydranet.forwarding.io.live;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;

/**
 * Direct-mapped libpcap entry points: the hot calls cost one JNI transition and no marshalling.
 *
 * <p>Pointers are passed as {@code long} native addresses rather than {@link com.sun.jna.Pointer}
 * so that no JNA object is touched per packet; that needs an LP64 platform, which {@link #load()}
 * checks. Strings appear only on the open path, where JNA's temporary conversion does not matter.
 */
final class PcapNative {
  /** Size of the error buffer every libpcap open call fills (PCAP_ERRBUF_SIZE). */
  static final int ERRBUF_SIZE = 256;

  static final int PCAP_ERROR = -1;
  static final int PCAP_ERROR_BREAK = -2;
  static final int PCAP_ERROR_NO_SUCH_DEVICE = -5;
  static final int PCAP_ERROR_PERM_DENIED = -8;
  static final int PCAP_TSTAMP_PRECISION_NANO = 1;

  /** bpf_u_int32 PCAP_NETMASK_UNKNOWN: "inbound" does not need a netmask. */
  static final int PCAP_NETMASK_UNKNOWN = 0xFFFF_FFFF;

  /**
   * struct pcap_pkthdr on LP64: a struct timeval (two longs), then caplen and len as u32. Offsets
   * are part of libpcap's stable ABI.
   */
  static final int PKTHDR_TV_SEC = 0;

  static final int PKTHDR_TV_FRACTION = 8;
  static final int PKTHDR_CAPLEN = 16;
  static final int PKTHDR_LEN = 20;
  static final int PKTHDR_SIZE = 24;

  /** struct bpf_program on LP64: u_int bf_len, padding, struct bpf_insn *bf_insns. */
  static final int BPF_PROGRAM_SIZE = 16;

  /** struct pcap_stat: u_int ps_recv, ps_drop, ps_ifdrop (room left for platform extras). */
  static final int PCAP_STAT_SIZE = 32;

  private static final String[] LIBRARY_NAMES = {"pcap", "libpcap.so.1", "libpcap.so.0.8"};

  private static volatile Throwable loadFailure;
  private static volatile boolean loaded;
  private static volatile NativeLibrary library;

  private PcapNative() {}

  /**
   * Binds the natives once; idempotent.
   *
   * @throws UnsatisfiedLinkError with every name tried when no libpcap can be loaded
   */
  static synchronized void load() {
    if (loaded) {
      return;
    }
    if (loadFailure != null) {
      throw linkError(loadFailure);
    }
    if (Native.POINTER_SIZE != 8) {
      loadFailure = new UnsatisfiedLinkError("pointer size " + Native.POINTER_SIZE + ", need 8");
      throw linkError(loadFailure);
    }
    UnsatisfiedLinkError last = null;
    for (String name : LIBRARY_NAMES) {
      try {
        final NativeLibrary lib = NativeLibrary.getInstance(name);
        Native.register(PcapNative.class, lib);
        library = lib;
        loaded = true;
        return;
      } catch (UnsatisfiedLinkError e) {
        last = e;
      }
    }
    loadFailure = last;
    throw linkError(last);
  }

  /**
   * The native address of one of libpcap's functions, for the batch-read shim ({@link PcapShim});
   * after {@link #load()}.
   *
   * @throws UnsatisfiedLinkError when libpcap does not export it
   */
  static long functionAddress(String name) {
    load();
    return com.sun.jna.Pointer.nativeValue(library.getFunction(name));
  }

  private static UnsatisfiedLinkError linkError(Throwable cause) {
    UnsatisfiedLinkError e =
        new UnsatisfiedLinkError(
            "libpcap could not be loaded (tried "
                + String.join(", ", LIBRARY_NAMES)
                + "): install libpcap0.8 (Debian) — "
                + cause.getMessage());
    e.initCause(cause);
    return e;
  }

  static native long pcap_create(String source, byte[] errbuf);

  static native int pcap_set_snaplen(long p, int snaplen);

  static native int pcap_set_promisc(long p, int promisc);

  static native int pcap_set_timeout(long p, int toMs);

  static native int pcap_set_buffer_size(long p, int bufferSize);

  static native int pcap_set_immediate_mode(long p, int immediate);

  static native int pcap_set_tstamp_precision(long p, int precision);

  static native int pcap_get_tstamp_precision(long p);

  static native int pcap_activate(long p);

  static native int pcap_datalink(long p);

  static native int pcap_setnonblock(long p, int nonblock, byte[] errbuf);

  static native int pcap_compile(long p, long program, String expr, int optimize, int netmask);

  static native int pcap_setfilter(long p, long program);

  static native void pcap_freecode(long program);

  static native int pcap_next_ex(long p, long headerOut, long dataOut);

  static native int pcap_get_selectable_fd(long p);

  static native int pcap_sendpacket(long p, long buf, int size);

  static native int pcap_stats(long p, long stats);

  static native String pcap_geterr(long p);

  static native String pcap_statustostr(int error);

  static native String pcap_lib_version();

  static native void pcap_close(long p);
}
