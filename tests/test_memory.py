"""The README's memory claim, measured: the streams' peak stays flat.

Each case runs in a subprocess of its own, against a small table and then
a large one, and reports its own peak RSS (``ru_maxrss``). A generator
that really streams peaks at the same height over 200,000 rows as over
10,000; ``cursor.fetchall()``, the control, must grow by far more, which
shows the measurement can see growth at all. A load of a large CSV must
peak as low as a load of a small one, ``loader.CHUNK_ROWS`` rows bounding it,
and so must loading it again, or a file that holds its records twice.

Why a margin of MARGIN_MB (8 MB). A run's peak is the interpreter, the
driver, pytest (imported with conftest) and one batch or page: about 40
MB. What may legitimately differ between a small and a large run is
allocator noise and ``seed.to_age``'s cache of distinct ages (the large
table has 2,000 more of its 12,000 values, about 0.5 MB): about 1 MB
measured. The large table has 190,000 rows more than the small one:
8 MB is 44 bytes a row, less than one row's ``user_id`` string, while a
row kept as a dict costs about 600 bytes (the control grows by about
115 MB). So keeping rows, even one in ten, fails the test; noise, at an
eighth of the margin, does not.

The subprocess is started through ``/bin/sh``: Linux carries a process's
peak RSS across ``exec``, so a child forked straight from pytest would
report at least pytest's own size. The shell, a couple of MB, forks it
instead. Each child reports its ``VmHWM`` too (the peak of its own
address space), and the test checks ``ru_maxrss`` does not exceed it,
as an inherited peak would.

Run as ``python tests/test_memory.py CASE ARG`` it is that subprocess.
"""
import json
import os
import resource
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal

import pytest

from conftest import ROOT  # also run as a script: conftest sets the path
from testlab import PYTHON, db, make_csv, seed

SMALL, BIG = 10_000, 200_000  # rows in the small and the large table
MARGIN_MB = 8  # allowed growth of a stream's peak, small -> large table
GROWTH_MB = 40  # growth the fetchall control must show, at least
CHUNK_MB = 16  # growth one 200,000-row chunk must show (about 27 MB: the
#                loader keeps a row in about 140 bytes), twice MARGIN_MB
PAGE = 2_000  # lazy_paginate's page: 100 LIMIT/OFFSET pages over BIG
CHUNK = 5_000  # loader.CHUNK_ROWS in the load runs: 4 and 40 chunks
LOADS = {"small": 20_000, "big": BIG}  # rows in the CSVs loaded
TABLES = {"small": ("ALX_prodev_mem_small", SMALL),
          "big": ("ALX_prodev_mem_big", BIG)}
LOADING = "ALX_prodev_mem_load"  # emptied before each load
SHELL = "/bin/sh"
SQL = "SELECT user_id, name, email, age FROM user_data ORDER BY user_id"


# ------------------------------------------------------------- subprocess --

def task(name):
    """Import the course module ``name`` (its file name starts with a digit).

    Only the subprocess imports them, so only it pays for them.
    """
    return __import__(name)


def case_stream(arg):
    """Consume ``stream_users()`` one user at a time; return the count."""
    return sum(1 for _ in task("0-stream_users").stream_users())


def case_batches(arg):
    """Consume ``stream_users_in_batches(arg)``; return the users seen."""
    batches = task("1-batch_processing").stream_users_in_batches(arg)
    return sum(map(len, batches))


def case_pages(arg):
    """Consume ``lazy_paginate(arg)``, page by page; return the users seen."""
    return sum(map(len, task("2-lazy_paginate").lazy_paginate(arg)))


def case_ages(arg):
    """Return ``average_age(stream_user_ages())`` as text."""
    ages = task("4-stream_ages")
    return str(ages.average_age(ages.stream_user_ages()))


def case_fetchall(arg):
    """The control: fetch the whole table at once as dicts; return the count.

    The rows are all in memory at once, as in most course solutions.
    """
    connection = seed.connect()
    try:
        cursor = connection.cursor(dictionary=True)
        cursor.execute(SQL)
        rows = cursor.fetchall()
        cursor.close()
    finally:
        connection.close()
    return len(rows)


