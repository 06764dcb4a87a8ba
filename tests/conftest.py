"""Real, throwaway MariaDB servers for the tests, and the tools to probe them.

The session starts one server with its own data folder on a free
loopback port, creates the project's user on it (rights on ALX_prodev*
only), points the MYSQL_* variables at it, and stops it at the end.
Tests that pause, kill or restart a server use ``spare``, a second one
with TLS. Nothing is mocked.

Settings: the session's server is named by MYSQL_* variables in
``os.environ`` (which scripts run as subprocesses inherit), every one of
them set, so that no ``.env`` fills a gap, and by the same values as
the in-process default (``db.use``). A test that points elsewhere asks
for ``configure`` and names the variables it changes.

A test never races the server: it waits on a condition with a generous
deadline (``wait_for``), and makes a fault happen at a known point with a
lock it holds (``gate``: a stream or a load blocks at a chosen row until
the test lets it go, or kills it there).
"""
import contextlib
import importlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "scripts")]
import localdb  # noqa: E402

seed = importlib.import_module("seed")
db = importlib.import_module("db")
PYTHON = sys.executable
DEADLINE = 120  # seconds: generous, for a shared and busy 2-core machine
GATE = "alx_test_gate"  # the named lock that gated rows wait on


def free_port():
    """Return a TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(probe, what, seconds=DEADLINE):
    """Call ``probe`` until it returns something true; return that.

    Fail the test, saying ``what`` was awaited, after ``seconds``.
    """
    deadline = time.monotonic() + seconds
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s in vain for {what}")
        time.sleep(0.02)


class Probes:
    """What a test asks a server, through its ``admin(sql)`` (as root)."""

    def admin(self, sql):
        """Run ``sql`` as root on the server; return its tab-separated text."""
        raise NotImplementedError

    def status(self, name):
        """Return the server's global status counter ``name``."""
        return int(self.admin(f"SHOW GLOBAL STATUS LIKE '{name}'").split()[1])

    def user_stats(self, user):
        """Return what the server counted for ``user`` alone, as a dict:
        ``connections`` accepted (even one opened and closed at once),
        ``bytes_sent`` and ``rows_sent`` to them.

        No other client logs in as a user of a test's own (``own_user``,
        which turns the server's ``userstat`` on), so nothing else counts.
        A statement's bytes and rows are added when it ends.
        """
        if not re.fullmatch(r"[a-z0-9_]{1,32}", user):
            raise ValueError(f"not a plain user name: {user!r}")
        found = self.admin(
            "SELECT TOTAL_CONNECTIONS, BYTES_SENT, ROWS_SENT FROM "
            f"information_schema.USER_STATISTICS WHERE USER = '{user}'")
        return dict(zip(("connections", "bytes_sent", "rows_sent"),
                        map(int, found.split() or (0, 0, 0))))

    def ids(self, where="USER = 'alx'"):
        """Return the ids of the connections that match ``where``.

        The connection that asks is never among them.
        """
        return set(map(int, self.admin(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE "
            f"ID <> CONNECTION_ID() AND ({where})").split()))

    def victim(self, where):
        """Wait until exactly one connection matches ``where``; return it."""
        found = wait_for(lambda: self.ids(where), f"a thread where {where}")
        assert len(found) == 1, found
        return found.pop()

    def wait_gone(self, ids):
        """Wait until none of the connections ``ids`` is on the server."""
        ids = set(ids)
        wait_for(lambda: not self.ids() & ids, f"connections {ids} to end")

    def wait_settled(self, before):
        """Wait until the project's connections are exactly ``before``.

        A closed connection leaves the process list soon after its
        close; one that leaks never does, and the wait fails.
        """
        wait_for(lambda: self.ids() <= set(before),
                 f"only the connections {set(before)}")
        return self.ids()


