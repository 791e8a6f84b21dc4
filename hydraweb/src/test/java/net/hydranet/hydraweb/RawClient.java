package net.hydranet.hydraweb;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** A deliberately simple HTTP/1.1 client over a socket: writes raw bytes, reads one response. */
final class RawClient implements AutoCloseable {
  record Response(int status, Map<String, String> headers, byte[] body) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  RawClient(InetSocketAddress server) throws IOException {
    socket = new Socket();
    socket.connect(server, 5_000);
    socket.setSoTimeout(5_000);
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  RawClient send(String raw) throws IOException {
    out.write(raw.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
    return this;
  }

  static String get(String path, String... headers) {
    return request("GET", path, headers);
  }

  static String request(String method, String path, String... headers) {
    StringBuilder b = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: test\r\n");
    for (String h : headers) {
      b.append(h).append("\r\n");
    }
    return b.append("\r\n").toString();
  }

  /** Reads one response; {@code head} for a HEAD request (no body whatever the length says). */
  Response read(boolean head) throws IOException {
    String statusLine = line();
    if (statusLine == null) {
      throw new IOException("connection closed before a response");
    }
    String[] s = statusLine.split(" ", 3);
    if (!s[0].equals("HTTP/1.1")) {
      throw new IOException("bad status line: " + statusLine);
    }
    int status = Integer.parseInt(s[1]);
    Map<String, String> headers = new LinkedHashMap<>();
    String l;
    while (!(l = line()).isEmpty()) {
      int c = l.indexOf(':');
      String name = l.substring(0, c).toLowerCase(Locale.ROOT);
      if (headers.containsKey(name)) {
        throw new IOException("repeated header " + name);
      }
      headers.put(name, l.substring(c + 1).strip());
    }
    byte[] body = new byte[0];
    if (!head && status != 304 && headers.containsKey("content-length")) {
      body = in.readNBytes(Integer.parseInt(headers.get("content-length")));
    }
    return new Response(status, headers, body);
  }

  Response read() throws IOException {
    return read(false);
  }

  /** True when the server closed the connection (EOF) within the socket timeout. */
  boolean closedByServer() throws IOException {
    try {
      return in.read() < 0;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset
    }
  }

  void shutdownOutput() throws IOException {
    socket.shutdownOutput();
  }

  void timeout(int millis) throws IOException {
    socket.setSoTimeout(millis);
  }

  private String line() throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        byte[] a = b.toByteArray();
        if (a.length == 0 || a[a.length - 1] != '\r') {
          throw new IOException("line not ended by CRLF");
        }
        return new String(a, 0, a.length - 1, StandardCharsets.ISO_8859_1);
      }
      b.write(c);
    }
    return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
  }

  InputStream input() {
    return in;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
