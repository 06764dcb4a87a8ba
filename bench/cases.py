#!/usr/bin/env python3
"""What the benchmark measures: each case, run in a process of its own.

    bench/cases.py CASE DATABASE ARG    # started by bench/run.py

A case is one function taking a dict, ``database`` and what its runner
passes in JSON (nothing more for most), and returning ``timed(work)``:
the wall time of the work and what it returned. ``@case`` registers it
in ``CASES`` with how bench/run.py runs it and how the results name it:

- ``"stream"``: on each table, each time next to its ``anchor``, the
  fastest way to read the same rows (the C client with ``--quick``);
- ``"seed"``: on each CSV of ``csvs`` (``rows``: only that many) into
  a table that holds the share ``present`` of its rows already (the
  last ones; none: an empty table), in the same repetition as
  ``anchor``, LOAD DATA LOCAL of the same file; the cases of one
  ``paired`` group run right next to each other; a case that
  ``loads`` nothing (the loader's Python side alone) returns the rows
  it made;
- ``"page"``: on each table, one page at each depth;
- ``"anchor"``: only as another case's anchor;
- ``"failover"``: on the benchmark's Galera cluster (bench/galera.py),
  a node stopped under a stream; the seconds are the gap it cost.

The streaming cases and their anchors also run through a node of that
cluster: a case reads the servers that its environment names.

Adding a case is adding one function here. The process prints one JSON
line: the result, with the peak RSS (``ru_maxrss``) of this process, or
of the client for a case run by the command-line client.
"""
import argparse
import contextlib
import csv
import io
import json
import os
import resource
import signal
import statistics
import tempfile
import threading
import time
import uuid
from collections import deque, namedtuple
from itertools import islice

import server
from server import cluster, testlab
from sizes import BIG, MID

SELECT = "SELECT user_id, name, email, age FROM user_data ORDER BY user_id"
AGES = "SELECT age FROM user_data"
AVG = "SELECT ROUND(AVG(age), 2) FROM user_data"
LOAD = ("LOAD DATA LOCAL INFILE '{path}' INTO TABLE user_data CHARACTER SET "
        "utf8mb4 FIELDS TERMINATED BY ',' ENCLOSED BY '\"' LINES TERMINATED "
        "BY '\\n' IGNORE 1 LINES (name, email, age) SET user_id = UUID()")
IGNORE = ("LOAD DATA LOCAL INFILE '{path}' IGNORE INTO TABLE user_data "
          "CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' ENCLOSED BY '\"' "
          "LINES TERMINATED BY '\\n' IGNORE {skip:d} LINES "
          "(user_id, name, email, age)")  # a CSV with its ids: the last rows
INSERT = ("INSERT INTO user_data (user_id, name, email, age) "
          "VALUES (%s, %s, %s, %s)")
SLICE = 50_000  # rows of the row-by-row baseline
PAGE = 100
DEPTHS = (0, 10, 50, 100)  # percent of the table; 100 is the last page
PAGE_TRIES = 5  # calls at each depth, in each process
SETTLED = 0.3  # seconds without a new row: the reader waits at the gate
WAIT = 120  # seconds any wait in a case may take on a busy machine
DROPPED = 30  # seconds a case waits for the cluster to drop its lost node

Case = namedtuple("Case",
                  "run group title anchor csvs rows paired present loads")
CASES = {}


def case(group, title, anchor=None, csvs=(BIG,), rows=None, paired=None,
         present=0, loads=True):
    """Register the decorated function as the case of its name."""
    def register(function):
        """Add ``function`` to CASES; return it unchanged."""
        CASES[function.__name__] = Case(function, group, title, anchor,
                                        csvs, rows, paired, present, loads)
        return function
    return register


def grouped(group):
    """Return the names of the cases of ``group``, in the order defined."""
    return [name for name, spec in CASES.items() if spec.group == group]


def seeding_plan(only=None):
    """Return each CSV the seeding cases load, with its cases, in order.

    ``only``: the names of the cases to run (None: all).
    """
    names = [name for name in grouped("seed") if only is None
             or name in only]
    labels = dict.fromkeys(label for name in names
                           for label in CASES[name].csvs)
    return [(label, [name for name in names if label in CASES[name].csvs])
            for label in labels]


def timed(work):
    """Run ``work()``; return its wall time in seconds and its value."""
    start = time.perf_counter()
    value = work()
    return {"seconds": time.perf_counter() - start, "value": value}


