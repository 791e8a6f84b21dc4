package net.hydranet.replica;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Frame bodies: big-endian integers, strings as u16 length + UTF-8, byte blocks as u32 length +
 * bytes. A reader never reads past its body: a short or lying body is a {@link ProtocolException}.
 */
public final class Body {
  private Body() {}

  /** Builds a body. */
  public static final class Writer {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public Writer u8(int v) {
      out.write(v);
      return this;
    }

    public Writer u16(int v) {
      out.write(v >>> 8);
      out.write(v);
      return this;
    }

    public Writer u32(long v) {
      for (int s = 24; s >= 0; s -= 8) {
        out.write((int) (v >>> s));
      }
      return this;
    }

    public Writer u64(long v) {
      for (int s = 56; s >= 0; s -= 8) {
        out.write((int) (v >>> s));
      }
      return this;
    }

    public Writer str(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      if (b.length > 0xffff) {
        throw new IllegalArgumentException("string longer than 65535 bytes");
      }
      u16(b.length);
      out.write(b, 0, b.length);
      return this;
    }

    public Writer bytes(byte[] b) {
      u32(b.length);
      out.write(b, 0, b.length);
      return this;
    }

    /** Bytes with no length before them (a fixed-size field such as a signature). */
    public Writer raw(byte[] b) {
      out.write(b, 0, b.length);
      return this;
    }

    public byte[] toByteArray() {
      return out.toByteArray();
    }
  }

  /** Reads a body, checking every length against what is left. */
  public static final class Reader {
    private final ByteBuffer in;

    public Reader(byte[] body) {
      this.in = ByteBuffer.wrap(body);
    }

    private void need(int n, String what) throws ProtocolException {
      if (n < 0 || in.remaining() < n) {
        throw new ProtocolException(
            "body too short for "
                + what
                + " ("
                + in.remaining()
                + " bytes left, "
                + n
                + " needed)");
      }
    }

    public int u8() throws ProtocolException {
      need(1, "u8");
      return in.get() & 0xff;
    }

    public int u16() throws ProtocolException {
      need(2, "u16");
      return in.getShort() & 0xffff;
    }

    public long u32() throws ProtocolException {
      need(4, "u32");
      return in.getInt() & 0xffffffffL;
    }

    public long u64() throws ProtocolException {
      need(8, "u64");
      return in.getLong();
    }

    public String str() throws ProtocolException {
      int n = u16();
      need(n, "string");
      byte[] b = new byte[n];
      in.get(b);
      return new String(b, StandardCharsets.UTF_8);
    }

    public byte[] bytes() throws ProtocolException {
      long n = u32();
      if (n > in.remaining()) {
        throw new ProtocolException("byte block of " + n + " bytes, " + in.remaining() + " left");
      }
      byte[] b = new byte[(int) n];
      in.get(b);
      return b;
    }

    public byte[] raw(int n) throws ProtocolException {
      need(n, "field");
      byte[] b = new byte[n];
      in.get(b);
      return b;
    }

    public int remaining() {
      return in.remaining();
    }

    /** Refuses trailing bytes: a body is exactly its fields. */
    public void end() throws ProtocolException {
      if (in.hasRemaining()) {
        throw new ProtocolException(in.remaining() + " trailing bytes in body");
      }
    }
  }
}
