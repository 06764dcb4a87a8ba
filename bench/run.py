#!/usr/bin/env python3
"""Measure the generators side by side with the fastest way to do the same.

    make bench                       # starts the project-local server first
    bench/run.py [--reps 5] [--seed-reps 3]

On the project-local server it builds ``user_data`` tables of 10k,
100k and 1M rows (databases ``ALX_prodev_bench_10k``, ``_100k``, ``_1m``;
a table that already has the right row count is reused), from CSVs made
by ``scripts/make_users_csv.py`` in ``bench/data/``. Then it runs every
case in a subprocess of its own, so that the peak memory (``ru_maxrss``)
is the case's own, several times over, and quotes medians. Each case is
timed in the same repetition as its anchor, the fastest way to do the
same thing: the ``mariadb`` command-line client with ``--quick`` (the C
client: the wire limit), ``LOAD DATA LOCAL INFILE``, and keyset pages.
A ratio is the median of the ratios of the repetitions.

It writes ``bench/results/results.md`` and ``bench/results/chart.png``
and prints each target as a PASS or FAIL line. Progress goes to a
terminal only; in a pipe the output is the results alone.
"""
import argparse
import contextlib
import csv
import io
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from itertools import islice
from operator import itemgetter

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
DATA = os.path.join(BENCH, "data")
RESULTS = os.path.join(BENCH, "results")
sys.path[:0] = [ROOT, os.path.join(ROOT, "scripts")]
seed = __import__("seed")
localdb = __import__("localdb")

SIZES = (("10k", 10_000), ("100k", 100_000), ("1m", 1_000_000))
BIG = "1m"
SELECT = "SELECT user_id, name, email, age FROM user_data ORDER BY user_id"
AGES = "SELECT age FROM user_data"
AVG = "SELECT ROUND(AVG(age), 2) FROM user_data"
LOAD = ("LOAD DATA LOCAL INFILE '{path}' INTO TABLE user_data CHARACTER SET "
        "utf8mb4 FIELDS TERMINATED BY ',' ENCLOSED BY '\"' LINES TERMINATED "
        "BY '\\n' IGNORE 1 LINES (name, email, age) SET user_id = UUID()")
INSERT = ("INSERT INTO user_data (user_id, name, email, age) "
          "VALUES (%s, %s, %s, %s)")
SLICE = 50_000  # rows of the row-by-row baseline
PAGE = 100
DEPTHS = (0, 10, 50, 100)  # percent of the table; 100 is the last page
PAGE_TRIES = 5
TTY = sys.stderr.isatty()
SHELL = "/bin/sh"
GNU_TIME = "/usr/bin/time"

# Each streaming case, its anchor, and how it is named in the results.
STREAMS = (
    ("stream", "client_full", "stream_users()"),
    ("batches", "client_full", "stream_users_in_batches(1000)"),
    ("fetchall", "client_full", "naive cursor.fetchall() (dicts)"),
    ("ages", "client_ages", "average_age(stream_user_ages())"),
    ("sql_avg", "client_ages", "SQL AVG(age) (reference)"),
)
CLIENT_NAMES = {"client_full": "client --quick, the full SELECT",
                "client_ages": "client --quick, SELECT age"}
SEEDING = (
    ("insert_data", "seed.insert_data (1M-row CSV)"),
    ("load_data", "LOAD DATA LOCAL INFILE, user_id = UUID()"),
    ("insert_fallback", "seed.insert_data, server refusing LOCAL INFILE"),
    ("row_by_row", f"row-by-row INSERT + commit ({SLICE // 1000}k rows)"),
)


# ---------------------------------------------------------------- child --

def timed(work):
    """Run ``work()``; return its wall time in seconds and its value."""
    start = time.perf_counter()
    value = work()
    return {"seconds": time.perf_counter() - start, "value": value}


def task(name):
    """Import one of the course's task modules by its file name."""
    return __import__(name)


def client_command(sql, database, extra=()):
    """Return the argv and environment to run ``sql`` with the C client.

    The password goes in ``MYSQL_PWD``, never on the command line.
    """
    conf = seed.settings()
    binary = shutil.which("mariadb") or shutil.which("mysql")
    argv = [binary, "--no-defaults", "--protocol=tcp", "-h", conf["host"],
            "-P", str(conf["port"]), "-u", conf["user"],
            "--default-character-set=utf8mb4", "--batch", "--quick",
            "--skip-column-names", *extra]
    if conf["ssl_ca"]:
        argv.append("--ssl-ca=" + conf["ssl_ca"])
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("MYSQL_")}
    env["MYSQL_PWD"] = conf["password"]
    return argv + ["-e", sql, database], env