def task(name):
    """Import one of the course's task modules by its file name."""
    return __import__(name)


def client(sql, database, extra=()):
    """Time the C client running ``sql``; report its peak RSS.

    Without GNU time, the peak is ``RUSAGE_CHILDREN``'s: an upper bound,
    since a child started by this process inherits its peak.
    """
    with tempfile.NamedTemporaryFile("r") as memory:
        result = timed(lambda: server.run_client(sql, database, extra,
                                                 memory.name))
        kilobytes = memory.read().strip()
    if kilobytes.isdigit():
        result["rss_mb"] = int(kilobytes) / 1024
    else:
        result["external"] = True
    return result


# ----------------------------------------------------------- streaming --

@case("anchor", "client --quick, the full SELECT")
def client_full(arg):
    """Time the C client reading the full SELECT to /dev/null."""
    return client(SELECT, arg["database"])


@case("anchor", "client --quick, SELECT age")
def client_ages(arg):
    """Time the C client reading every age to /dev/null."""
    return client(AGES, arg["database"])


@case("stream", "stream_users()", anchor="client_full")
def stream(arg):
    """Consume stream_users() without keeping a row."""
    stream_users = task("0-stream_users").stream_users
    return timed(lambda: len(deque(stream_users(), maxlen=0)))


@case("stream", "stream_users_in_batches(1000)", anchor="client_full")
def batches(arg):
    """Consume stream_users_in_batches(1000) without keeping a batch."""
    in_batches = task("1-batch_processing").stream_users_in_batches
    return timed(lambda: len(deque(in_batches(1000), maxlen=0)))


@case("stream", "naive cursor.fetchall() (dicts)", anchor="client_full")
def fetchall(arg):
    """Time reading the whole table as dicts with fetchall, the naive way."""
    def naive():
        """Read every row into a list of dicts; return how many."""
        connection = server.connect(arg["database"])
        cursor = connection.cursor(dictionary=True)
        cursor.execute(SELECT)
        rows = cursor.fetchall()
        cursor.close()
        connection.close()
        return len(rows)
    return timed(naive)


@case("stream", "average_age(stream_user_ages())", anchor="client_ages")
def ages(arg):
    """Compute average_age(stream_user_ages()); the value is the average."""
    module = task("4-stream_ages")
    return timed(lambda: str(module.average_age(module.stream_user_ages())))


@case("stream", "SQL AVG(age) (reference)", anchor="client_ages")
def sql_avg(arg):
    """Time the server's own ROUND(AVG(age), 2), the reference value."""
    def average():
        """Return the server's average age, as text."""
        connection = server.connect(arg["database"])
        cursor = connection.cursor()
        cursor.execute(AVG)
        value = cursor.fetchone()[0]
        cursor.close()
        connection.close()
        return str(value)
    return timed(average)


# ------------------------------------------------------------- seeding --

def seed_insert(path, database):
    """Run seed.insert_data on ``path``; return its Counts as a dict."""
    connection = server.connect(database)
    try:
        return server.seed.insert_data(connection, path)._asdict()
    finally:
        connection.close()


@case("seed", "seed.insert_data", anchor="load_data", csvs=(BIG, MID),
      paired="empty")
def insert_data(arg):
    """Time seed.insert_data loading the CSV into the empty table."""
    return timed(lambda: seed_insert(arg["path"], arg["database"]))


@case("seed", "LOAD DATA LOCAL INFILE, user_id = UUID()",
      anchor="load_data", csvs=(BIG, MID), paired="empty")
def load_data(arg):
    """Time LOAD DATA LOCAL INFILE of the CSV by the C client."""
    return client(LOAD.format(path=arg["path"]), arg["database"],
                  ["--local-infile=1"])


@case("seed", "the loader's Python side alone (read, check, ids, rows, "
      "sort, write; no server)", anchor="load_data", csvs=(BIG, MID),
      paired="empty", loads=False)
def python_side(arg):
    """Time the loader's work on the CSV without a server: its chunk files.

    ``loader.write_chunks`` as in a load by LOAD DATA LOCAL, in this
    thread, into a temporary folder; the value is the rows written.
    """
    def write():
        """Write the chunk files; return their rows."""
        with tempfile.TemporaryDirectory() as folder:
            return sum(rows for _, rows in chunk_files(arg["path"], folder))
    return timed(write)