class Server(Probes):
    """A throwaway server: its folder, port and settings, and root access."""

    def __init__(self, folder, options=()):
        """Start a server on ``folder`` and create the project's user."""
        self.folder, self.options = folder, list(options)
        self.port = localdb.start(folder, port=free_port(),
                                  options=self.options)
        password = secrets.token_urlsafe(12)
        localdb.add_user(folder, password)
        self.env = {"MYSQL_HOST": "127.0.0.1", "MYSQL_PORT": str(self.port),
                    "MYSQL_USER": localdb.USER, "MYSQL_PASSWORD": password,
                    "MYSQL_DATABASE": "ALX_prodev",
                    "MYSQL_CONNECT_TIMEOUT": "5", "MYSQL_READ_TIMEOUT": "60",
                    "MYSQL_NET_WRITE_TIMEOUT": "3600", "MYSQL_SSL_CA": "",
                    "MYSQL_SSL_VERIFY": ""}
        self.settings = db.Settings.from_env(self.env)

    def admin(self, sql):
        """Run ``sql`` as root on the server; return its tab-separated text."""
        return localdb.admin(self.folder, sql)

    def pid(self):
        """Return the process id of the running server."""
        with open(os.path.join(self.folder, "pid")) as pid_file:
            return int(pid_file.read())

    def kill(self):
        """End the server at once with SIGKILL, and reap it."""
        pid = self.pid()
        os.kill(pid, signal.SIGKILL)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            wait_for(lambda: not localdb.alive(pid), f"server {pid} to end")

    def ensure_running(self):
        """Resume a paused server; start a killed one again."""
        try:
            os.kill(self.pid(), signal.SIGCONT)
        except (OSError, ValueError):
            pass
        if not localdb.running(self.folder):
            localdb.start(self.folder, port=self.port, options=self.options)

    def stop(self):
        """Stop the server (resumed first, if paused) and remove its data."""
        try:
            os.kill(self.pid(), signal.SIGCONT)
        except (OSError, ValueError):
            pass
        localdb.stop(self.folder)
        shutil.rmtree(self.folder, ignore_errors=True)


class Member(Probes):
    """A node of a cluster (``scripts/cluster.py``), with the probes."""

    def __init__(self, node):
        """Wrap ``node``, a ``cluster.Node``."""
        self.node, self.port = node, node.port

    def admin(self, sql):
        """Run ``sql`` as the node's admin; return the output."""
        return self.node.admin(sql)

    @property
    def address(self):
        """Return ``127.0.0.1:port``, as MYSQL_HOST names the node."""
        return f"127.0.0.1:{self.port}"


def gated_table(server, database, rows, at):
    """Make ``database`` hold ``rows`` users; reading row ``at`` waits.

    ``user_data`` there is a view of a base table, in primary-key order
    row by row, whose row number ``at`` takes the named lock ``GATE``
    before it is read. While the test holds that lock (``gate``), a
    stream stops at that row, on the server, with the rows before it
    sent: the test can then kill the connection or the server at a
    known point, or let it go on by releasing the lock.

    Row ``seq`` (from 1, in key order) is ``User <seq>``, and its age is
    ``seq / 100`` (``seq % 100000 / 100``: DECIMAL(5,2) ends at 999.99).
    Up to 99,999 rows, no two ages are equal and they grow with the key,
    so the ages alone, in order, name the rows: a batch lost, read twice
    or read again from the start changes their count, and one lost with
    another read twice changes their sum (the sums of batches differ).
    """
    rows, at = seed.check_int(rows, "rows"), seed.check_int(at, "at")
    server.admin(f"""
        DROP DATABASE IF EXISTS `{database}`;
        CREATE DATABASE `{database}` CHARACTER SET utf8mb4
            COLLATE utf8mb4_unicode_ci;
        USE `{database}`;
        CREATE TABLE base (user_id CHAR(36) PRIMARY KEY,
            name VARCHAR(255) NOT NULL, email VARCHAR(255) NOT NULL,
            age DECIMAL(5,2) NOT NULL, seq INT NOT NULL)
            DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
        INSERT INTO base SELECT
            CONCAT(LPAD(seq, 8, '0'), '-0000-4000-8000-000000000000'),
            CONCAT('User ', seq), CONCAT('user', seq, '@example.com'),
            seq % 100000 / 100, seq FROM seq_1_to_{rows:d};
        CREATE FUNCTION gate(seq INT, age DECIMAL(5,2))
            RETURNS DECIMAL(5,2) NOT DETERMINISTIC NO SQL SQL SECURITY INVOKER
            RETURN IF(seq = {at:d}, GET_LOCK('{GATE}', 3600) * 0 + age, age);
        CREATE SQL SECURITY INVOKER VIEW user_data AS
            SELECT user_id, name, email, gate(seq, age) AS age FROM base;
    """)


