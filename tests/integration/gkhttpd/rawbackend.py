"""RawBackend: a minimal HTTP/1.1 backend on 127.0.0.1 that records the
bytes of every request head it receives, exactly as they arrived, and
answers 200 with a small body.  Tests proxy to it (mod_proxy_http) to see
what a backend really gets: header lines, their order and their bytes,
which a CGI environment or a framework would already have interpreted.

    with RawBackend() as b:
        ... ProxyPass /raw/ http://127.0.0.1:%d/ % b.port ...
        head = b.last()             # bytes of the last request head
        b.header_lines(head)        # [(name_bytes, value_bytes), ...]

`reply_headers` (a list of (name, value) str pairs) are added to every
answer, e.g. to play a backend that echoes a header back; a subclass that
overrides answer() chooses status, headers and body per request.
"""

import socket
import threading


class RawBackend:
    def __init__(self, reply_headers=()):
        self.reply_headers = list(reply_headers)
        self.requests = []
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        self._sock.close()

    def clear(self):
        with self._lock:
            self.requests = []

    def last(self):
        with self._lock:
            return self.requests[-1] if self.requests else None

    @staticmethod
    def header_lines(head):
        """The header lines of a request head as (name, value) bytes."""
        lines = head.split(b"\r\n")[1:]
        out = []
        for l in lines:
            if not l:
                continue
            name, _, value = l.partition(b":")
            out.append((name, value.strip(b" \t")))
        return out

    # The reason phrase of every answer.
    REASON = "OK"

    def answer(self, method, path):
        """(status, [(name, value)...], body) for a request; a subclass
        answers as it likes."""
        return (200, [("Content-Type", "text/plain")] + self.reply_headers,
                b"ok\n")

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,),
                             daemon=True).start()

    def _handle(self, conn):
        conn.settimeout(10)
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                with self._lock:
                    self.requests.append(head)
                length = 0
                for name, value in self.header_lines(head):
                    if name.lower() == b"content-length":
                        length = int(value)
                while len(buf) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                buf = buf[length:]
                method, path = head.split(b"\r\n", 1)[0].split(b" ")[:2]
                status, headers, body = self.answer(
                    method.decode("latin-1"), path.decode("latin-1"))
                if isinstance(body, str):
                    body = body.encode()
                out = b"HTTP/1.1 %d %s\r\nContent-Length: %d\r\n" % (
                    status, self.REASON.encode(), len(body))
                for kv in headers:
                    out += ("%s: %s\r\n" % kv).encode("latin-1")
                if status in (204, 304) or method == b"HEAD":
                    body = b""
                conn.sendall(out + b"\r\n" + body)
        except OSError:
            return
        finally:
            conn.close()
