"""Fixtures of the Gatekeeper integration tests.

    env     (session) a GkEnv: paths, ports, httpd control, error log
    keys    (session) a KeyStore: keys made on first use in gen/keys/
Every test ends by checking the error log: a line at warn or worse that
the test did not allow (env.error_log.ignore/allow by AH/GK tag) fails it.

Options: --mpm=event|worker|prefork (default $GK_TEST_MPM or event).
Tests of mod_gk_auth are skipped when build/mod_gk_auth.so is missing.
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
    return ["gatekeeper: apache2=%s mpm=%s build=%s mod_gk_auth=%s" % (
        e.apache_bin, config.getoption("--mpm"), e.build_dir,
        "yes" if e.has_gk_module("auth") else "NOT BUILT")]


def pytest_collection_modifyitems(config, items):
    e = GkEnv(mpm=config.getoption("--mpm"))
    if e.has_gk_module("auth"):
        return
    skip = pytest.mark.skip(reason="build/mod_gk_auth.so not built (make)")
    for item in items:
        if os.path.basename(str(item.fspath)).startswith(
                ("test_auth_", "test_module_")):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def env(request):
    e = GkEnv(mpm=request.config.getoption("--mpm"))
    e.setup()
    yield e
    e.apache_stop()


@pytest.fixture(scope="session")
def keys(env):
    return KeyStore(env.keys_dir)


@pytest.fixture(autouse=True)
def _check_error_log(request, env):
    yield
    rc = env.died()
    if rc is not None:
        env._proc = None
        pytest.fail("httpd exited by itself (status %s):\n%s" % (
            rc, env._read_stderr_tail(2000)), pytrace=False)
    bad = env.error_log.check()
    if bad:
        pytest.fail("unexpected lines in the error log:\n"
                    + "\n".join(l.text for l in bad), pytrace=False)