class Gate:
    """The named lock ``GATE``, held by the test on a connection of its own.

    Whatever reaches the gated row waits in the state 'User lock' until
    the lock is released (or the waiting connection is killed).
    """

    def __init__(self, server):
        """Take the lock on ``server`` (anything with ``port`` and the
        probes), as the current settings' user."""
        self.server = server
        self.connection = db.connect(db.settings(), database=False,
                                     servers=[("127.0.0.1", server.port)])
        self._run(f"SELECT GET_LOCK('{GATE}', 60)", 1)

    def waiting(self):
        """Wait until one connection waits at the gate; return its id."""
        return self.server.victim("STATE = 'User lock'")

    def release(self):
        """Let whatever waits at the gate go on."""
        self._run(f"SELECT RELEASE_LOCK('{GATE}')", 1)

    def close(self):
        """Close the lock's connection, which releases the lock too."""
        seed.close_quietly(self.connection)

    def _run(self, sql, expected):
        """Run ``sql``; check it returned ``expected``."""
        cursor = self.connection.cursor()
        cursor.execute(sql)
        assert cursor.fetchall() == [(expected,)], sql
        cursor.close()


@pytest.fixture
def gate(server):
    """The gate lock held by this test on the session's server."""
    held = Gate(server)
    yield held
    held.close()


@pytest.fixture(scope="session")
def server():
    """Start the session's server; stop it and remove its data at the end."""
    folder = tempfile.mkdtemp(prefix="alx-test-db-")
    try:
        started = Server(folder)
        os.environ.update(started.env)
        with db.use(started.settings):
            yield started
    finally:
        localdb.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)


def openssl(*args):
    """Run openssl with ``args``; fail the test if it fails."""
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    """Two CAs, and certificates signed by the first for 127.0.0.1 (the
    server's) and for another host name."""
    folder = tmp_path_factory.mktemp("tls")
    paths = {name: str(folder / name) for name in
             ("ca.pem", "ca.key", "other.pem", "other.key", "server.pem",
              "server.key", "elsewhere.pem", "elsewhere.key")}
    for name in ("ca", "other"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", f"/CN={name} test CA", "-keyout",
                paths[f"{name}.key"], "-out", paths[f"{name}.pem"])
    for name, subject, alt in [("server", "127.0.0.1", "IP:127.0.0.1"),
                               ("elsewhere", "db.example.com",
                                "DNS:db.example.com")]:
        csr, san = str(folder / f"{name}.csr"), str(folder / f"{name}.cnf")
        with open(san, "w") as text:
            text.write(f"subjectAltName={alt}\n")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj",
                f"/CN={subject}", "-keyout", paths[f"{name}.key"], "-out",
                csr)
        openssl("x509", "-req", "-days", "2", "-in", csr, "-CA",
                paths["ca.pem"], "-CAkey", paths["ca.key"],
                "-CAcreateserial", "-extfile", san, "-out",
                paths[f"{name}.pem"])
    return paths


@pytest.fixture(scope="session")
def spare_server(certs):
    """A second server with TLS, to pause, kill and restart.

    Its certificate files are copies (``active.pem``, ``active.key``),
    so that a test can put another certificate in their place; the CA's
    too, in its folder, where the server's user (mysql, for root) may
    read it.
    """
    folder = tempfile.mkdtemp(prefix="alx-spare-db-")
    active = os.path.join(folder, "active")
    os.makedirs(active)
    for name in ("pem", "key"):
        shutil.copy(certs["server." + name], os.path.join(active, name))
    shutil.copy(certs["ca.pem"], os.path.join(active, "ca"))
    options = ["--ssl-ca=" + os.path.join(active, "ca"),
               "--ssl-cert=" + os.path.join(active, "pem"),
               "--ssl-key=" + os.path.join(active, "key")]
    spare = None
    try:
        spare = Server(folder, options)
        yield spare
    finally:
        if spare:
            spare.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def configure(monkeypatch):
    """Return ``point(**variables)``: this test's settings, changed.

    ``point(MYSQL_DATABASE="x")`` sets the variables in ``os.environ``
    (for scripts run as subprocesses) and makes the settings they give
    the default in this process, until the test ends.
    """
    with contextlib.ExitStack() as stack:
        def point(**variables):
            """Set the MYSQL_* ``variables``; make their settings current."""
            for name, value in variables.items():
                monkeypatch.setenv(name, value)
            return stack.enter_context(db.use(db.Settings.from_env()))
        yield point


