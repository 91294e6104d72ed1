"""`make demo` is one of the README's two commands: its walk-through runs
non-interactively here (DEMO_ONESHOT=1) and must answer every step as
expected."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


@pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, "build", "mod_gk_auth.so")),
                    reason="build/mod_gk_auth.so is not built")
def test_gk_demo_001_walkthrough():
    env = dict(os.environ, DEMO_ONESHOT="1")
    p = subprocess.run([sys.executable, os.path.join(ROOT, "docs", "demo", "demo.py")],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert "Every step gave the expected answer." in p.stdout
