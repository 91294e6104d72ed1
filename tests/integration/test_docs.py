"""The documentation agrees with the code.

For every module mod_gk_<name>/:
  - each directive in an AP_INIT_* table has a `### Name` section in
    docs/mod_gk_<name>.md;
  - that section's Description is the directive's help string, word for
    word (mod_info shows the help string; the manual shows Description);
  - each `### GK...` section documents a directive that exists.
And the suite's conventions, as common/gk.h writes them down (its tables
are read here):
  - across mod_gk_*/*.c, common/*.c and common/ap/*.c, every log tag
    GKnnnnn names one call site only, and lies in the range of the
    directory that holds it (common 00xxx, common/ap 05xxx, mod_gk_auth
    10xxx...);
  - a module's directives begin with one of its prefixes (GKAuth...);
  - a module's filters are GK_<MODULE>_*, its notes gk-*, its environment
    variables GK_* (the *_NOTE_* and *_ENV_* names of its headers).

Self-contained: reads the source tree only, starts no server.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

MODULE_DIRS = sorted(p for p in ROOT.glob("mod_gk_*")
                     if p.is_dir() and (p / (p.name + ".c")).exists())


# ---- a small C reader: enough to find directive tables and log tags -------

def strip_comments(text):
    """Blank out C comments, keeping string and char literals and line
    numbers, so that commented-out entries and tags in prose don't count."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def split_args(text, start):
    """Split the argument list that opens at text[start] == '(' into
    top-level arguments; return (args, index after the closing ')')."""
    assert text[start] == "("
    depth, i, n = 0, start, len(text)
    args, cur = [], []
    while i < n:
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            cur.append(text[i:j + 1])
            i = j + 1
            continue
        if c in "([{":
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append("".join(cur).strip())
                return args, i + 1
        elif c == "," and depth == 1:
            args.append("".join(cur).strip())
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    raise ValueError("unbalanced parentheses")


C_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'",
             "r": "\r", "0": "\0"}


def string_literal(arg):
    """The value of one or more adjacent C string literals, or None."""
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', arg)
    if not parts or re.sub(r'"((?:[^"\\]|\\.)*)"', "", arg).strip():
        return None
    return "".join(re.sub(r"\\(.)", lambda m: C_ESCAPES.get(m.group(1),
                                                            m.group(1)), p)
                   for p in parts)


def directive_table(module_dir):
    """{name: help} from every AP_INIT_* entry in the module's .c files."""
    found, problems = {}, []
    for src in sorted(module_dir.glob("*.c")):
        text = strip_comments(src.read_text(errors="replace"))
        for m in re.finditer(r"\bAP_INIT_\w+\s*(?=\()", text):
            line = text.count("\n", 0, m.start()) + 1
            where = "%s:%d" % (src.relative_to(ROOT), line)
            try:
                args, _ = split_args(text, m.end())
            except ValueError:
                problems.append("%s: cannot read the entry" % where)
                continue
            if len(args) < 5:
                problems.append("%s: an AP_INIT_* entry with %d arguments"
                                % (where, len(args)))
                continue
            name, help_ = string_literal(args[0]), string_literal(args[-1])
            if name is None or help_ is None:
                problems.append("%s: name and help must be string literals"
                                % where)
                continue
            if name in found:
                problems.append("%s: %s is in the table twice"
                                % (where, name))
            found[name] = help_
    return found, problems


# ---- the module page --------------------------------------------------------

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
DIRECTIVE_HEADING = re.compile(r"^`?(GK[A-Za-z0-9]+)`?$")
DESCRIPTION_ROW = re.compile(
    r"^\|\s*\**Description\**\s*\|\s*(.*?)\s*\|\s*$", re.IGNORECASE)


def unescape_md(text):
    return re.sub(r"\\([\\`*_{}\[\]()#+\-.!|<>])", r"\1", text)