def run_client(sql, extra=(), memory=None):
    """Run ``sql`` with the C client, its output to /dev/null.

    With ``memory`` (a file name) and GNU time installed, the client runs
    under ``time -f %M``, which writes the client's own peak RSS there.
    """
    argv, env = client_command(sql, seed.settings()["database"], extra)
    if memory and os.path.exists(GNU_TIME):
        argv = [GNU_TIME, "-f", "%M", "-o", memory] + argv
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    if done.returncode:
        raise RuntimeError("mariadb client failed: " + done.stderr.strip())


def case_stream(arg):
    """Consume stream_users() without keeping a row."""
    stream_users = task("0-stream_users").stream_users
    return timed(lambda: len(deque(stream_users(), maxlen=0)))


def case_batches(arg):
    """Consume stream_users_in_batches(1000) without keeping a batch."""
    batches = task("1-batch_processing").stream_users_in_batches
    return timed(lambda: len(deque(batches(1000), maxlen=0)))


def case_ages(arg):
    """Compute average_age(stream_user_ages()); the value is the average."""
    ages = task("4-stream_ages")
    return timed(lambda: str(ages.average_age(ages.stream_user_ages())))


def naive_fetchall():
    """Read the whole table as dicts with fetchall, the naive way."""
    connection = seed.connect()
    cursor = connection.cursor(dictionary=True)
    cursor.execute(SELECT)
    rows = cursor.fetchall()
    cursor.close()
    connection.close()
    return len(rows)


def case_fetchall(arg):
    """Time the naive fetchall of the whole table."""
    return timed(naive_fetchall)


def sql_average():
    """Return the server's ROUND(AVG(age), 2), as text."""
    connection = seed.connect()
    cursor = connection.cursor()
    cursor.execute(AVG)
    value = cursor.fetchone()[0]
    cursor.close()
    connection.close()
    return str(value)


def case_sql_avg(arg):
    """Time the server's own average, the reference value."""
    return timed(sql_average)


def case_client(arg):
    """Time the C client running ``arg['sql']``; report its peak RSS.

    Without GNU time, the peak is ``RUSAGE_CHILDREN``'s: an upper bound,
    since a child started by this process inherits its peak.
    """
    with tempfile.NamedTemporaryFile("r") as memory:
        result = timed(lambda: run_client(arg["sql"], arg.get("extra", ()),
                                          memory.name))
        kilobytes = memory.read().strip()
    if kilobytes.isdigit():
        result["rss_mb"] = int(kilobytes) / 1024
    else:
        result["external"] = True
    return result


def insert_data(path):
    """Run seed.insert_data on ``path``; return its Counts as a dict."""
    connection = seed.connect()
    try:
        return seed.insert_data(connection, path)._asdict()
    finally:
        connection.close()


def case_insert_data(arg):
    """Time seed.insert_data loading the CSV into the empty table."""
    return timed(lambda: insert_data(arg["path"]))


def case_load_data(arg):
    """Time LOAD DATA LOCAL INFILE of the CSV by the C client."""
    sql = LOAD.format(path=arg["path"])
    return case_client({"sql": sql, "extra": ["--local-infile=1"]})


def row_by_row(path, rows):
    """Insert the first ``rows`` rows of ``path`` one by one, a commit each.

    This is how most course solutions seed the table.
    """
    connection = seed.connect()
    connection.autocommit = False
    cursor = connection.cursor()
    with open(path, encoding="utf-8", newline="") as source:
        for row in islice(csv.DictReader(source), rows):
            cursor.execute(INSERT, (str(uuid.uuid4()), row["name"],
                                    row["email"], row["age"]))
            connection.commit()
    cursor.close()
    connection.close()
    return rows


def case_row_by_row(arg):
    """Time the row-by-row baseline on a slice of the CSV."""
    return timed(lambda: row_by_row(arg["path"], arg["rows"]))


def case_pages(arg):
    """Time one page at each depth, OFFSET or keyset; medians in ms.

    One untimed page first: the first connection of a process is slower.
    """
    if arg["kind"] == "offset":
        paginate = task("2-lazy_paginate").paginate_users
        calls = [(paginate, (PAGE, depth["offset"]))
                 for depth in arg["depths"]]
    else:
        keyset = task("keyset_paginate").keyset_page
        calls = [(keyset, (PAGE, depth["after"])) for depth in arg["depths"]]
    calls[0][0](*calls[0][1])
    times = [[] for _ in calls]
    pages = [None] * len(calls)
    for _ in range(arg["tries"]):
        for at, (function, args) in enumerate(calls):
            start = time.perf_counter()
            page = function(*args)
            times[at].append(time.perf_counter() - start)
            pages[at] = page
    value = [{"ms": 1000 * statistics.median(spent), "rows": len(page),
              "first": page[0]["user_id"] if page else None}
             for spent, page in zip(times, pages)]
    return {"seconds": None, "value": value}


