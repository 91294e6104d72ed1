"""Each build/mod_gk_<name>.so exports exactly gk_<name>_module, and
httpd loads them all, together, under those names."""

import re
import subprocess

import pytest

from gkhttpd import GkEnv


def built_modules():
    e = GkEnv()
    return sorted(e.build_dir.glob("mod_gk_*.so"))


@pytest.mark.parametrize("so", built_modules(), ids=lambda p: p.name)
def test_gk_exports_000_01_one_symbol(so):
    out = subprocess.run(["nm", "-D", "--defined-only", str(so)],
                         capture_output=True, text=True, check=True).stdout
    names = {l.split()[-1] for l in out.splitlines() if l.strip()}
    name = re.match(r"mod_gk_(\w+)\.so$", so.name).group(1)
    assert names == {"gk_%s_module" % name}, sorted(names)


def test_gk_exports_000_02_dump_modules(env):
    from gkhttpd import GkConf
    names = env.built_gk_modules()
    if not names:
        pytest.skip("no mod_gk_*.so built in %s" % env.build_dir)
    GkConf(env).install()       # loads every module built, side by side
    rc, _ = env.apache_test_config()
    out = subprocess.run(env._cmd("-t", "-D", "DUMP_MODULES"),
                         capture_output=True, text=True,
                         env=env._httpd_env()).stdout
    assert rc == 0
    for name in names:
        assert re.search(r"^\s*gk_%s_module \(shared\)" % name, out,
                         re.M), out


def _optional_fns(path):
    """The APR_DECLARE_OPTIONAL_FN declarations of a header, white space
    normalised, by function name."""
    text = path.read_text()
    out = {}
    for m in re.finditer(r"APR_DECLARE_OPTIONAL_FN\((.*?)\);", text, re.S):
        decl = re.sub(r"\s+", " ", m.group(1)).replace("* ", "*")
        out[decl.split(",")[1].strip()] = decl
    return out


def test_gk_exports_000_03_log_fns_in_step():
    """common/ap/gk_ap_logfns.h repeats mod_gk_log.h's optional functions
    for the modules that use them: the same declarations, every one."""
    import pathlib
    top = pathlib.Path(__file__).resolve().parents[2]
    offered = _optional_fns(top / "mod_gk_log" / "mod_gk_log.h")
    repeated = _optional_fns(top / "common" / "ap" / "gk_ap_logfns.h")
    assert offered and offered == repeated