def documented_directives(page):
    """{name: description or None} from `### GKName` sections."""
    docs, current, in_fence = {}, None, False
    for line in page.read_text().splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        h = HEADING.match(line)
        if h:
            current = None
            level, title = len(h.group(1)), h.group(2)
            d = DIRECTIVE_HEADING.match(title)
            if level == 3 and d:
                current = d.group(1)
                if current in docs:
                    docs[current + " (twice)"] = None
                docs[current] = None
            continue
        if current and docs[current] is None:
            m = DESCRIPTION_ROW.match(line.strip())
            if m:
                docs[current] = unescape_md(m.group(1))
    return docs


def test_modules_exist():
    assert MODULE_DIRS, "no mod_gk_*/mod_gk_*.c found under %s" % ROOT


@pytest.mark.parametrize("module_dir", MODULE_DIRS, ids=lambda p: p.name)
def test_directives_documented(module_dir):
    table, problems = directive_table(module_dir)
    page = DOCS / (module_dir.name + ".md")
    if not table and not problems:
        pytest.skip("%s has no directive table" % module_dir.name)
    if not page.exists():
        pytest.fail("%s has directives but %s is missing"
                    % (module_dir.name, page.relative_to(ROOT)), pytrace=False)
    docs = documented_directives(page)
    rel = page.relative_to(ROOT)

    for name in sorted(table):
        if name not in docs:
            problems.append("%s: no `### %s` section" % (rel, name))
        elif docs[name] is None:
            problems.append("%s: `### %s` has no `| Description | ... |` "
                            "row" % (rel, name))
        elif docs[name] != table[name]:
            problems.append("%s: %s Description differs from the help "
                            "string\n    docs: %r\n    code: %r"
                            % (rel, name, docs[name], table[name]))
    for name in sorted(docs):
        if name.endswith(" (twice)"):
            problems.append("%s: `### %s` appears twice" % (rel, name[:-8]))
        elif name not in table:
            problems.append("%s: documents %s, which no directive table "
                            "in %s/ defines" % (rel, name, module_dir.name))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def test_no_page_without_module():
    modules = {p.name for p in MODULE_DIRS}
    orphans = [p.name for p in DOCS.glob("mod_gk_*.md")
               if p.stem not in modules]
    if orphans:
        pytest.fail("module pages without a module: %s" % orphans,
                    pytrace=False)


# ---- log tags -----------------------------------------------------------------

TAG = re.compile(r'\bGKLOGNO\(\s*(\d+)\s*\)|"[^"\n]*?\bGK(\d{5})\b')


def log_sources():
    return sorted(list(ROOT.glob("mod_gk_*/*.c")) +
                  list(ROOT.glob("common/*.c")) +
                  list(ROOT.glob("common/ap/*.c")))


def log_tags():
    """[(tag digits, 'file:line')] for every call site."""
    sites = []
    for src in log_sources():
        text = strip_comments(src.read_text(errors="replace"))
        for m in TAG.finditer(text):
            digits = m.group(1) or m.group(2)
            line = text.count("\n", 0, m.start()) + 1
            sites.append((digits, "%s:%d" % (src.relative_to(ROOT), line)))
    return sites


def test_log_tags_unique():
    seen = {}
    for digits, where in log_tags():
        seen.setdefault(int(digits), []).append(where)
    dups = ["GK%05d: %s" % (n, ", ".join(w)) for n, w in sorted(seen.items())
            if len(w) > 1]
    if dups:
        pytest.fail("log tags used at more than one call site:\n"
                    + "\n".join(dups), pytrace=False)


def test_log_tags_have_five_digits():
    bad = ["%s: GKLOGNO(%s)" % (where, d) for d, where in log_tags()
           if len(d) != 5]
    if bad:
        pytest.fail("log tags are GK + 5 digits:\n" + "\n".join(bad),
                    pytrace=False)


# ---- the conventions of common/gk.h -------------------------------------------

