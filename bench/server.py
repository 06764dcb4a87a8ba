"""The benchmark's one door to the project's settings and connections.

Every use of the project's settings and connection API (and of the
``MYSQL_*`` environment variables) in bench/ is in the first three
functions here; the rest of bench/ goes through them:

- ``settings(database, host)``: the server's address and account, with
  ``database`` (for the command-line client, and for ``connect``);
- ``connect(database, host)``: a connection, to ``database`` or to none;
- ``environment(database, host, ...)``: the environment of a case's
  subprocess, in which the course's modules and ``loader`` find the
  database (and the servers, and the time-outs) to use.

The settings are ``db.settings()``, the project's default, read once;
each database gets a copy of it (``replace``). ``host``, if given, is a
``MYSQL_HOST`` value naming other servers (the nodes of the benchmark's
cluster, say), reached with the same account: the benchmark creates the
project-local server's user, with its password, on the cluster.

``stock_server`` starts a throwaway server with the server's own
defaults but for its buffer pool, as users have one, for the loading
cases to run on too.

``traced`` is the one place that looks inside a stream: it records when
a stream connects, waits for its node and queries, for the failover
case's breakdown of its gap.

The module also makes the project's modules importable: ``db``,
``seed``, ``driver``, ``loader``, and, from scripts/, ``localdb`` (the
project-local server's admin socket), ``cluster`` (the Galera cluster's
API) and ``testlab`` (the gated table and its gate, shared with the
tests).
"""
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "scripts")]
db = __import__("db")
seed = __import__("seed")
driver = __import__("driver")
loader = __import__("loader")
localdb = __import__("localdb")
cluster = __import__("cluster")
testlab = __import__("testlab")

NONE = "ALX_prodev"  # a valid name to read settings by, with no database
GNU_TIME = "/usr/bin/time"


def settings(database, host=None):
    """Return the project's settings, for ``database`` (None: none).

    ``host``: a ``MYSQL_HOST`` value, the servers to use instead of the
    project's. Read as attributes: ``servers``, ``user``, ``password``...
    """
    changes = {"host": host} if host else {}
    return db.settings().replace(database=database or NONE, **changes)


def connect(database, host=None):
    """Open a connection to ``database``, or to no database with None.

    It is to the first of ``host``'s servers that answers, if given.
    """
    return db.connect(settings(database, host), database is not None)


def environment(database, host=None, read_timeout=None,
                connect_timeout=None):
    """Return the environment of a subprocess that works on ``database``.

    The course's modules and ``loader`` open their own connections, on
    the database that ``MYSQL_DATABASE`` names, to the servers of
    ``host`` if given (else the project's), with these time-outs (in
    seconds) if given.
    """
    env = dict(os.environ, MYSQL_DATABASE=database)
    for name, value in (("MYSQL_HOST", host),
                        ("MYSQL_READ_TIMEOUT", read_timeout),
                        ("MYSQL_CONNECT_TIMEOUT", connect_timeout)):
        if value:
            env[name] = str(value)
    return env


def hosts(nodes):
    """Return the ``MYSQL_HOST`` value that names ``nodes``, in order."""
    return ",".join(f"127.0.0.1:{node.port}" for node in nodes)


def query(database, sql, args=(), host=None):
    """Run one statement on ``database`` (None: none); return its rows.

    On the first of ``host``'s servers that answers, if given.
    """
    connection = connect(database, host)
    try:
        cursor = connection.cursor()
        cursor.execute(sql, args)
        rows = cursor.fetchall() if cursor.with_rows else []
        cursor.close()
        return rows
    finally:
        connection.close()


def describe():
    """Return the server's version and the driver's connection class."""
    connection = connect(None)
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT VERSION()")
        version = cursor.fetchone()[0]
        cursor.close()
        return version, type(connection).__name__
    finally:
        connection.close()