@case("seed", "the server alone (LOAD DATA LOCAL of the loader's chunk "
      "files, one transaction)", anchor="load_data", csvs=(BIG, MID),
      paired="empty")
def server_side(arg):
    """Time the loader sending chunk files made before the clock starts.

    ``loader.send``, as a load runs it (its connection, the table's
    check, one transaction), with the files of ``chunk_files`` given
    at once: what is left of a load when the Python side costs nothing.
    """
    loader = server.loader
    with tempfile.TemporaryDirectory() as folder:
        chunks = chunk_files(arg["path"], folder)

        def send():
            """Send the chunk files; return the rows inserted."""
            rejects = loader.Rejects(arg["path"])
            try:
                _, inserted, _, method = loader.send(
                    server.settings(arg["database"]), folder,
                    lambda method, wanted: iter(chunks), rejects,
                    loader.Progress(arg["path"]))  # no bar: nothing read
            finally:
                rejects.close()
            assert method.local_infile, "chunk files made for LOAD DATA"
            return inserted
        return timed(send)


def chunk_files(path, folder):
    """Write the loader's chunk files of the CSV at ``path`` into ``folder``.

    As a load by LOAD DATA LOCAL writes them, with no server waiting
    (so every chunk is full); return them as ``(path, rows)`` pairs.
    """
    loader = server.loader
    method = loader.Method("LOAD DATA LOCAL INFILE", True, "",
                           loader.INSERT_BYTES)
    rejects = loader.Rejects(path)
    records, layout = loader.read_header(path)
    try:
        return list(loader.write_chunks(records, layout, method, rejects,
                                        folder, threading.Event()))
    finally:
        records.close()
        rejects.close()


@case("seed", "seed.insert_data again, every row present",
      anchor="ignore_all", paired="all present", present=1)
def reseed_all(arg):
    """Time seed.insert_data of the CSV whose every row is present."""
    return timed(lambda: seed_insert(arg["path"], arg["database"]))


@case("seed", "LOAD DATA LOCAL INFILE ... IGNORE, the same ids, every row "
      "present", anchor="ignore_all", paired="all present", present=1)
def ignore_all(arg):
    """Time LOAD DATA LOCAL ... IGNORE of the CSV with its ids, all present."""
    return client(IGNORE.format(path=arg["ids"], skip=1), arg["database"],
                  ["--local-infile=1"])


@case("seed", "seed.insert_data again, half the rows present",
      anchor="ignore_half", paired="half present", present=0.5)
def reseed_half(arg):
    """Time seed.insert_data of the CSV whose last half is present."""
    return timed(lambda: seed_insert(arg["path"], arg["database"]))


@case("seed", "LOAD DATA LOCAL INFILE ... IGNORE, the same ids, half the "
      "rows present", anchor="ignore_half", paired="half present",
      present=0.5)
def ignore_half(arg):
    """Time LOAD DATA LOCAL ... IGNORE of the CSV with its ids, half in."""
    return client(IGNORE.format(path=arg["ids"], skip=1), arg["database"],
                  ["--local-infile=1"])


@case("seed", "seed.insert_data, server refusing LOCAL INFILE",
      anchor="load_data")
def insert_fallback(arg):
    """Time seed.insert_data with the server refusing LOCAL INFILE.

    As MySQL 8 ships; the project-local server's admin sets it, over the
    server's socket, before the clock starts and back after it stops.
    """
    server.admin("SET GLOBAL local_infile = 0")
    try:
        return timed(lambda: seed_insert(arg["path"], arg["database"]))
    finally:
        server.admin("SET GLOBAL local_infile = 1")


@case("seed", f"row-by-row INSERT + commit (first {SLICE // 1000}k rows)",
      anchor="load_data", rows=SLICE)
def row_by_row(arg):
    """Insert the CSV's first rows one by one, a commit each.

    This is how most course solutions seed the table.
    """
    def insert():
        """Insert ``arg['rows']`` rows; return how many."""
        connection = server.connect(arg["database"])
        connection.autocommit = False
        cursor = connection.cursor()
        with open(arg["path"], encoding="utf-8", newline="") as source:
            for row in islice(csv.DictReader(source), arg["rows"]):
                cursor.execute(INSERT, (str(uuid.uuid4()), row["name"],
                                        row["email"], row["age"]))
                connection.commit()
        cursor.close()
        connection.close()
        return arg["rows"]
    return timed(insert)