GK_H = ROOT / "common" / "gk.h"
RANGE_ROW = re.compile(r"^\s*\*\s+(\d\d)xxx\s+(\S+?)/?\s*$")
PREFIX_ROW = re.compile(r"^\s*\*\s+(mod_gk_\w+)\s+((?:GK[A-Za-z0-9]+\s*)+)$")


def tag_ranges():
    """{'common': '00', 'common/ap': '05', 'mod_gk_auth': '10', ...}"""
    rows = (RANGE_ROW.match(l) for l in GK_H.read_text().splitlines())
    return {m.group(2): m.group(1) for m in rows if m}


def directive_prefixes():
    """{'mod_gk_auth': ['GKAuth'], 'mod_gk_log': ['GKLog', ...], ...}"""
    out = {}
    for l in GK_H.read_text().splitlines():
        m = PREFIX_ROW.match(l)
        if m:       # a module may take several rows
            out.setdefault(m.group(1), []).extend(m.group(2).split())
    return out


def test_conventions_are_written():
    ranges, prefixes = tag_ranges(), directive_prefixes()
    assert ranges.get("common") == "00" and ranges.get("common/ap") == "05", \
        ranges
    assert prefixes.get("mod_gk_auth") == ["GKAuth", "GKToken", "GKRevoke"], \
        prefixes
    assert len(set(ranges.values())) == len(ranges), ranges


def test_log_tags_in_range():
    ranges = tag_ranges()
    bad = []
    for digits, where in log_tags():
        directory = where.rsplit("/", 1)[0]
        want = ranges.get(directory)
        if want is None:
            bad.append("%s: GK%s: common/gk.h gives %s/ no range"
                       % (where, digits, directory))
        elif not digits.startswith(want) or len(digits) != 5:
            bad.append("%s: GK%s is not in %s/'s range %sxxx"
                       % (where, digits, directory, want))
    if bad:
        pytest.fail("log tags out of their directory's range (common/gk.h):"
                    "\n" + "\n".join(bad), pytrace=False)


@pytest.mark.parametrize("module_dir", MODULE_DIRS, ids=lambda p: p.name)
def test_directive_prefixes(module_dir):
    table, _ = directive_table(module_dir)
    if not table:
        pytest.skip("%s has no directive table" % module_dir.name)
    prefixes = directive_prefixes().get(module_dir.name)
    if not prefixes:
        pytest.fail("common/gk.h names no directive prefix for %s"
                    % module_dir.name, pytrace=False)
    bad = sorted(n for n in table if not n.startswith(tuple(prefixes)))
    if bad:
        pytest.fail("%s: directives without the module's prefix (%s): %s"
                    % (module_dir.name, " ".join(prefixes), ", ".join(bad)),
                    pytrace=False)


FILTER_CALL = re.compile(r"\b(?:ap_register_(?:output|input)_filter|"
                         r"gk_ap_problem_register)\s*\(\s*\"([^\"]*)\"")
NAME_DEFINE = re.compile(r'^\s*#\s*define\s+(\w*_(NOTE|ENV)_\w+)\s+"([^"]*)"',
                         re.M)


@pytest.mark.parametrize("module_dir", MODULE_DIRS, ids=lambda p: p.name)
def test_filter_note_env_names(module_dir):
    module = module_dir.name[len("mod_gk_"):]
    bad = []
    for src in sorted(module_dir.glob("*.[ch]")):
        text = strip_comments(src.read_text(errors="replace"))
        rel = src.relative_to(ROOT)
        for m in FILTER_CALL.finditer(text):
            if not m.group(1).startswith("GK_%s_" % module.upper()):
                bad.append("%s: filter %s is not GK_%s_*"
                           % (rel, m.group(1), module.upper()))
        for m in NAME_DEFINE.finditer(text):
            name, kind, value = m.groups()
            want = "gk-" if kind == "NOTE" else "GK_"
            if not value.startswith(want):
                bad.append("%s: %s is %r, not %s*" % (rel, name, value, want))
    if bad:
        pytest.fail("names outside the conventions of common/gk.h:\n"
                    + "\n".join(bad), pytrace=False)
