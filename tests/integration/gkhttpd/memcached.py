"""Memcached: a real memcached server (Debian's /usr/bin/memcached) for the
tests, on a free loopback port of 127.0.0.1.

    mc = Memcached(log_dir)          # a port is chosen, nothing runs yet
    mc.start()                       # waits until it answers `version`
    mc.addr                          # "127.0.0.1:PORT" (for --SERVER=)
    mc.stats()                       # {"incr_hits": 3, ...} (text protocol)
    mc.keys(), mc.metadump()         # the keys it holds (lru_crawler)
    mc.pause() / mc.resume()         # SIGSTOP (waits for state T) / SIGCONT
    mc.kill()                        # SIGKILL, waits until the port is free
    mc.restart()                     # kill if running, start on the same port
    mc.stop()                        # SIGTERM (then SIGKILL); idempotent
    with Memcached(log_dir) as mc:   # started, stopped at the end

It runs with `-U 0` (no UDP), a small cache (-m), as `nobody` when we are
root, in its own process group. Every instance is stopped at the latest
when the interpreter exits (stop_all, registered with atexit); tests stop
theirs in their fixtures' teardown.
"""

import atexit
import os
import signal
import socket
import subprocess
import time
import urllib.parse
from pathlib import Path

from .env import free_port

MEMCACHED_BIN = "/usr/bin/memcached"

_instances = []


def have_memcached():
    return os.access(MEMCACHED_BIN, os.X_OK)


def _task_states(pid):
    """The state letters of every thread of pid ([] when it is gone)."""
    out = []
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for tid in tids:
        try:
            text = Path("/proc/%d/task/%s/stat" % (pid, tid)).read_text()
        except OSError:
            continue
        # "pid (comm) S ...": comm may hold spaces and parentheses
        out.append(text[text.rindex(")") + 2:].split()[0])
    return out


class MemcachedError(Exception):
    pass