CASES = {"stream": case_stream, "batches": case_batches, "ages": case_ages,
         "fetchall": case_fetchall, "sql_avg": case_sql_avg,
         "client": case_client, "insert_data": case_insert_data,
         "insert_fallback": case_insert_data,
         "load_data": case_load_data, "row_by_row": case_row_by_row,
         "pages": case_pages}


def child(case, database, arg):
    """Run one case in this process; print its result as one JSON line.

    The peak memory is this process's, or the client's for a case run by
    the command-line client.
    """
    os.environ["MYSQL_DATABASE"] = database
    with contextlib.redirect_stdout(io.StringIO()):
        result = CASES[case](json.loads(arg))
    usage = resource.RUSAGE_CHILDREN if result.pop("external", False) \
        else resource.RUSAGE_SELF
    result.setdefault("rss_mb", resource.getrusage(usage).ru_maxrss / 1024)
    print(json.dumps(result))


# --------------------------------------------------------------- parent --

@contextlib.contextmanager
def step(text):
    """Show ``text`` and a running clock on a terminal while a step runs."""
    if not TTY:
        yield
        return
    start, done = time.monotonic(), threading.Event()

    def tick():
        """Rewrite the progress line until the step is done."""
        while not done.wait(0.25):
            sys.stderr.write(f"\r\033[K{text}  {time.monotonic() - start:.0f}"
                             " s")
            sys.stderr.flush()

    sys.stderr.write(f"\r\033[K{text}")
    sys.stderr.flush()
    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()


def note(text):
    """Print a line of progress on a terminal; nothing in a pipe."""
    if TTY:
        print(text, file=sys.stderr)


def database_of(label):
    """Return the name of the benchmark database for the size ``label``."""
    return "ALX_prodev_bench_" + label