# --------------------------------------------------------------- pages --

def pages(calls, tries):
    """Time each call ``tries`` times; return each's median ms and page.

    One untimed call first: the first connection of a process is slower.
    """
    calls[0][0](*calls[0][1])
    times = [[] for _ in calls]
    found = [None] * len(calls)
    for _ in range(tries):
        for at, (function, args) in enumerate(calls):
            start = time.perf_counter()
            page = function(*args)
            times[at].append(time.perf_counter() - start)
            found[at] = page
    value = [{"ms": 1000 * statistics.median(spent), "rows": len(page),
              "first": page[0]["user_id"] if page else None}
             for spent, page in zip(times, found)]
    return {"seconds": None, "value": value}


@case("page", "paginate_users(100, offset)")
def offset_pages(arg):
    """Time one OFFSET page at each depth; medians in ms."""
    paginate = task("2-lazy_paginate").paginate_users
    return pages([(paginate, (PAGE, depth["offset"]))
                  for depth in arg["depths"]], arg["tries"])


@case("page", "keyset_page(100, after)")
def keyset_pages(arg):
    """Time one keyset page at each depth; medians in ms."""
    keyset = task("keyset_paginate").keyset_page
    return pages([(keyset, (PAGE, depth["after"]))
                  for depth in arg["depths"]], arg["tries"])


# ------------------------------------------------------------- cluster --

@case("failover", "node killed (SIGKILL)")
def failover_kill(arg):
    """Time the gap in a stream whose node is killed under it."""
    return failover(arg, signal.SIGKILL)


@case("failover", "node frozen (SIGSTOP)")
def failover_freeze(arg):
    """Time the gap in a stream whose node freezes under it."""
    return failover(arg, signal.SIGSTOP)


def failover(arg, signum):
    """Send ``signum`` to node 1 while a stream waits on it; time the gap.

    ``MYSQL_HOST`` names the nodes of the cluster in ``arg["folder"]``,
    node 1 first; ``stream_users()`` reads the gated table (see
    bench/galera.py) from node 1, whose row ``arg["at"]`` waits on the
    gate's lock. Once the consumer has read every row node 1 sent (the
    batch it was reading then is read again from the next node), node 1
    gets the signal; the seconds are the gap from the signal to the next
    row the consumer gets, the first one of the read that went on from
    another node after the last key. A frozen node
    is let go (SIGCONT) once the stream ends. The value: the gap's parts
    (``parts``), when node 2 saw the cluster drop node 1, the
    rows read before the signal, the node that served the rest, the
    connections tried, and whether the rows were every row of the table
    once, in key order.
    """
    nodes = cluster.members(arg["folder"])
    ports = {node.port: node.name for node in nodes}
    # Through node 3: node 2, where the stream goes on, is left alone
    # before the signal, as a node the stream has not used.
    expected = [user_id for user_id, in server.query(
        arg["database"], "SELECT user_id FROM user_data ORDER BY user_id",
        host=server.hosts(nodes[2:]))]
    stream_users = task("0-stream_users").stream_users
    got, failed = [], []

    def consume():
        """Read the stream; note when each row arrives, or the error."""
        try:
            for user in stream_users():
                got.append((time.perf_counter(), user["user_id"]))
        except Exception as err:  # reported, not raised, in this thread
            failed.append(f"{type(err).__name__}: {err}")

    reader = threading.Thread(target=consume, daemon=True)
    gate = testlab.Gate(testlab.Member(nodes[0]))
    watch = Watch(nodes[1], len(nodes))
    pid = nodes[0].pid
    try:
        with server.traced(reader) as records:
            reader.start()
            gate.waiting()
            settled(got)
            watch.start()
            before = len(got)
            signalled = time.perf_counter()
            os.kill(pid, signum)
            reader.join(WAIT)
        watch.wait()
    finally:
        if signum == signal.SIGSTOP:
            os.kill(pid, signal.SIGCONT)
        reader.join(WAIT)
        watch.stop()
        gate.close()
    served = [(at, port) for what, at, port in records
              if what == "query" and at > signalled]
    arrived = next((at for at, _ in got if served and at > served[-1][0]),
                   None)
    value = {"error": failed[0] if failed else None,
             "rows": len(got), "expected": len(expected), "before": before,
             "in_order": [user_id for _, user_id in got] == expected,
             "tries": sum(what == "connect" for what, at, _ in records
                          if at > signalled),
             "served_by": ports.get(served[-1][1]) if served else None,
             "dropped": watch.dropped and watch.dropped - signalled,
             "parts": arrived and parts(records, signalled, arrived)}
    return {"seconds": arrived and arrived - signalled, "value": value}


