#!/usr/bin/env python3
"""What the tests and the benchmark share: servers to probe, kill and pause,
and a table whose reading stops at a chosen row.

- ``Running``: a server that runs in a folder of its own (one of
  ``localdb.start``, or a node of ``cluster.start``), with what a test
  asks it (``Probes``, as root) and what it does to it: ``kill``,
  ``pause``, ``resume``. ``Server`` starts a throwaway one, with the
  project's user; ``Member`` is a cluster's node.
- ``gated_table`` and ``Gate``: a table whose row ``at`` waits on a
  named lock that ``Gate`` holds, so that a fault happens at a known
  point (a stream or a load blocks there until let go, or killed there).
- ``wait_for``: a condition awaited with a generous deadline, never a
  fixed sleep.
- ``run_script``, ``run_piped``, ``run_on_terminal``, ``make_csv``: the
  project's scripts, run as a user runs them; ``on_screen``, what a
  terminal shows of what they wrote.

Plain Python, no pytest: tests/conftest.py (the fixtures) and bench/
import it. Both put the project and scripts/ on ``sys.path`` first.
"""
import fcntl
import os
import pty
import re
import secrets
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time

import db
import localdb
import seed

ROOT = localdb.ROOT
PYTHON = sys.executable
DEADLINE = 120  # seconds: generous, for a shared and busy 2-core machine
GATE = "alx_test_gate"  # the named lock that gated rows wait on


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


class Running(Probes):
    """A server running in a folder of its own: ``localdb``'s layout.

    ``folder`` holds its data, socket and pid file; ``port`` is its SQL
    port. It may be killed, paused and resumed; ``pid`` is None while
    it is down.
    """

    def __init__(self, folder, port):
        """Name the server of ``folder``, listening on ``port``."""
        self.folder, self.port = folder, port

    def admin(self, sql):
        """Run ``sql`` as root on the server; return its tab-separated text."""
        return localdb.admin(self.folder, sql)

    @property
    def pid(self):
        """Return the process id of the server, or None if none runs."""
        return localdb.server_pid(self.folder)

    @property
    def address(self):
        """Return ``127.0.0.1:port``, as MYSQL_HOST names the server."""
        return f"127.0.0.1:{self.port}"

    def kill(self):
        """End the server at once with SIGKILL; wait until it is gone."""
        localdb.kill(self.folder)

    def pause(self):
        """Freeze the server (SIGSTOP): its clients find it silent."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self):
        """Let a paused server run again (SIGCONT)."""
        os.kill(self.pid, signal.SIGCONT)


class Server(Running):
    """A throwaway server: its folder, port and settings, and root access."""

    def __init__(self, folder, options=()):
        """Start a server on ``folder`` and create the project's user."""
        self.options = list(options)
        super().__init__(folder, localdb.start(
            folder, port=localdb.free_port(None), options=self.options))
        password = secrets.token_urlsafe(12)
        localdb.add_user(folder, password)
        self.env = {"MYSQL_HOST": "127.0.0.1", "MYSQL_PORT": str(self.port),
                    "MYSQL_USER": localdb.USER, "MYSQL_PASSWORD": password,
                    "MYSQL_DATABASE": "ALX_prodev",
                    "MYSQL_CONNECT_TIMEOUT": "5", "MYSQL_READ_TIMEOUT": "60",
                    "MYSQL_NET_WRITE_TIMEOUT": "3600", "MYSQL_SSL_CA": "",
                    "MYSQL_SSL_VERIFY": ""}
        self.settings = db.Settings.from_env(self.env)

    def ensure_running(self):
        """Resume a paused server; start a killed one again.

        It starts on its port, or on another if that one was taken while
        it was down: ``port``, ``env`` and ``settings`` name the one it got.
        """
        if self.pid:
            self.resume()
        if not localdb.running(self.folder):
            self.port = localdb.start(self.folder, port=self.port,
                                      options=self.options)
            self.env["MYSQL_PORT"] = str(self.port)
            self.settings = db.Settings.from_env(self.env)

    def stop(self):
        """Stop the server (resumed first, if paused) and remove its data."""
        localdb.stop(self.folder)
        shutil.rmtree(self.folder, ignore_errors=True)


class Member(Running):
    """A node of a cluster (``scripts/cluster.py``), as a running server."""

    def __init__(self, node):
        """Wrap ``node``, a ``cluster.Node``."""
        self.folder, self.node = node.folder, node

    @property
    def port(self):
        """Return the node's SQL port now (a rejoin may have moved it)."""
        return self.node.port


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


def run_on_terminal(command, cwd=ROOT, env=None, piped_stdout=False):
    """Run ``command`` on a pseudo-terminal of 100 columns, until it ends.

    Its stderr, and its stdout unless ``piped_stdout``, are the terminal,
    as a person at a terminal runs it. Return its exit code, what it
    wrote to the terminal (as written: with ``\\r``, and ``\\r\\n`` for
    each line end) and what it wrote to the pipe (``piped_stdout``).
    Both are read until they close, ``DEADLINE`` seconds at most.
    """
    terminal, child_side = pty.openpty()
    fcntl.ioctl(child_side, termios.TIOCSWINSZ,
                struct.pack("HHHH", 24, 100, 0, 0))
    try:
        process = subprocess.Popen(
            command, cwd=cwd, env=env or dict(os.environ),
            stdin=subprocess.DEVNULL, stderr=child_side,
            stdout=subprocess.PIPE if piped_stdout else child_side)
    except BaseException:
        os.close(terminal)
        raise
    finally:
        os.close(child_side)  # the child's alone: its end is the EOF
    pipe = process.stdout.fileno() if piped_stdout else None
    got = {source: bytearray() for source in (terminal, pipe)
           if source is not None}
    reading, deadline = set(got), time.monotonic() + DEADLINE
    try:
        while reading:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{command} still ran after "
                                     f"{DEADLINE} s")
            for source in select.select(list(reading), [], [], left)[0]:
                try:
                    data = os.read(source, 1 << 16)
                except OSError:  # EIO: the terminal's other side closed
                    data = b""
                got[source] += data
                if not data:
                    reading.discard(source)
        code = process.wait(timeout=DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(terminal)
        if piped_stdout:
            process.stdout.close()
    return (code, got[terminal].decode(),
            got[pipe].decode() if piped_stdout else "")


def on_screen(written):
    """Return the lines a terminal shows once ``written`` is written to it.

    Each line as its last carriage returns left it (what comes after a
    ``\\r`` is written over the start of the line), with no spaces at
    its end. Only ``\\r`` and ``\\n`` are understood: no escape sequence.
    """
    assert "\x1b" not in written, "an escape sequence: see on_screen"
    lines = []
    for line in written.replace("\r\n", "\n").split("\n"):
        shown = ""
        for part in line.split("\r"):
            shown = part + shown[len(part):]
        lines.append(shown.rstrip())
    return lines


def make_csv(path, rows, seed_value=2025):
    """Write a generated users CSV of ``rows`` rows at ``path``."""
    subprocess.run([PYTHON, os.path.join(ROOT, "scripts",
                                         "make_users_csv.py"), str(path),
                    "--rows", str(rows), "--seed", str(seed_value)],
                   check=True)
    return str(path)