def run_child(label, case, database, arg):
    """Run ``case`` in a subprocess against ``database``; return its result.

    The shell in between forks the child: a process started straight
    from this one would inherit this one's peak RSS in its ``ru_maxrss``
    (Linux keeps it across exec), and the cases would all look as big as
    the benchmark itself.
    """
    env = dict(os.environ, MYSQL_DATABASE=database)
    with step(label):
        done = subprocess.run(
            [SHELL, "-c", '"$@"; exit $?', "sh", sys.executable,
             os.path.abspath(__file__), "--child", case, database,
             json.dumps(arg)],
            capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode:
        sys.exit(f"error: {label} failed:\n{done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def query(database, sql, args=()):
    """Run one statement on ``database`` (None: none); return its rows."""
    os.environ["MYSQL_DATABASE"] = database or "ALX_prodev"
    connection = seed.connect(database=database is not None)
    try:
        cursor = connection.cursor()
        cursor.execute(sql, args)
        rows = cursor.fetchall() if cursor.with_rows else []
        cursor.close()
        return rows
    finally:
        connection.close()


def fresh_table(database):
    """Create ``database`` if needed and an empty user_data in it."""
    query(None, f"CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET "
          f"{seed.CHARSET} COLLATE {seed.COLLATION}")
    query(database, "DROP TABLE IF EXISTS user_data")
    query(database, seed.TABLE)


def row_count(database):
    """Return the rows in user_data of ``database``, None if it has none."""
    exists = query(None, "SELECT COUNT(*) FROM information_schema.tables "
                   "WHERE table_schema = %s AND table_name = 'user_data'",
                   (database,))[0][0]
    if not exists:
        return None
    return query(database, "SELECT COUNT(*) FROM user_data")[0][0]


def make_csvs():
    """Write the CSVs of each size into bench/data, unless already there."""
    os.makedirs(DATA, exist_ok=True)
    paths = {}
    for label, rows in SIZES:
        path = os.path.join(DATA, f"users_{label}.csv")
        if not os.path.exists(path):
            with step(f"writing {rows:,} rows to {os.path.relpath(path)}"):
                subprocess.run(
                    [sys.executable,
                     os.path.join(ROOT, "scripts", "make_users_csv.py"),
                     path + ".part", "--rows", str(rows)], check=True)
            os.replace(path + ".part", path)
        paths[label] = path
    return paths


def prepare_tables(paths):
    """Load each size's table, unless it already has its rows.

    Return the load path taken by each load done (empty: all reused).
    """
    methods = {}
    for label, rows in SIZES:
        database = database_of(label)
        if row_count(database) == rows:
            note(f"{database}: {rows:,} rows, reused")
            continue
        fresh_table(database)
        os.environ["MYSQL_DATABASE"] = database
        with step(f"loading {rows:,} rows into {database}"), \
                contextlib.redirect_stdout(io.StringIO()):
            connection = seed.connect()
            try:
                counts = seed.insert_data(connection, paths[label])
            finally:
                connection.close()
        if row_count(database) != rows:
            sys.exit(f"error: {database} has {row_count(database)} rows "
                     f"after the load, not {rows}: {counts}")
        methods[label] = counts.method
        note(f"{database}: {rows:,} rows loaded by {counts.method}")
    return methods


def rotated(items, turn):
    """Return ``items`` rotated by ``turn``: each repetition starts anew."""
    turn %= len(items)
    return list(items[turn:]) + list(items[:turn])


def bench_streams(reps):
    """Run the streaming cases, each next to its anchor; return the results.

    ``results[label][case]`` lists each repetition's result, and
    ``results[label][case, anchor]`` the anchor's run beside it: a case
    and its anchor run one after the other (in turn first), so that the
    ratio compares runs under the same load on the machine.
    """
    sql = {"client_full": SELECT, "client_ages": AGES}
    results = {}
    for label, rows in SIZES:
        database = database_of(label)
        run_client_warm(database)
        runs = results[label] = {}
        for rep in range(reps):
            for case, anchor, _ in rotated(STREAMS, rep):
                for name in rotated((case, anchor), rep):
                    text = (f"{label}: {case}" + " vs the client" * (
                        name == anchor) + f", repetition {rep + 1} of {reps}")
                    if name == anchor:
                        result = run_child(text, "client", database,
                                           {"sql": sql[anchor]})
                        runs.setdefault((case, anchor), []).append(result)
                        runs.setdefault(anchor, []).append(result)
                    else:
                        result = run_child(text, case, database, {})
                        runs.setdefault(case, []).append(result)
    return results


def run_client_warm(database):
    """Read the table once, untimed, so that every case finds it cached."""
    os.environ["MYSQL_DATABASE"] = database
    with step(f"{database}: warming the server's cache"):
        run_client(SELECT)
        run_client(AGES)


def depths_of(label, rows):
    """Return each page depth: its percent, OFFSET and keyset start."""
    depths = []
    for percent in DEPTHS:
        offset = min(rows * percent // 100, rows - PAGE)
        after = ""
        if offset:
            after = query(database_of(label), "SELECT user_id FROM user_data"
                          " ORDER BY user_id LIMIT 1 OFFSET %s",
                          (offset - 1,))[0][0]
        depths.append({"percent": percent, "offset": offset, "after": after})
    return depths


def bench_pages(reps):
    """Time OFFSET and keyset pages at each depth of each table.

    Return ``{label: {"depths": [...], "offset": [[ms...]...], ...}}``,
    a list of medians per depth for each repetition.
    """
    results = {}
    for label, rows in SIZES:
        depths = depths_of(label, rows)
        results[label] = {"depths": depths, "offset": [], "keyset": []}
        for rep in range(reps):
            for kind in rotated(("offset", "keyset"), rep):
                result = run_child(
                    f"{label}: {kind} pages, repetition {rep + 1} of {reps}",
                    "pages", database_of(label),
                    {"kind": kind, "depths": depths, "tries": PAGE_TRIES})
                results[label][kind].append(result["value"])
    return results


@contextlib.contextmanager
def local_infile_refused(refused):
    """Run a case with the server refusing LOCAL INFILE, as MySQL 8 ships.

    The project-local server's root sets it, over the server's socket.
    """
    if not refused:
        yield
        return
    localdb.admin(localdb.DATA, "SET GLOBAL local_infile = 0")
    try:
        yield
    finally:
        localdb.admin(localdb.DATA, "SET GLOBAL local_infile = 1")


def bench_seeding(path, reps):
    """Load the 1M-row CSV four ways, each into an empty table.

    Return ``{case: [result, ...]}``; each result has the rows loaded.
    """
    database = database_of("seed")
    cases = [case for case, _ in SEEDING]
    results = {case: [] for case in cases}
    for rep in range(reps):  # the two compared closely, next to each other
        for case in rotated(cases[:2], rep) + cases[2:]:
            fresh_table(database)
            arg = {"path": path, "rows": SLICE}
            with local_infile_refused(case == "insert_fallback"):
                result = run_child(f"seeding: {case}, repetition {rep + 1} "
                                   f"of {reps}", case, database, arg)
            result["rows"] = row_count(database)
            expected = SLICE if case == "row_by_row" else SIZES[-1][1]
            if result["rows"] != expected:
                sys.exit(f"error: {case} left {result['rows']} rows, not "
                         f"{expected}")
            results[case].append(result)
    query(None, f"DROP DATABASE IF EXISTS `{database}`")
    return results


# ------------------------------------------------------------- analysis --

def median(values):
    """Return the median of ``values``."""
    return statistics.median(values)


def speed(results, rows):
    """Return the median rows per second of a case's repetitions."""
    return median([rows / result["seconds"] for result in results])


def ratio(ours, anchor):
    """Return the median of the repetitions' ratios of speed, ours/anchor."""
    return median([theirs["seconds"] / mine["seconds"]
                   for mine, theirs in zip(ours, anchor)])


def rss(results):
    """Return the median peak RSS, in MB, of a case's repetitions."""
    return median([result["rss_mb"] for result in results])


def stream_rows(streams):
    """Return the streaming table's rows as dicts, by size then case."""
    table = []
    for label, rows in SIZES:
        runs = streams[label]
        for case, anchor, name in STREAMS:
            table.append({
                "label": label, "rows": rows, "case": case, "name": name,
                "anchor": anchor, "speed": speed(runs[case], rows),
                "anchor_speed": speed(runs[anchor], rows),
                "ratio": ratio(runs[case], runs[case, anchor]),
                "rss": rss(runs[case]), "anchor_rss": rss(runs[anchor])})
    return table


def page_table(pages):
    """Return the pages table: median ms of each kind at each depth."""
    table = []
    for label, rows in SIZES:
        result = pages[label]
        for at, depth in enumerate(result["depths"]):
            offset = median([rep[at]["ms"] for rep in result["offset"]])
            keyset = median([rep[at]["ms"] for rep in result["keyset"]])
            same = all(rep[at]["first"] == other[at]["first"]
                       and rep[at]["rows"] == other[at]["rows"] == PAGE
                       for rep in result["offset"]
                       for other in result["keyset"])
            table.append({"label": label, "rows": rows,
                          "percent": depth["percent"],
                          "offset": depth["offset"], "offset_ms": offset,
                          "keyset_ms": keyset, "same": same})
    return table


def seeding_table(seeding):
    """Return the seeding rows: speed, ratios to LOAD DATA, peak RSS."""
    table = []
    for case, name in SEEDING:
        runs = seeding[case]
        rows = runs[0]["rows"]
        table.append({"case": case, "name": name, "rows": rows,
                      "speed": speed(runs, rows),
                      "ratio": median([
                          (rows / mine["seconds"])
                          / (theirs["rows"] / theirs["seconds"])
                          for mine, theirs in zip(runs,
                                                  seeding["load_data"])]),
                      "rss": rss(runs)})
    return table


def targets(streams, stream_table, pages_table, seeding):
    """Check the targets; return (line, passed) pairs, None: information."""
    find = {(row["label"], row["case"]): row for row in stream_table}
    lines = []
    for case in ("stream", "batches"):
        row = find[BIG, case]
        lines.append((f"{row['name']} over 1M rows: {row['ratio']:.2f}x the "
                      "--quick client's rows/s (target >= 0.5x)",
                      row["ratio"] >= 0.5))
    row = find[BIG, "ages"]
    lines.append((f"average_age over 1M rows: {row['ratio']:.2f}x the "
                  "--quick client's rows/s (target >= 0.3x)",
                  row["ratio"] >= 0.3))
    for label, rows in SIZES:
        ours = {result["value"] for result in streams[label]["ages"]}
        server = {result["value"] for result in streams[label]["sql_avg"]}
        lines.append((f"average_age over {human(rows)} rows = "
                      f"{'/'.join(sorted(ours))}, SQL AVG = "
                      f"{'/'.join(sorted(server))} (target: equal)",
                      ours == server and len(ours) == 1))
    small = SIZES[0][0]
    for case in ("stream", "batches", "ages", "fetchall"):
        grow = round(find[BIG, case]["rss"] - find[small, case]["rss"], 1)
        grow += 0.0  # no "-0.0"
        text = (f"peak RSS of {find[BIG, case]['name']}: "
                f"{find[small, case]['rss']:.1f} MB over 10k rows, "
                f"{find[BIG, case]['rss']:.1f} MB over 1M ({grow:+.1f} MB)")
        if case == "fetchall":
            lines.append((text + ", for comparison", None))
        else:
            lines.append((text + " (target: within 5 MB)", abs(grow) <= 5))
    table = {row["case"]: row for row in seeding_table(seeding)}
    ours = table["insert_data"]
    lines.append((f"insert_data: {ours['ratio']:.2f}x LOAD DATA LOCAL's "
                  "rows/s (target >= 0.5x)", ours["ratio"] >= 0.5))
    versus = median([
        (mine["rows"] / mine["seconds"]) / (base["rows"] / base["seconds"])
        for mine, base in zip(seeding["insert_data"],
                              seeding["row_by_row"])])
    lines.append((f"insert_data: {versus:.1f}x the row-by-row baseline's "
                  "rows/s (target >= 10x)", versus >= 10))
    fallback = table["insert_fallback"]
    lines.append((f"insert_data on a server refusing LOCAL INFILE, by "
                  f"{seeding['insert_fallback'][0]['value']['method']}: "
                  f"{fallback['ratio']:.2f}x LOAD DATA LOCAL's rows/s",
                  None))
    page = {(row["label"], row["percent"]): row for row in pages_table}
    top, deep = page[BIG, 0], page[BIG, 100]
    lines.append((f"keyset page at 100% of 1M: {deep['keyset_ms']:.2f} ms, "
                  f"at 0%: {top['keyset_ms']:.2f} ms "
                  f"({deep['keyset_ms'] / top['keyset_ms']:.2f}x; target "
                  "<= 2x)", deep["keyset_ms"] <= 2 * top["keyset_ms"]))
    faster = deep["offset_ms"] / deep["keyset_ms"]
    lines.append((f"keyset page at 100% of 1M: {faster:.0f}x faster than "
                  f"OFFSET ({deep['offset_ms']:.1f} ms; target >= 50x)",
                  faster >= 50))
    lines.append(("keyset and OFFSET pages start at the same user at every "
                  "depth", all(row["same"] for row in pages_table)))
    return lines


# -------------------------------------------------------------- reports --

def machine():
    """Describe the machine, the server and the driver, as (name, value)."""
    import mysql.connector
    with open("/proc/cpuinfo") as info:
        cpu = next((line.split(":", 1)[1].strip() for line in info
                    if line.startswith("model name")), platform.processor())
    with open("/proc/meminfo") as info:
        ram = int(next(line.split()[1] for line in info
                       if line.startswith("MemTotal"))) / 1024 ** 2
    system = platform.platform()
    if os.path.exists("/etc/os-release"):
        with open("/etc/os-release") as info:
            system = next((line.split("=", 1)[1].strip().strip('"')
                           for line in info
                           if line.startswith("PRETTY_NAME=")), system)
    os.environ["MYSQL_DATABASE"] = "ALX_prodev"
    connection = seed.connect(database=False)
    cursor = connection.cursor()
    cursor.execute("SELECT VERSION()")
    version = cursor.fetchone()[0]
    cursor.close()
    kind = type(connection).__name__
    connection.close()
    native = "active" if mysql.connector.HAVE_CEXT else "NOT active"
    return [("CPU", f"{cpu}, {os.cpu_count()} cores"),
            ("RAM", f"{ram:.1f} GiB"),
            ("OS", f"{system} (Linux {platform.release()})"),
            ("Server", version),
            ("Python", platform.python_version()),
            ("Driver", f"mysql-connector-python {mysql.connector.__version__}"
             f", C extension {native} (HAVE_CEXT="
             f"{mysql.connector.HAVE_CEXT}, connection class {kind})")]


def human(rows):
    """Format a number of rows: 10k, 100k, 1M."""
    return f"{rows // 1000}k" if rows < 10 ** 6 else f"{rows // 10 ** 6}M"


def markdown(info, reps, seed_reps, stream_table, pages_table, seeding,
             checks, minutes):
    """Return results.md: the machine, the three tables, the targets."""
    out = ["# Benchmark results", "",
           f"Made by `make bench` (bench/run.py) in {minutes:.1f} minutes.",
           ""]
    out += [f"- **{name}**: {value}" for name, value in info]
    out += ["", "Each case runs in a subprocess of its own (peak RSS is "
            "that process's `ru_maxrss`; for the client, the client's), "
            f"{reps} times for streaming and pages and {seed_reps} times for "
            "seeding, each repetition running a case and its anchor one "
            "after the other. Speeds are medians; a ratio is the median of "
            "the repetitions' ratios (above 1: faster than the anchor). The "
            "machine was shared with other work, so single runs are noisy.",
            "", "## Streaming", "",
            "Anchor: the `mariadb` command-line client with `--quick` (rows "
            "streamed with the C library's `mysql_use_result`) sending the "
            "same SELECT to /dev/null: the wire limit. The full stream reads "
            f"`{SELECT}`; the average reads `{AGES}`.", "",
            "| rows | case | rows/s | anchor | anchor rows/s | ratio to "
            "anchor | peak RSS | anchor peak RSS |",
            "|---:|---|---:|---|---:|---:|---:|---:|"]
    for row in stream_table:
        out.append(f"| {human(row['rows'])} | {row['name']} | "
                   f"{row['speed']:,.0f} | {CLIENT_NAMES[row['anchor']]} | "
                   f"{row['anchor_speed']:,.0f} | "
                   f"{row['ratio']:.2f}x | {row['rss']:.1f} MB | "
                   f"{row['anchor_rss']:.1f} MB |")
    out += ["", "## Seeding", "",
            "Each into an empty `user_data`; the course-shaped CSV of 1M "
            "rows (`name`, `email`, `age`, no `user_id`). Load path taken by "
            f"insert_data: {seeding['insert_data'][0]['value']['method']} "
            "(from the Counts that `loader.load` returns: "
            f"{seeding['insert_data'][0]['value']}); with the server's "
            "`local_infile` off, as MySQL 8 ships: "
            f"{seeding['insert_fallback'][0]['value']['method']}.", "",
            "| method | rows | rows/s | ratio to LOAD DATA LOCAL | "
            "peak RSS |", "|---|---:|---:|---:|---:|"]
    for row in seeding_table(seeding):
        out.append(f"| {row['name']} | {row['rows']:,} | "
                   f"{row['speed']:,.0f} | {row['ratio']:.2f}x | "
                   f"{row['rss']:.1f} MB |")
    out += ["", "## Pages", "",
            f"One page of {PAGE} users, a new connection each (both "
            "functions open one), median of "
            f"{PAGE_TRIES} calls per repetition, then of the repetitions. "
            "`paginate_users(100, offset)` against "
            "`keyset_page(100, after=<the user_id just before>)`.", "",
            "| rows | depth | offset | OFFSET ms | keyset ms | "
            "OFFSET / keyset |", "|---:|---:|---:|---:|---:|---:|"]
    for row in pages_table:
        out.append(f"| {human(row['rows'])} | {row['percent']}% | "
                   f"{row['offset']:,} | {row['offset_ms']:.2f} | "
                   f"{row['keyset_ms']:.2f} | "
                   f"{row['offset_ms'] / row['keyset_ms']:.1f}x |")
    out += ["", "## Targets", ""]
    out += [f"- {verdict(passed)} {line}" for line, passed in checks]
    out += ["", "![chart](chart.png)", ""]
    return "\n".join(out)


def verdict(passed):
    """Return PASS, FAIL or INFO for a check."""
    return "INFO" if passed is None else "PASS" if passed else "FAIL"


def chart(path, stream_table, pages_table, seeding):
    """Draw the three panels: memory, throughput ratios, page times."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, (memory, speeds, pages) = plt.subplots(1, 3, figsize=(19, 6))
    sizes = [rows for _, rows in SIZES]
    find = {(row["label"], row["case"]): row for row in stream_table}
    names = {"stream": "stream_users()",
             "batches": "stream_users_in_batches(1000)",
             "ages": "average_age(stream_user_ages())",
             "fetchall": "naive fetchall() (dicts)"}
    ticks = ["stream\n_users()", "stream_users\n_in_batches\n(1000)",
             "average\n_age()", "naive\nfetchall()", "insert\n_data()",
             "insert_data(),\nno LOCAL\nINFILE", "row-by-row\nINSERT"]
    for case, name in names.items():
        values = [find[label, case]["rss"] for label, _ in SIZES]
        memory.plot(sizes, values, marker="o", label=name,
                    linestyle="--" if case == "fetchall" else "-")
    flat = [find[label, case]["rss"] for label, _ in SIZES
            for case in ("stream", "batches", "ages")]
    spread = f"{min(flat):.0f}" + (f"-{max(flat):.0f}" if round(min(
        flat)) != round(max(flat)) else "")
    memory.annotate(f"the generators: {spread} MB at every size",
                    (sizes[1], max(flat)),
                    textcoords="offset points", xytext=(0, 8),
                    ha="center", fontsize=8)
    big = find[BIG, "fetchall"]["rss"]
    memory.annotate(f"{big:.0f} MB", (sizes[-1], big),
                    textcoords="offset points", xytext=(-8, -4),
                    ha="right", fontsize=8)
    memory.set_xscale("log")
    memory.set_ylim(0, big * 1.1)
    memory.set_xticks(sizes, [human(rows) for rows in sizes])
    memory.set_xlabel("rows in the table")
    memory.set_ylabel("peak RSS of the process (MB)")
    memory.set_title("Peak memory vs rows")
    memory.legend(fontsize=8)
    memory.grid(True, which="both", alpha=0.3)
    groups = [(names[case], case) for case in ("stream", "batches", "ages",
                                               "fetchall")]
    width = 0.26
    for at, (label, rows) in enumerate(SIZES):
        values = [find[label, case]["ratio"] for _, case in groups]
        bars = speeds.bar([i + (at - 1) * width
                           for i in range(len(groups))],
                          values, width, label=f"{human(rows)} rows")
        speeds.bar_label(bars, fmt="%.2f", fontsize=7, rotation=90,
                         padding=2)
    seeds = {row["case"]: row for row in seeding_table(seeding)}
    base = len(groups)
    seeders = ("insert_data", "insert_fallback", "row_by_row")
    bars = speeds.bar([base + at for at in range(len(seeders))],
                      [seeds[case]["ratio"] for case in seeders],
                      width, color="tab:gray", label="seeding, 1M CSV")
    speeds.bar_label(bars, fmt="%.2f", fontsize=7, rotation=90,
                     padding=2)
    goals = [0.5, 0.5, 0.3, None, 0.5, None, None]
    for at, goal in enumerate(goals):
        if goal:
            speeds.hlines(goal, at - 0.42, at + 0.42, colors="black",
                          linestyles=":")
    speeds.axhline(1, color="black", linewidth=0.8)
    tallest = max([row["ratio"] for row in stream_table
                   if row["case"] in names] + [1])
    speeds.set_ylim(0, tallest * 1.15)  # room for the labels
    speeds.set_xticks(range(len(goals)), ticks, fontsize=8)
    speeds.set_ylabel("rows/s ÷ anchor's rows/s (dotted: target)")
    speeds.set_title("Throughput vs anchor (--quick client, LOAD DATA)")
    speeds.legend(fontsize=8)
    speeds.grid(True, axis="y", alpha=0.3)
    markers = {"10k": "s", "100k": "^", "1m": "o"}
    for label, rows in SIZES:
        mine = [row for row in pages_table if row["label"] == label]
        skipped = [row["offset"] for row in mine]
        for kind, color in (("offset", "tab:red"), ("keyset", "tab:green")):
            pages.plot(skipped, [row[kind + "_ms"] for row in mine],
                       marker=markers[label], color=color,
                       label=f"{'OFFSET' if kind == 'offset' else 'keyset'}"
                       f", {human(rows)} rows")
    deepest = max(pages_table, key=itemgetter("offset"))
    per = (deepest["offset_ms"] - deepest["keyset_ms"]) / deepest["offset"]
    pages.annotate(f"OFFSET: +{per * 1000:.2f} ms per 1,000 rows skipped,\n"
                   "whichever the table: the server reads them all",
                   (deepest["offset"], deepest["offset_ms"]),
                   textcoords="offset points", xytext=(-10, -70),
                   ha="right", fontsize=8)
    pages.set_xlabel("rows skipped to reach the page (OFFSET)")
    pages.set_ylabel(f"time for one page of {PAGE} (ms)")
    pages.set_title("Page time vs depth: OFFSET grows, keyset stays flat")
    ticks = range(0, max(sizes) + 1, max(sizes) // 4)
    pages.set_xticks(ticks, [f"{tick:,}" for tick in ticks])
    pages.legend(fontsize=8, ncol=2, loc="upper left")
    pages.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main():
    """Build the tables, run every case, write and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5,
                        help="repetitions of the streaming and page cases")
    parser.add_argument("--seed-reps", type=int, default=3,
                        help="repetitions of the seeding cases")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if localdb.users_env():
        sys.exit("error: make bench builds its tables on the project-local "
                 "server, and .env names a server of yours: move .env aside "
                 "to run it")
    start = time.monotonic()
    try:
        info = machine()
    except seed.SetupError as err:
        sys.exit(f"error: {err}")
    paths = make_csvs()
    loads = prepare_tables(paths)
    streams = bench_streams(args.reps)
    pages = bench_pages(args.reps)
    seeding = bench_seeding(paths[BIG], args.seed_reps)
    stream_table = stream_rows(streams)
    pages_table = page_table(pages)
    checks = targets(streams, stream_table, pages_table, seeding)
    os.makedirs(RESULTS, exist_ok=True)
    minutes = (time.monotonic() - start) / 60
    info.append(("Tables", ", ".join(
        f"{human(rows)}: " + (f"loaded by {loads[label]}" if label in loads
                              else "reused from an earlier run")
        for label, rows in SIZES)))
    text = markdown(info, args.reps, args.seed_reps, stream_table,
                    pages_table, seeding, checks, minutes)
    with open(os.path.join(RESULTS, "results.md"), "w") as out:
        out.write(text)
    chart(os.path.join(RESULTS, "chart.png"), stream_table, pages_table,
          seeding)
    print(text.split("## Targets")[0].rstrip() + "\n")
    for line, passed in checks:
        print(f"{verdict(passed)} {line}")
    print(f"\nwritten: {os.path.relpath(RESULTS)}/results.md and chart.png")


if __name__ == "__main__":
    main()
