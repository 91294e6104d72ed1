"""McProxy: a loopback TCP proxy between httpd and memcached that counts
round trips of the binary protocol, independently of timing.

    p = McProxy(upstream_port).start()   # listens on 127.0.0.1:p.port
    p.addr                               # "127.0.0.1:PORT" (for --SERVER=)
    n0 = p.round_trips()
    ... requests ...
    p.round_trips() - n0                 # round trips since n0
    p.connections()                      # per connection: ConnStats
    p.stop()

A round trip is one batch of requests a client sends before it must wait
for an answer. In memcached's binary protocol every request is a frame
(a 24-byte header, magic 0x80, with its body's length); the "quiet"
opcodes (GETQ, GETKQ, SETQ, ...) get no answer unless they fail, so a
client that sends GETKQ, GETKQ, GETK (or GETKQ..., NOOP, as libmemcached's
mget does) waits once, after the last frame. So the proxy parses the
frames the client sends and counts a round trip at each frame that is not
quiet: the count does not depend on how the bytes were split into TCP
segments or on when memcached answered. Frames are parsed across reads;
anything that is not a binary-protocol request (the text protocol, a bad
magic) is recorded as an error (`errors`), which a test asserts empty.

Standalone (standard library only): bench/gkbench loads it by its path.
One thread accepts, one thread per connection relays both directions
(selectors); stop() closes everything.
"""

import selectors
import socket
import struct
import threading

MAGIC_REQUEST = 0x80
HEADER = 24

# request opcodes that get no answer on success (binary protocol)
QUIET = {
    0x09,   # GETQ
    0x0d,   # GETKQ
    0x11,   # SETQ
    0x12,   # ADDQ
    0x13,   # REPLACEQ
    0x14,   # DELETEQ
    0x15,   # INCREMENTQ
    0x16,   # DECREMENTQ
    0x17,   # QUITQ
    0x18,   # FLUSHQ
    0x19,   # APPENDQ
    0x1a,   # PREPENDQ
    0x1e,   # GATQ
    0x24,   # GATKQ
}

OPCODES = {0x00: "GET", 0x01: "SET", 0x02: "ADD", 0x03: "REPLACE",
           0x04: "DELETE", 0x05: "INCREMENT", 0x06: "DECREMENT",
           0x07: "QUIT", 0x08: "FLUSH", 0x09: "GETQ", 0x0a: "NOOP",
           0x0b: "VERSION", 0x0c: "GETK", 0x0d: "GETKQ", 0x0e: "APPEND",
           0x0f: "PREPEND", 0x10: "STAT", 0x11: "SETQ", 0x12: "ADDQ",
           0x13: "REPLACEQ", 0x14: "DELETEQ", 0x15: "INCREMENTQ",
           0x16: "DECREMENTQ", 0x17: "QUITQ", 0x18: "FLUSHQ",
           0x19: "APPENDQ", 0x1a: "PREPENDQ", 0x1c: "TOUCH", 0x1d: "GAT",
           0x1e: "GATQ", 0x23: "GATK", 0x24: "GATKQ"}


def opname(op):
    return OPCODES.get(op, "0x%02x" % op)


class ConnStats:
    """What one client connection sent: its round trips, each as the list
    of the opcodes (names) of its frames, and parse errors."""

    def __init__(self, peer):
        self.peer = peer
        self.batches = []       # [[opname, ...], ...], completed batches
        self.pending = []       # frames of the batch under way
        self.errors = []
        self._buf = b""
        self._broken = False

    def feed(self, data):
        """Parse what the client sent (any split)."""
        if self._broken:
            return
        self._buf += data
        while len(self._buf) >= HEADER:
            magic, op = self._buf[0], self._buf[1]
            if magic != MAGIC_REQUEST:
                self.errors.append("not a binary-protocol request: %r"
                                   % self._buf[:32])
                self._broken = True
                self._buf = b""
                return
            body = struct.unpack(">I", self._buf[8:12])[0]
            if len(self._buf) < HEADER + body:
                return
            self._buf = self._buf[HEADER + body:]
            self.pending.append(opname(op))
            if op not in QUIET:
                self.batches.append(self.pending)
                self.pending = []


class McProxy:

    def __init__(self, upstream_port, upstream_host="127.0.0.1"):
        self.upstream = (upstream_host, upstream_port)
        self._lsock = None
        self._lock = threading.Lock()
        self._conns = []        # ConnStats, in accept order
        self._socks = set()
        self._stop = threading.Event()
        self._threads = []
        self.port = None

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    def start(self, port=0):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(128)
        s.settimeout(0.2)
        self._lsock = s
        self.port = s.getsockname()[1]
        self._stop.clear()
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def _accept(self):
        while not self._stop.is_set():
            try:
                c, peer = self._lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                u = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                c.close()           # upstream down: the client sees it
                continue
            st = ConnStats(peer)
            with self._lock:
                self._conns.append(st)
                self._socks.update((c, u))
            t = threading.Thread(target=self._relay, args=(c, u, st),
                                 daemon=True)
            t.start()
            self._threads.append(t)

    def _relay(self, c, u, st):
        for x in (c, u):
            x.setblocking(False)
            x.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sel = selectors.DefaultSelector()
        sel.register(c, selectors.EVENT_READ, u)
        sel.register(u, selectors.EVENT_READ, c)
        try:
            while not self._stop.is_set():
                for key, _ in sel.select(0.2):
                    src, dst = key.fileobj, key.data
                    try:
                        data = src.recv(65536)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    if not data:
                        return
                    if src is c:
                        with self._lock:
                            st.feed(data)
                    dst.setblocking(True)
                    try:
                        dst.sendall(data)
                    except OSError:
                        return
                    finally:
                        dst.setblocking(False)
        finally:
            sel.close()
            for x in (c, u):
                try:
                    x.close()
                except OSError:
                    pass
            with self._lock:
                self._socks.discard(c)
                self._socks.discard(u)

    # ---- counts ------------------------------------------------------------
    def round_trips(self):
        """Round trips completed so far, over every connection."""
        with self._lock:
            return sum(len(s.batches) for s in self._conns)

    def batches(self):
        """Every completed batch so far, as (connection index, [opnames])."""
        with self._lock:
            return [(i, list(b)) for i, s in enumerate(self._conns)
                    for b in s.batches]

    def connections(self):
        with self._lock:
            return list(self._conns)

    def errors(self):
        with self._lock:
            return [e for s in self._conns for e in s.errors]

    def drop_connections(self):
        """Close every relayed connection (the clients see memcached go
        away); the proxy keeps listening."""
        with self._lock:
            socks = list(self._socks)
        for x in socks:
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        self._stop.set()
        if self._lsock is not None:
            try:
                self._lsock.close()
            except OSError:
                pass
            self._lsock = None
        self.drop_connections()
        for t in self._threads:
            t.join(2)
        self._threads = []
