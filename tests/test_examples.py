"""The documentation does what it says: its examples run, its links lead.

Every fenced block of README.md and docs/*.md marked ``python`` runs
here, against the session's server with the course's 1,000 users
loaded: a block of ``>>>`` examples through ``doctest``, which compares
the output each shows, any other block as a script. Shell commands,
output and SQL go in other fences (``sh``, ``text``, ``sql``): those are
not run. The output of ``make run`` that the README shows is compared
with what the Makefile's ``run`` recipe prints here, and every relative
link must lead to a file, and its anchor to a heading, that exist.
"""
import doctest
import glob
import os
import re
import shlex
from types import GeneratorType

import pytest
from mysql.connector.abstracts import MySQLConnectionAbstract

from testlab import PYTHON, ROOT, run_piped, run_script, seed

DOCS = [os.path.join(ROOT, "README.md")] + sorted(
    glob.glob(os.path.join(ROOT, "docs", "*.md")))
FENCE = re.compile(r"^```(\S*)\s*$")
LINK = re.compile(r"\[[^\]]*\]\(([^()\s]+)\)")
RUN_HEADING = "## What `make run` prints"
EXAMPLE_DATABASE = "ALX_prodev_example"  # docs/loading.md makes and drops it


def short(path):
    """Return ``path`` relative to the repository, for test ids."""
    return os.path.relpath(path, ROOT)


def read(path):
    """Return the text of the file at ``path``."""
    with open(path, encoding="utf-8") as text:
        return text.read()


def blocks(path):
    """Return the fenced code blocks of the Markdown file at ``path``.

    Each is ``(language, line, text)``: the fence's language (empty if
    none), the line of the block's first line of code, and its code.
    """
    found, language, start, lines = [], None, 0, []
    for number, line in enumerate(read(path).splitlines(), 1):
        fence = FENCE.match(line)
        if language is None and fence:
            language, start, lines = fence.group(1), number + 1, []
        elif language is not None and line.rstrip() == "```":
            found.append((language, start, "\n".join(lines) + "\n"))
            language = None
        elif language is not None:
            lines.append(line)
    assert language is None, f"{short(path)}: a block never ends"
    return found


def prose(path, code=True):
    """Return the lines of ``path`` outside code blocks, as ``(number,
    text)`` pairs; inline code blanked unless ``code``."""
    inside, kept = False, []
    for number, line in enumerate(read(path).splitlines(), 1):
        if FENCE.match(line):
            inside = not inside
        elif not inside:
            kept.append((number, line if code else
                         re.sub(r"`+[^`]*`+", "``", line)))
    return kept


def links(path):
    """Return the links of ``path`` outside code, as ``(line, target)``.

    A link's text may span lines; its line is where its target is.
    """
    numbered = prose(path, code=False)
    text = "\n".join(line for _, line in numbered)
    return [(numbered[text.count("\n", 0, found.start(1))][0],
             found.group(1)) for found in LINK.finditer(text)]


def anchors(path):
    """Return the anchors of the headings of ``path``, as GitHub makes them.

    Lower case; characters other than letters, digits, ``_``, ``-`` and
    spaces dropped; spaces made ``-``; a repeated one numbered from 1.
    """
    slugs = [re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
             for _, text in prose(path)
             for text in re.findall(r"^#{1,6} (.*)", text)]
    return [f"{slug}-{slugs[:index].count(slug)}"
            if slug in slugs[:index] else slug
            for index, slug in enumerate(slugs)]


PYTHON_BLOCKS = [(path, line, code) for path in DOCS
                 for language, line, code in blocks(path)
                 if language == "python"]


@pytest.fixture(scope="module")
def make_run(server):
    """Run the Makefile's ``run`` recipe on a new ALX_prodev; its output.

    As ``make run`` does, but with the session's server: each ``echo``
    line, and each script (through ``head`` where the recipe pipes it).
    Return the stdout of it all, and the scripts' stderr lines. Leaves
    ALX_prodev as the examples expect it: the course's 1,000 users, and
    no database of an earlier example's.
    """
    server.admin(f"DROP DATABASE IF EXISTS ALX_prodev; "
                 f"DROP DATABASE IF EXISTS {EXAMPLE_DATABASE}")
    recipe = read(os.path.join(ROOT, "Makefile")).split("\nrun:")[1]
    commands = recipe.split("\n\n")[0].splitlines()[1:]
    out, err = [], []
    for command in commands:
        words = shlex.split(command.strip().lstrip("@"))
        if words[0] == "echo":
            out.append(" ".join(words[1:]) + "\n")
            continue
        assert words[0] == "$(PY)", command
        if words[2:] == ["|", "head"]:
            code, stdout, stderr = run_piped([PYTHON, words[1]], 10)
        else:
            assert len(words) == 2, command
            done = run_script(words[1])
            code, stdout, stderr = done.returncode, done.stdout, done.stderr
        assert code == 0, (command, stderr)
        out.append(stdout)
        err += stderr.splitlines()
    return "".join(out), err