@pytest.fixture
def spare(spare_server, configure):
    """Point the settings at the running spare server."""
    spare_server.ensure_running()
    configure(**spare_server.env)
    yield spare_server
    spare_server.ensure_running()


def run_script(name, *args, env=None, cwd=ROOT):
    """Run a project script with the venv's Python; return the result."""
    return subprocess.run([PYTHON, os.path.join(ROOT, name), *args],
                          cwd=cwd, env=env or dict(os.environ),
                          capture_output=True, text=True, timeout=300)


def run_piped(command, lines, cwd=ROOT, env=None):
    """Run ``command`` into ``head -n lines``; return its code, out, err.

    The code and stderr are the command's own, not ``head``'s.
    """
    process = subprocess.Popen(command, cwd=cwd, env=env or dict(os.environ),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head = subprocess.Popen(["head", "-n", str(lines)], stdin=process.stdout,
                            stdout=subprocess.PIPE)
    process.stdout.close()  # head alone reads it: its exit breaks the pipe
    try:
        out = head.communicate(timeout=300)[0].decode()
        err = process.stderr.read().decode()
        code = process.wait(timeout=300)
    finally:
        for child in (process, head):
            if child.poll() is None:
                child.kill()
                child.wait()
        process.stderr.close()
    return code, out, err


def make_csv(path, rows, seed_value=2025):
    """Write a generated users CSV of ``rows`` rows at ``path``."""
    subprocess.run([PYTHON, os.path.join(ROOT, "scripts",
                                         "make_users_csv.py"), str(path),
                    "--rows", str(rows), "--seed", str(seed_value)],
                   check=True)
    return str(path)


@pytest.fixture
def database(server, configure):
    """A new, empty database with the user_data table, dropped afterwards.

    The settings name it for the duration of the test.
    """
    name = "ALX_prodev_t" + secrets.token_hex(4)
    configure(MYSQL_DATABASE=name)
    connection = seed.connect(database=False)
    seed.create_database(connection)
    connection.close()
    connection = seed.connect()
    seed.create_table(connection)
    yield connection
    seed.close_quietly(connection)
    server.admin(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture
def own_user(server, configure):
    """A user of this test's own, with the project user's rights; its name.

    The settings log in as it until the test ends, so what the server
    counts for it (``server.user_stats``) is this test's doing alone,
    whatever other clients do meanwhile.
    """
    name, password = "alx_t" + secrets.token_hex(4), secrets.token_urlsafe(16)
    server.admin("SET GLOBAL userstat = ON")
    localdb.add_user(server.folder, password, user=name)
    configure(MYSQL_USER=name, MYSQL_PASSWORD=password)
    yield name
    server.admin(f"DROP USER '{name}'@'127.0.0.1'")


@pytest.fixture(scope="session")
def course_db(server):
    """ALX_prodev seeded from the project's user_data.csv by 0-main.py.

    From nothing, whatever ran before: all 1,000 rows are loaded.
    """
    server.admin("DROP DATABASE IF EXISTS ALX_prodev")
    done = run_script("0-main.py")
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="session")
def big_db(server, tmp_path_factory):
    """A database of 1,000,000 generated users, for early close and load."""
    name = "ALX_prodev_big"
    path = make_csv(tmp_path_factory.mktemp("big") / "big.csv", 1_000_000)
    env = dict(os.environ, MYSQL_DATABASE=name)
    done = subprocess.run([PYTHON, os.path.join(ROOT, "seed.py"), path],
                          env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return name