def client_command(sql, database, extra=()):
    """Return the argv and environment to run ``sql`` with the C client.

    It runs on the first server the settings name. The password goes
    in ``MYSQL_PWD``, never on the command line.
    """
    conf = settings(database)
    host, port = conf.servers[0]  # the first server listed
    binary = shutil.which("mariadb") or shutil.which("mysql")
    argv = [binary, "--no-defaults", "--protocol=tcp", "-h", host,
            "-P", str(port), "-u", conf.user,
            "--default-character-set=utf8mb4", "--batch", "--quick",
            "--skip-column-names", *extra]
    if conf.ssl_ca:
        argv.append("--ssl-ca=" + conf.ssl_ca)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("MYSQL_")}
    env["MYSQL_PWD"] = conf.password
    return argv + ["-e", sql, database], env


def run_client(sql, database, extra=(), memory=None):
    """Run ``sql`` on ``database`` with the C client, output to /dev/null.

    With ``memory`` (a file name) and GNU time installed, the client runs
    under ``time -f %M``, which writes the client's own peak RSS there.
    """
    argv, env = client_command(sql, database, extra)
    if memory and os.path.exists(GNU_TIME):
        argv = [GNU_TIME, "-f", "%M", "-o", memory] + argv
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    if done.returncode:
        raise RuntimeError("mariadb client failed: " + done.stderr.strip())


def admin(sql):
    """Run ``sql`` as the project-local server's admin, over its socket."""
    return localdb.admin(localdb.DATA, sql)


STOCK = ["--innodb-buffer-pool-size=1G"]  # the 1M-row table fits: no more


@contextlib.contextmanager
def stock_server():
    """Start a throwaway server as users have one; yield its ``MYSQL_HOST``.

    Only ``localdb.BASE`` (loopback, utf8mb4, LOCAL INFILE) and a buffer
    pool that holds the 1M-row table (``STOCK``); the redo log, the
    doublewrite buffer and the flushing at commit are the server's own
    defaults. The project's user logs in with the same password as on
    the project-local server. The server is stopped and its folder
    removed at the end, whatever happens.
    """
    folder = tempfile.mkdtemp(prefix="alx-bench-stock-")
    try:
        port = localdb.start(folder, port=localdb.free_port(None),
                             options=STOCK, tuned=False)
        localdb.add_user(folder, settings(None).password)
        yield f"127.0.0.1:{port}"
    finally:
        localdb.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)


INNODB = ("innodb_buffer_pool_size", "innodb_log_file_size",
          "innodb_doublewrite", "innodb_flush_log_at_trx_commit")


def innodb(host=None):
    """Return the InnoDB settings a load depends on, as text."""
    sql = "SELECT " + ", ".join(f"@@{name}" for name in INNODB)
    values = query(None, sql, host=host)[0]
    return ", ".join(f"{name} = " + (f"{value // 2 ** 20} MB" if "size"
                                     in name else str(value))
                     for name, value in zip(INNODB, values))


@contextlib.contextmanager
def traced(thread):
    """Record what a stream read in ``thread`` does; yield the records.

    Each record is ``(what, perf_counter(), port)``: ``connect`` (the
    stream asks for a connection), ``connected`` (it has one, to
    ``port``) or ``refused`` (none of its servers answered),
    ``caught_up`` (a resumed read's node has what the stream's first
    node had when the stream began: ``db._catch_up``, whose
    WSREP_SYNC_WAIT_UPTO_GTID waits, returned) and ``query`` (the
    query's first answer is in: rows follow). Only ``thread``'s calls
    are recorded.
    """
    records = []
    originals = db.connect, db._catch_up, driver.batches

    def note(what, connection=None):
        """Record ``what`` happened now, if in ``thread``."""
        if threading.get_ident() == thread.ident:
            records.append((what, time.perf_counter(), connection
                            and connection.server_port))

    def connect(*args, **options):
        """Connect as db does, recording when and to which node."""
        note("connect")
        try:
            connection = originals[0](*args, **options)
        except db.SetupError:
            note("refused")
            raise
        note("connected", connection)
        return connection

    def catch_up(connection, *args):
        """Wait for the stream's position as db does, recording the end."""
        originals[1](connection, *args)
        note("caught_up", connection)

    def batches(connection, size):
        """Read rows as db does, recording that the query answered."""
        note("query", connection)
        return originals[2](connection, size)

    db.connect, db._catch_up, driver.batches = connect, catch_up, batches
    try:
        yield records
    finally:
        db.connect, db._catch_up, driver.batches = originals