class Memcached:

    def __init__(self, log_dir, port=None, memory_mb=16, threads=2,
                 name="memcached"):
        self.log_dir = Path(log_dir)
        self.port = port or free_port()
        self.memory_mb = memory_mb
        self.threads = threads
        self.name = name
        self.log_file = self.log_dir / ("%s-%d.log" % (name, self.port))
        self._proc = None
        self.paused = False
        _instances.append(self)

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    @property
    def pid(self):
        return self._proc.pid if self._proc else None

    @property
    def is_running(self):
        return self._proc is not None and self._proc.poll() is None

    def __repr__(self):
        return "<Memcached %s pid=%s%s>" % (
            self.addr, self.pid, " paused" if self.paused else "")

    # ---- life ------------------------------------------------------------
    def _cmd(self):
        cmd = [MEMCACHED_BIN, "-l", "127.0.0.1", "-p", str(self.port),
               "-U", "0", "-m", str(self.memory_mb), "-t", str(self.threads),
               "-c", "4096"]
        if os.geteuid() == 0:
            cmd += ["-u", "nobody"]
        return cmd

    def start(self, timeout=10.0):
        """Start on self.port and wait until it answers; a first start
        whose port was taken meanwhile moves to another free port."""
        if self.is_running:
            return self
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for attempt in range(3):
            try:
                return self._start_once(timeout)
            except MemcachedError as e:
                if "in use" not in str(e).lower() or attempt == 2:
                    raise
                time.sleep(0.2)

    def _start_once(self, timeout):
        log = open(self.log_file, "ab")
        try:
            self._proc = subprocess.Popen(self._cmd(),
                                          stdin=subprocess.DEVNULL,
                                          stdout=log, stderr=log,
                                          start_new_session=True)
        finally:
            log.close()
        self.paused = False
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self._proc.poll() is not None:
                self._proc = None
                raise MemcachedError("memcached exited at startup: %s"
                                     % self._log_tail())
            try:
                if self.command(b"version\r\n", b"\r\n",
                                timeout=0.5).startswith(b"VERSION"):
                    return self
            except OSError:
                pass
            time.sleep(0.02)
        self.kill()
        raise MemcachedError("memcached did not answer on %s within %ss: %s"
                             % (self.addr, timeout, self._log_tail()))

    def _log_tail(self, n=2000):
        try:
            return self.log_file.read_bytes()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def _wait_states(self, pred, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            st = _task_states(self._proc.pid)
            if st and pred(st):
                return st
            time.sleep(0.002)
        raise MemcachedError("memcached pid %d: thread states %r"
                             % (self._proc.pid, _task_states(self._proc.pid)))

    def pause(self, timeout=5.0):
        """SIGSTOP, then wait until every thread is stopped (state T):
        memcached may still answer just after kill() returns."""
        if not self.is_running:
            raise MemcachedError("not running")
        os.kill(self._proc.pid, signal.SIGSTOP)
        self.paused = True
        self._wait_states(lambda st: all(s in "Tt" for s in st), timeout)

    def resume(self, timeout=5.0):
        """SIGCONT, then wait until no thread is stopped."""
        if not self.is_running:
            raise MemcachedError("not running")
        os.kill(self._proc.pid, signal.SIGCONT)
        self.paused = False
        self._wait_states(lambda st: not any(s in "Tt" for s in st), timeout)

    def _wait_port_free(self, timeout=5.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                with socket.create_connection(("127.0.0.1", self.port),
                                              timeout=0.2):
                    pass
            except OSError:
                return
            time.sleep(0.02)

    def kill(self):
        """SIGKILL (works on a paused one too); wait until gone."""
        p = self._proc
        if p is None:
            return
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(10)
        self._proc = None
        self.paused = False
        self._wait_port_free()

    def stop(self):
        """SIGTERM (SIGCONT first when paused), SIGKILL after 5 s."""
        p = self._proc
        if p is None:
            return
        if p.poll() is None:
            try:
                if self.paused:
                    os.kill(p.pid, signal.SIGCONT)
                p.terminate()
                p.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()
                return
            except ProcessLookupError:
                pass
        self._proc = None
        self.paused = False
        self._wait_port_free()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if self.paused:
            self.resume()
        self.stop()

    def restart(self, timeout=10.0):
        """Kill (its data goes with it) and start again on the same port."""
        self.kill()
        return self.start(timeout)

    # ---- the text protocol -------------------------------------------------
    def command(self, data, end=b"END\r\n", timeout=5.0):
        """Send one text-protocol command, read until the reply ends with
        `end` (or an error line)."""
        with socket.create_connection(("127.0.0.1", self.port),
                                      timeout=timeout) as s:
            s.sendall(data)
            buf = b""
            while not buf.endswith(end):
                b = s.recv(65536)
                if not b:
                    break
                buf += b
                if buf.startswith((b"ERROR", b"CLIENT_ERROR",
                                   b"SERVER_ERROR")) and buf.endswith(
                                       b"\r\n"):
                    break
            return buf

    def stats(self, timeout=5.0):
        """`stats` as a dict; numeric values as int."""
        out = {}
        for line in self.command(b"stats\r\n",
                                 timeout=timeout).decode().split("\r\n"):
            parts = line.split(" ", 2)
            if len(parts) == 3 and parts[0] == "STAT":
                v = parts[2]
                try:
                    v = int(v)
                except ValueError:
                    pass
                out[parts[1]] = v
        return out

    def incr_ops(self, stats=None):
        """incr_hits + incr_misses (the increments memcached counted)."""
        s = stats or self.stats()
        return s["incr_hits"] + s["incr_misses"]

    def metadump(self, timeout=5.0):
        """Every live item (lru_crawler metadump all) as a dict of its
        fields: "key" (decoded), "exp" (absolute Unix time, -1 for
        never), "la", "cas", "fetch", "cls", "size"."""
        data = self.command(b"lru_crawler metadump all\r\n",
                            timeout=timeout).decode("latin-1")
        out = []
        for line in data.split("\r\n"):
            if line.startswith("key="):
                d = dict(f.split("=", 1) for f in line.split(" ") if "=" in f)
                d["key"] = urllib.parse.unquote(d["key"])
                out.append(d)
        return out

    def keys(self, timeout=5.0):
        """Every live key, decoded."""
        return [d["key"] for d in self.metadump(timeout)]


def stop_all():
    for m in list(_instances):
        try:
            m.stop()
        except Exception:
            try:
                m.kill()
            except Exception:
                pass


atexit.register(stop_all)
