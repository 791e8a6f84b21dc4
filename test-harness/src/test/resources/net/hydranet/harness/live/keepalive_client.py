"""Keep-alive HTTP connections for FloodIT: each asks GET / every 100 ms on its own connection and
checks that the server that answered first ("ORIGIN" or "REPLICA" in the page) answers every time.
A connection is lost at its first error: reset, closed, another server, or no answer in 120 s (a
request may wait for retransmissions while a flood runs: slow is not lost).

  keepalive_client.py ADDRESS PORT

Commands on stdin, one a line, each answered by one line on stdout:
  open N TAG   opens N connections, each answered once ("opened N", or "failed REASON")
  counts       "counts TAG:REQUESTS_ANSWERED:LOST ..." for every connection, in opening order
  report       "conn I TAG SERVER ANSWERED ERROR|-" for every connection, then "end"
"""
import socket
import sys
import threading
import time

ADDRESS, PORT = sys.argv[1], int(sys.argv[2])
conns = []


class Conn:
    def __init__(self, tag):
        self.tag = tag
        self.answered = 0
        self.error = None
        self.server = None
        self.sock = socket.create_connection((ADDRESS, PORT), timeout=10)
        self.sock.settimeout(120)
        self.reader = self.sock.makefile("rb")
        self.request()

    def start(self):
        threading.Thread(target=self.run, daemon=True).start()

    def request(self):
        self.sock.sendall(b"GET / HTTP/1.1\r\nHost: origin\r\n\r\n")
        status = self.reader.readline()
        if not status.startswith(b"HTTP/1.1 200"):
            raise IOError("status line %r" % status)
        length = None
        while True:
            line = self.reader.readline()
            if not line:
                raise IOError("closed in the headers")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                raise IOError("the server closes the connection")
        if length is None:
            raise IOError("no content-length")
        body = self.reader.read(length)
        if len(body) != length:
            raise IOError("closed in the body")
        if b"ORIGIN" in body:
            server = "ORIGIN"
        elif b"REPLICA" in body:
            server = "REPLICA"
        else:
            server = repr(body[:30])
        if self.server is None:
            self.server = server
        elif server != self.server:
            raise IOError("answered by %s, was %s" % (server, self.server))
        self.answered += 1

    def run(self):
        while True:
            time.sleep(0.1)
            try:
                self.request()
            except Exception as e:  # any failure loses the connection: say which
                self.error = "%s:%s" % (type(e).__name__, str(e).replace(" ", "_"))
                return


def main():
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "open":
            try:
                opened = [Conn(words[2]) for _ in range(int(words[1]))]
            except Exception as e:
                print("failed %s: %s" % (type(e).__name__, e), flush=True)
                continue
            for c in opened:
                conns.append(c)
                c.start()
            print("opened %d" % len(opened), flush=True)
        elif words[0] == "counts":
            print(
                "counts "
                + " ".join(
                    "%s:%d:%d" % (c.tag, c.answered, 0 if c.error is None else 1) for c in conns
                ),
                flush=True,
            )
        elif words[0] == "report":
            for i, c in enumerate(conns):
                print("conn %d %s %s %d %s" % (i, c.tag, c.server, c.answered, c.error or "-"))
            print("end", flush=True)
        else:
            print("unknown command %r" % line.strip(), flush=True)


main()