def settled(got):
    """Wait until the list ``got`` has not grown for ``SETTLED`` seconds.

    Called once the stream's query waits at the gate: the reader then
    reads what is left in the socket, a millisecond's work, and waits
    for the gated row. A wait for a row count would be wrong: the stream
    yields whole batches, and the server keeps the last rows it wrote in
    its buffer (``net_buffer_length``) while it waits at the gate, so the
    reader gets fewer rows than there are before the gate, by an amount
    that depends on the rows' size.
    """
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        count = len(got)
        time.sleep(SETTLED)
        if len(got) == count:
            return count
    raise RuntimeError(f"the stream still reads after {WAIT} s")


class Watch:
    """Note when ``node`` first sees a cluster smaller than ``size``.

    A connection of its own asks the node's ``wsrep_cluster_size`` every
    10 ms (without ``wsrep_sync_wait``, which would wait too) in a
    thread, from ``start()`` until ``stop()``; ``dropped`` is then the
    ``perf_counter()`` of the first answer below ``size``, or None.
    """

    def __init__(self, node, size):
        """Connect to ``node`` now, before anything happens."""
        self.size, self.dropped = size, None
        self.connection = server.connect(None, server.hosts([node]))
        self.connection.cmd_query("SET SESSION wsrep_sync_wait = 0")
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def start(self):
        """Start asking."""
        self.thread.start()

    def run(self):
        """Ask until the size drops or ``stop()``."""
        cursor = self.connection.cursor()
        while not self.done.is_set():
            cursor.execute("SHOW GLOBAL STATUS LIKE 'wsrep_cluster_size'")
            (_, size), = cursor.fetchall()
            if int(size) < self.size:
                self.dropped = time.perf_counter()
                return
            self.done.wait(0.01)

    def wait(self, seconds=DROPPED):
        """Wait until the size has dropped, for ``seconds`` at most."""
        if self.thread.ident is not None:  # started
            self.thread.join(seconds)

    def stop(self):
        """Stop asking; close the connection."""
        self.done.set()
        if self.thread.ident is not None:  # started
            self.thread.join(WAIT)
        server.db.close_quietly(self.connection)


PARTS = ("detect", "connect", "catch_up", "query", "rows")


def parts(records, signalled, arrived):
    """Split the gap from ``signalled`` to ``arrived`` into its parts.

    ``records`` are ``server.traced``'s. Each span between two records
    after the signal counts to what the stream did in it: ``detect``,
    until it first asks for a new connection (it found the loss);
    ``connect``, connecting (to a node that may not answer);
    ``catch_up``, on a connection, setting it up and waiting for the
    node to reach the stream's position (WSREP_SYNC_WAIT_UPTO_GTID),
    whether that ends in time or not; ``query``, the query from the key
    until its first answer; ``rows``, until its first rows reach the
    consumer.
    """
    after = [record for record in records if record[1] >= signalled]
    spent = dict.fromkeys(PARTS, 0.0)
    if not after:
        return spent
    spent["detect"] = after[0][1] - signalled
    kinds = {"connect": "connect", "refused": "connect",
             "connected": "catch_up", "caught_up": "query", "query": "query"}
    for (what, at, _), (_, then, _) in zip(after, after[1:]):
        spent[kinds[what]] += then - at
    spent["rows"] = arrived - after[-1][1]
    return spent


# ------------------------------------------------------------ the child --

def main():
    """Run one case in this process; print its result as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("database")
    parser.add_argument("arg", help="the case's argument, in JSON")
    args = parser.parse_args()
    os.environ.update(server.environment(args.database))  # for the tasks
    arg = dict(json.loads(args.arg), database=args.database)
    with contextlib.redirect_stdout(io.StringIO()):
        result = CASES[args.case].run(arg)
    usage = resource.RUSAGE_CHILDREN if result.pop("external", False) \
        else resource.RUSAGE_SELF
    result.setdefault("rss_mb", resource.getrusage(usage).ru_maxrss / 1024)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