def test_make_run_output_is_what_the_readme_shows(make_run):
    """README's ``make run`` output is the recipe's, line for line.

    Its first line is the project-local server's, as scripts/localdb.py
    prints it (the port aside); the load's report is the script's
    stderr; every other line is the recipe's stdout, in order.
    """
    stdout, stderr = make_run
    readme = os.path.join(ROOT, "README.md")
    heading = read(readme).splitlines().index(RUN_HEADING) + 1
    shown = next(code for _, line, code in blocks(readme) if line > heading)
    first, *rest = shown.splitlines(keepends=True)
    printed = re.sub(r":\d+ ", ":{port} ", first.strip())
    assert f'print(f"{printed}")' in read(
        os.path.join(ROOT, "scripts", "localdb.py")), first
    assert stderr and all(line + "\n" in rest for line in stderr), stderr
    assert "".join(line for line in rest
                   if line.rstrip("\n") not in stderr) == stdout


def test_the_docs_have_examples_and_links():
    """The checks below check something: the README and the docs have
    Python examples, and links; the README links to every page of docs/."""
    where = {short(path) for path, _, _ in PYTHON_BLOCKS}
    assert "README.md" in where and len(where) > 2, where
    linked = {short(path) for path in DOCS if links(path)}
    assert "README.md" in linked and len(linked) > 2, linked
    from_readme = {os.path.normpath(target.partition("#")[0])
                   for _, target in links(DOCS[0])}
    assert {short(path) for path in DOCS[1:]} <= from_readme, from_readme


@pytest.mark.parametrize("path, line, code", PYTHON_BLOCKS,
                         ids=[f"{short(path)}:{line}"
                              for path, line, _ in PYTHON_BLOCKS])
def test_python_example_runs(path, line, code, make_run, monkeypatch):
    """The block runs in the repository's folder, and shows what it prints.

    ``>>>`` examples are compared by ``doctest``, exactly; a plain
    block must run without an error. Whatever connection or generator
    it leaves open is closed after, whatever happened.
    """
    monkeypatch.chdir(ROOT)
    where = f"{short(path)}:{line}"
    names = {"__name__": "__example__"}
    try:
        if ">>>" in code:
            test = doctest.DocTestParser().get_doctest(
                code, names, where, path, line - 1)
            report = []
            runner = doctest.DocTestRunner(optionflags=doctest.REPORT_NDIFF)
            runner.run(test, out=report.append, clear_globs=False)
            assert runner.failures == 0, "".join(report)
        else:
            exec(compile(code, where, "exec"), names)
    finally:
        for value in names.values():
            if isinstance(value, GeneratorType):
                value.close()
            elif isinstance(value, MySQLConnectionAbstract):
                seed.close_quietly(value)


def test_anchors_follow_github():
    """Headings give the anchors GitHub gives them, repeats numbered."""
    assert anchors(os.path.join(ROOT, "docs", "scaling-out.md"))[:3] == [
        "scaling-out", "several-servers-in-mysql_host",
        "a-cluster-on-this-machine-make-cluster"]


@pytest.mark.parametrize("path", DOCS, ids=short)
def test_relative_links_lead_somewhere(path):
    """Each relative link names a file that exists, and a heading in it."""
    broken = []
    for number, target in links(path):
        if re.match(r"[a-z]+:", target):
            continue
        name, _, anchor = target.partition("#")
        found = os.path.normpath(os.path.join(os.path.dirname(path),
                                              name)) if name else path
        if not os.path.exists(found):
            broken.append(f"line {number}: {target}: no such file")
        elif anchor and anchor not in anchors(found):
            broken.append(f"line {number}: {target}: no such heading")
    assert broken == []