def case_load(arg):
    """Run ``seed.insert_data`` on the CSV ``arg["path"]``, CHUNK as told.

    Every chunk holds that many rows (the last, what is left): none is
    ended early for a server that waits. Return the counts as a dict.
    """
    import loader
    loader.CHUNK_ROWS = loader.FIRST_CHUNK_ROWS = arg["chunk"]
    connection = seed.connect()
    try:
        return seed.insert_data(connection, arg["path"])._asdict()
    finally:
        connection.close()


CASES = {"stream": case_stream, "batches": case_batches,
         "pages": case_pages, "ages": case_ages,
         "fetchall": case_fetchall, "load": case_load}


def own_peak_mb():
    """Return this process's VmHWM, the peak RSS of its own memory, in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        fields = dict(line.split(":", 1) for line in status)
    return int(fields["VmHWM"].split()[0]) / 1024


def child(case, arg):
    """Run ``case`` in this process; print its result and peak as JSON.

    What the case prints (``insert_data``'s line) goes to stderr, so that
    stdout holds the one JSON line.
    """
    stdout, sys.stdout = sys.stdout, sys.stderr
    try:
        value = CASES[case](json.loads(arg))
    finally:
        sys.stdout = stdout
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"value": value, "peak_mb": peak,
                      "own_peak_mb": own_peak_mb()}))


# ----------------------------------------------------------------- parent --

def measure(case, database, arg=None):
    """Run ``case`` in a subprocess on ``database``; return its report.

    The report holds the case's value and the subprocess's peak RSS.
    """
    env = dict(os.environ, MYSQL_DATABASE=database)
    done = subprocess.run(
        [SHELL, "-c", '"$@"; exit $?', "sh", PYTHON,
         os.path.abspath(__file__), case, json.dumps(arg)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{case} failed:\n{done.stderr[-3000:]}"
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["peak_mb"] - report["own_peak_mb"] < 1, (
        f"{case}: ru_maxrss {report['peak_mb']:.1f} MB but VmHWM "
        f"{report['own_peak_mb']:.1f} MB: the peak is inherited, not the "
        "subprocess's own")
    return report


def compare(label, small, big):
    """Print and return the growth from the ``small`` to the ``big`` peak."""
    growth = big["peak_mb"] - small["peak_mb"]
    text = (f"{label}: peak {small['peak_mb']:.1f} MB small -> "
            f"{big['peak_mb']:.1f} MB large ({growth:+.1f} MB)")
    print(f"\n{text}")
    return growth, text


def build(server, name, rows=0):
    """Create database ``name`` anew with ``rows`` generated users.

    The server makes them from its sequence engine: ids are UUIDs, names
    and emails carry the row's number (about 60 bytes a row in all),
    ages have two decimals and 12,000 values.
    """
    fill = ("INSERT INTO user_data SELECT UUID(), CONCAT('User ', seq), "
            "CONCAT('user', seq, '@example.com'), (seq * 7919 % 12000) / 100"
            f" FROM seq_1_to_{rows:d}")  # seq_1_to_0 would be 1, 0
    server.admin(
        f"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}` "
        f"CHARACTER SET {db.CHARSET} COLLATE {db.COLLATION}; "
        f"USE `{name}`; {seed.TABLE}" + (f"; {fill}" if rows else ""))


@pytest.fixture(scope="module")
def tables(server):
    """The small and the large table; label -> (database, rows, average).

    The average is the server's exact SUM over COUNT, rounded half up to
    cents, as ``average_age`` rounds. Both databases are dropped at the
    end.
    """
    made = {}
    try:
        for label, (name, rows) in TABLES.items():
            build(server, name, rows)
            count, total = server.admin(
                f"SELECT COUNT(*), SUM(age) FROM `{name}`.user_data").split()
            assert int(count) == rows
            average = (Decimal(total) / rows).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP)
            made[label] = (name, rows, str(average))
        yield made
    finally:
        for name, _ in TABLES.values():
            server.admin(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture(scope="module")
def csvs(tmp_path_factory):
    """A small and a large generated CSV: label -> (path, rows)."""
    folder = tmp_path_factory.mktemp("memory")
    return {label: (make_csv(folder / f"{label}.csv", rows), rows)
            for label, rows in LOADS.items()}


@pytest.fixture(scope="module")
def loading(server):
    """An empty database for the loads: a function that empties it again.

    Dropped at the end.
    """
    def empty():
        """Recreate the loads' database with an empty user_data."""
        build(server, LOADING)
    try:
        yield empty
    finally:
        server.admin(f"DROP DATABASE IF EXISTS `{LOADING}`")


@pytest.mark.parametrize("case, arg", [
    ("stream", None), ("batches", 1000), ("pages", PAGE), ("ages", None)],
    ids=["stream_users", "stream_users_in_batches(1000)",
         f"lazy_paginate({PAGE})", "average_age(stream_user_ages())"])
def test_stream_peak_is_flat_in_table_size(tables, case, arg):
    """Over 200,000 rows each generator peaks within 8 MB of 10,000 rows.

    Each also reads the whole table: every row, or the exact average.
    """
    small, big = (measure(case, tables[label][0], arg)
                  for label in ("small", "big"))
    for label, report in (("small", small), ("big", big)):
        _, rows, average = tables[label]
        assert report["value"] == (average if case == "ages" else rows)
    growth, text = compare(f"{case}({arg})" if arg else case, small, big)
    assert growth <= MARGIN_MB, (
        f"{text}: more than {MARGIN_MB} MB, so memory grows with the "
        "table's size")


def test_fetchall_control_grows(tables):
    """The control: fetchall's peak over 200,000 rows is ``GROWTH_MB`` higher.

    Proof that the subprocesses' peaks can show growth when there is.
    """
    small, big = (measure("fetchall", tables[label][0])
                  for label in ("small", "big"))
    assert (small["value"], big["value"]) == (SMALL, BIG)
    growth, text = compare("fetchall (dictionary cursor)", small, big)
    assert growth > GROWTH_MB, (
        f"{text}: less than {GROWTH_MB} MB, so the measurement cannot "
        "see rows held in memory")


def test_load_peak_is_bounded_by_a_chunk(csvs, loading, tmp_path):
    """Loading 200,000 rows peaks within 8 MB of loading 20,000 rows.

    With ``loader.CHUNK_ROWS`` at 5,000 rows both files span several chunks
    (4 and 40), so the peak is about one chunk whatever the file's size.
    So does loading the large file again, every row already present (its
    repeats are looked for in the 40 chunk files, merged), and loading it
    twice over into an empty table: 200,000 repeats, put in line order
    in 40 sorted runs of a chunk's size. Then the control: the same large
    file in one chunk peaks more than ``CHUNK_MB`` higher, so it is the
    chunk that bounds the load.
    """
    path, rows = csvs["big"]
    twice = str(tmp_path / "twice.csv")
    with open(path, encoding="utf-8") as text, \
            open(twice, "w", encoding="utf-8") as out:
        header, *records = text.readlines()
        out.writelines([header] + records + records)
    runs = {"small": (csvs["small"][0], CHUNK, (LOADS["small"], 0, 0)),
            "big": (path, CHUNK, (rows, 0, 0)),
            "again": (path, CHUNK, (0, rows, 0)),
            "twice": (twice, CHUNK, (rows, 0, rows)),
            "whole": (path, BIG, (rows, 0, 0))}
    reports = {}
    for label, (loaded, chunk, counts) in runs.items():
        if label != "again":
            loading()
        reports[label] = measure("load", LOADING,
                                 {"path": loaded, "chunk": chunk})
        value = reports[label]["value"]
        assert (value["loaded"], value["present"],
                value["rejected"]) == counts
    for label in ("big", "again", "twice"):
        growth, text = compare(f"insert_data, {label}, CHUNK={CHUNK}",
                               reports["small"], reports[label])
        assert growth <= MARGIN_MB, (
            f"{text}: more than {MARGIN_MB} MB, so the load's memory grows "
            "with the file's size")
    whole, text = compare(f"insert_data, large file, CHUNK={CHUNK} vs "
                          f"one chunk of {BIG}", reports["big"],
                          reports["whole"])
    assert whole > CHUNK_MB, (
        f"{text}: less than {CHUNK_MB} MB, so the measurement cannot "
        "see a chunk's rows")


if __name__ == "__main__":
    child(*sys.argv[1:])
