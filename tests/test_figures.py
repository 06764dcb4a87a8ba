"""Every measured figure in the README and docs/ comes from its run.

These tests read the project's files and need no database.

A figure is a number with a unit a measurement gives: rows/s, ms, s,
minutes, MB, GB, MiB, GiB, or a ratio (``0.70×``, ``18x``). Outside code
blocks, each figure in README.md and docs/*.md must be one of:

- a number that ``bench/results/results.md``, the file ``make bench``
  writes, holds (the docs should rather link to it than quote it);
- in a one-off measurement: a paragraph, table or list whose section,
  from its heading down to the figure, says ``measured on YYYY-MM-DD``
  (and how: the command or script, in the same words);
- a setting or a limit, not a measurement, listed in ``SETTINGS`` below
  with the reason.

So a doc that quotes an older run as the last one fails here, and so
does a new figure that says neither where nor when it was measured.
"""
import glob
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "bench", "results", "results.md")
DOCS = ["README.md"] + sorted(
    os.path.relpath(path, ROOT)
    for path in glob.glob(os.path.join(ROOT, "docs", "*.md")))
NUMBER = r"[0-9][0-9,]*(?:\.[0-9]+)?"
FIGURE = re.compile(
    rf"(?<![\w.,-])({NUMBER})(?:[-–]({NUMBER}))?(?:\s+|&nbsp;)?"
    r"(rows/s|ms|s|seconds?|minutes?|MB|GB|MiB|GiB|×|x)(?![\w/])")
ONE_OFF = re.compile(r"measured\s+on\s+[0-9]{4}-[0-9]{2}-[0-9]{2}",
                     re.IGNORECASE)
HEADING = re.compile(r"#{1,6} ")

# (file, figure as written): why it is no measurement.
SETTINGS = {
    ("docs/local-server.md", "64 MB"): "max_allowed_packet, in TUNING",
    ("docs/streaming.md", "40 MB"): "test_memory.py's bound for fetchall",
    ("docs/testing.md", "16 MB"): "test_memory.py's bound for one chunk",
    ("docs/failover.md", "4 s"): "the test's read time-out less a second, "
    "the limit db._catch_up gives WSREP_SYNC_WAIT_UPTO_GTID",
    ("docs/scaling-out.md", "150 MB"): "MySQL's default "
    "group_replication_transaction_size_limit, 150000000 bytes",
    ("docs/testing.md", "40 MB"): "test_memory.py's bound for fetchall",
}


def numbers_in(text):
    """Return every number written in ``text``, as written."""
    return set(re.findall(NUMBER, text))


def read(path):
    """Return the text of the project file ``path``."""
    with open(os.path.join(ROOT, path), encoding="utf-8") as source:
        return source.read()


def blocks(text):
    """Yield ``(section_so_far, block)`` for each block of prose.

    A block is a run of lines between blank lines; fenced code blocks
    are left out. The section so far is every block from the last
    heading down to this one, inclusive.
    """
    text = re.sub(r"^```.*?^```", "", text, flags=re.DOTALL | re.MULTILINE)
    section = []
    for block in re.split(r"\n\s*\n", text):
        if HEADING.match(block):
            section = []
        section.append(block)
        yield "\n".join(section), block


def stray_figures(path, text, measured):
    """Return the figures of ``text`` (from ``path``) no run accounts for."""
    stray = []
    for section, block in blocks(text):
        for match in FIGURE.finditer(block):
            figure = match.group(0)
            if (path, figure) in SETTINGS or ONE_OFF.search(section):
                continue
            if {match.group(1), match.group(2)} - {None} <= measured:
                continue
            stray.append(figure)
    return stray


@pytest.fixture(scope="module")
def measured():
    """The numbers the last ``make bench`` wrote."""
    with open(RESULTS, encoding="utf-8") as results:
        return numbers_in(results.read())


def test_figure_pattern_finds_measurements_not_names():
    """The pattern sees rows/s, times, sizes and ratios, not ids or
    versions; a figure whose unit a line break puts on the next line
    too."""
    text = ("1,162,228 rows/s, 9.3 s, 0.70× and 18x, 31–32 MB, 126.06 ms,"
            " about 7.6 minutes; not MariaDB 10.11, utf8mb4, 0x1F, "
            "HTTP/2, 2-main.py, test_x.py, v7.6s; more than 40\n  MB")
    assert [match.group(0) for match in FIGURE.finditer(text)] == [
        "1,162,228 rows/s", "9.3 s", "0.70×", "18x", "31–32 MB",
        "126.06 ms", "7.6 minutes", "40\n  MB"]


def test_one_off_section_and_stale_figure():
    """A figure passes if results.md holds it or its section dates it."""
    text = ("# Doc\n\nThe load took 8.0 s, the stream 1,162,228 rows/s.\n\n"
            "```\n$ make bench\n2.5 s\n```\n\n"
            "## One-off\n\nMeasured on 2026-12-01 with `bench/run.py "
            "--seeding-only`: 7.5 s.\n\n| before | now |\n|---|---|\n"
            "| 7.5 s | 6.1 s |\n\n## Later\n\nThen 0.52× and 3.9 s.\n")
    assert stray_figures("doc.md", text, {"1,162,228", "3.9"}) == [
        "8.0 s", "0.52×"]


@pytest.mark.parametrize("path", DOCS)
def test_every_figure_comes_from_its_run(path, measured):
    """Each figure is in results.md, in a dated one-off, or a setting."""
    stray = stray_figures(path, read(path), measured)
    assert not stray, (
        f"{path} quotes figures that bench/results/results.md does not hold,"
        f" outside a section 'measured on <date>': {stray}; link to "
        "results.md instead, or say when and how each was measured")


def test_settings_are_still_written():
    """Each listed setting is still in its file: the list does not rot."""
    for path, figure in SETTINGS:
        assert figure in read(path), (path, figure)
