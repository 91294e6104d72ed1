"""Fixtures of the Gatekeeper integration tests.

    env     (session) a GkEnv: paths, ports, httpd control, error log
    keys    (session) a KeyStore: keys made on first use in gen/keys/
Every test ends by checking the error log: a line at warn or worse that
the test did not allow (env.error_log.ignore/allow by AH/GK tag) fails it.
In sanitized mode (GK_SANITIZE=1, `make check-asan`) a sanitizer report
written by apache2 since the previous check fails it too, showing the
report; the report is then moved to <gen>/sanitizer/reported/.

Options: --mpm=event|worker|prefork (default $GK_TEST_MPM or event).
The tests of a module, test_<name>_*.py, are skipped when
build/mod_gk_<name>.so is missing; by default GkConf loads that module
alone in them, and every module built in the other tests.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gkhttpd import GkEnv, KeyStore  # noqa: E402


def pytest_addoption(parser):
    parser.addoption("--mpm", default=os.environ.get("GK_TEST_MPM", "event"),
                     choices=GkEnv.MPMS, help="MPM of the test server")


def pytest_report_header(config):
    e = GkEnv(mpm=config.getoption("--mpm"))
    built = set(e.built_gk_modules())
    mods = ["mod_gk_%s=%s" % (n, "yes" if n in built else "NOT BUILT")
            for n in sorted(built | set(e.source_gk_modules()))]
    lines = ["gatekeeper: apache2=%s mpm=%s build=%s %s" % (
        e.apache_bin, config.getoption("--mpm"), e.build_dir,
        " ".join(mods) or "(no module)")]
    if e.sanitize:
        lines.append("gatekeeper: sanitized: LD_PRELOAD=%s, reports in %s"
                     % (e.sanitizer_env()["LD_PRELOAD"], e.sanitizer_dir))
    return lines


def _sanitizer_text(reports, limit=12000):
    out = []
    for name, text in reports:
        if len(text) > limit:
            text = text[:limit] + "\n[... %d more characters]" % (
                len(text) - limit)
        out.append("--- sanitizer report %s:\n%s" % (name, text.rstrip()))
    return "\n".join(out)


def module_of_test_file(path, names):
    """The module whose tests a file holds: test_<name>_*.py for a module
    <name> (the longest that fits), else None."""
    base = os.path.basename(str(path))
    fits = [n for n in names if base.startswith("test_%s_" % n)]
    return max(fits, key=len) if fits else None


def pytest_collection_modifyitems(config, items):
    """Tests of a module (test_<name>_*.py) are skipped when its
    mod_gk_<name>.so is not built."""
    e = GkEnv(mpm=config.getoption("--mpm"))
    built = set(e.built_gk_modules())
    names = built | set(e.source_gk_modules())
    for item in items:
        name = module_of_test_file(item.fspath, names)
        if name and name not in built:
            item.add_marker(pytest.mark.skip(
                reason="%s not built (make)" % e.gk_module_path(name)))


@pytest.fixture(scope="session")
def env(request):
    e = GkEnv(mpm=request.config.getoption("--mpm"))
    e.setup()
    yield e
    e.apache_stop()
    reports = e.sanitizer_reports()
    if reports:
        pytest.fail("sanitizer report(s) at the end of the session:\n"
                    + _sanitizer_text(reports), pytrace=False)


@pytest.fixture(autouse=True, scope="module")
def _module_under_test(request, env):
    """The module a test file tests (test_<name>_*.py), for GkConf's
    default; None for the other files."""
    names = set(env.built_gk_modules()) | set(env.source_gk_modules())
    env.module_under_test = module_of_test_file(request.node.fspath, names)
    yield
    env.module_under_test = None


@pytest.fixture(scope="session")
def keys(env):
    return KeyStore(env.keys_dir)


@pytest.fixture(autouse=True)
def _check_error_log(request, env):
    yield
    reports = env.sanitizer_reports()       # [] unless sanitized
    san = "\n" + _sanitizer_text(reports) if reports else ""
    rc = env.died()
    if rc is not None:
        env._proc = None
        pytest.fail("httpd exited by itself (status %s):\n%s%s" % (
            rc, env._read_stderr_tail(2000), san), pytrace=False)
    bad = env.error_log.check()
    if bad:
        pytest.fail("unexpected lines in the error log:\n"
                    + "\n".join(l.text for l in bad) + san, pytrace=False)
    if reports:
        pytest.fail("sanitizer report(s) written by apache2:" + san,
                    pytrace=False)
