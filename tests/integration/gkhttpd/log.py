"""The error log checker.

httpd writes lines such as

  [Sat Nov 29 08:45:00.123456 2025] [authz_core:error] [pid 12:tid 34] \
      [client 127.0.0.1:5555] AH01630: client denied by server configuration

Every test ends with check(): the lines written since the previous check
at level warn or worse fail the test unless their tag (AH01630, GK10001...)
or a regular expression was allowed, either for this test only (ignore())
or for the rest of the class (allow(), reset by every config install).
"""

import re
import time

LEVELS = ["emerg", "alert", "crit", "error", "warn", "notice", "info",
          "debug"] + ["trace%d" % i for i in range(1, 9)]
BAD_LEVELS = {"emerg", "alert", "crit", "error", "warn"}
# bad whatever their level: a child killed by a signal (logged at notice)
BAD_TAGS = {"AH00052"}
# never bad: the event MPM's own race between a connection's lingering
# close and the shutdown of its listener during a stop or restart
# ("process_lingering_close: apr_pollset_add failure", EBADF), seen once
# in a run with only mod_gk_log loaded; no module takes part in it
BENIGN_TAGS = {"AH03092"}

RE_HEAD = re.compile(r"^\[[^\]]*\] \[(?P<module>[^:\]]*):(?P<level>\w+)\]")
RE_TAG = re.compile(r"\b((?:AH|GK)\d{5})\b")


class LogLine:
    def __init__(self, text):
        self.text = text
        m = RE_HEAD.match(text)
        self.module = m.group("module") if m else None
        self.level = m.group("level") if m else None
        # the tag is the first AH/GK number after the bracketed prefix
        rest = text[m.end():] if m else text
        rest = re.sub(r"^(\s*\[[^\]]*\])*\s*", "", rest)
        t = RE_TAG.match(rest) or RE_TAG.search(rest)
        self.tag = t.group(1) if t else None

    @property
    def is_bad(self):
        if self.tag in BENIGN_TAGS:
            return False
        return self.level in BAD_LEVELS or self.tag in BAD_TAGS

    def __repr__(self):
        return self.text


class ErrorLog:
    def __init__(self, path):
        self.path = path
        self._pos = 0
        self._recent_tags = set()
        self._recent_res = []
        self._class_tags = set()
        self._class_res = []

    # ---- position bookkeeping ------------------------------------------
    def _size(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(0, 2)
                return f.tell()
        except FileNotFoundError:
            return 0

    def mark(self):
        """Forget everything written so far (e.g. an expected failure)."""
        self._pos = self._size()
        return self._pos

    def lines_since(self, pos):
        try:
            with open(self.path, "rb") as f:
                f.seek(pos)
                data = f.read()
        except FileNotFoundError:
            return []
        text = data.decode("utf-8", "replace")
        return [LogLine(l) for l in text.splitlines() if l.strip()]

    def recent(self):
        """Lines written since the last check or mark, without consuming."""
        return self.lines_since(self._pos)

    # ---- allow lists ---------------------------------------------------
    def ignore(self, tags=(), regex=None):
        """Allow these tags/regex for the current test only."""
        self._recent_tags.update(tags)
        if regex:
            self._recent_res.append(re.compile(regex))

    def allow(self, tags=(), regex=None):
        """Allow these tags/regex until the next config install."""
        self._class_tags.update(tags)
        if regex:
            self._class_res.append(re.compile(regex))

    def reset_allowed(self):
        self._class_tags.clear()
        self._class_res.clear()

    def _allowed(self, line):
        if line.tag and (line.tag in self._recent_tags
                         or line.tag in self._class_tags):
            return True
        for rx in self._recent_res + self._class_res:
            if rx.search(line.text):
                return True
        return False

    # ---- the check -----------------------------------------------------
    def check(self):
        """Return the unexpected warn+ lines since the last check and
        move on; the per-test allow list is cleared."""
        lines = self.recent()
        self._pos = self._size()
        bad = [l for l in lines if l.is_bad and not self._allowed(l)]
        self._recent_tags.clear()
        self._recent_res.clear()
        return bad

    # ---- assertions on expected lines ----------------------------------
    def find(self, tag=None, regex=None, level=None, lines=None):
        rx = re.compile(regex) if regex else None
        found = []
        for l in (self.recent() if lines is None else lines):
            if tag and l.tag != tag:
                continue
            if level and l.level != level:
                continue
            if rx and not rx.search(l.text):
                continue
            found.append(l)
        return found

    def wait_for(self, regex, timeout=10.0, since=None):
        """Wait until a line matching regex shows up after position since
        (default: the current mark)."""
        pos = self._pos if since is None else since
        rx = re.compile(regex)
        end = time.monotonic() + timeout
        while True:
            for l in self.lines_since(pos):
                if rx.search(l.text):
                    return l
            if time.monotonic() > end:
                return None
            time.sleep(0.05)
