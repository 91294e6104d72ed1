#!/usr/bin/python3
"""Demo backend for `make demo`: an echo application behind the gateway.

It answers every request with a small JSON document describing what it
received from the gateway: the method, the path and the request headers
that carry identity.  It listens on 127.0.0.1 only.

    /usr/bin/python3 docs/demo/backend.py PORT [PIDFILE]
"""

import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Headers the gateway may add.  Everything else is summarised.
IDENTITY_HEADERS = ("X-Correlation-ID", "X-User", "X-User-Email",
                    "X-Remote-User", "X-GK-Roles", "X-GK-Permissions")


class EchoHandler(BaseHTTPRequestHandler):
    server_version = "gatekeeper-demo-backend"
    sys_version = ""

    def _answer(self):
        seen = {}
        for name in IDENTITY_HEADERS:
            values = self.headers.get_all(name)
            if values:
                seen[name] = values[0] if len(values) == 1 else values
        auth = self.headers.get("Authorization")
        doc = {
            "backend": "demo echo app",
            "method": self.command,
            "path": self.path,
            "identity_headers": seen,
            "authorization_forwarded": auth is not None,
            "via_gateway": self.headers.get("X-Forwarded-For") is not None,
        }
        body = (json.dumps(doc, indent=2) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer
    do_HEAD = do_OPTIONS = _answer

    def log_message(self, fmt, *args):
        # The gateway's access log is the one to read; stay quiet.
        pass


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: backend.py PORT [PIDFILE]")
    port = int(sys.argv[1])
    pidfile = sys.argv[2] if len(sys.argv) > 2 else None
    server = ThreadingHTTPServer(("127.0.0.1", port), EchoHandler)
    server.daemon_threads = True

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    if pidfile:
        with open(pidfile, "w") as f:
            f.write("%d\n" % os.getpid())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if pidfile:
            try:
                os.unlink(pidfile)
            except OSError:
                pass


if __name__ == "__main__":
    main()
