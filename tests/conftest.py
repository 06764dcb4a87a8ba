"""A real, throwaway MariaDB server for the test session.

The session starts one with its own data folder on a free loopback port,
creates the project's user on it (rights on ALX_prodev* only), points the
MYSQL_* variables at it, and stops it at the end. Nothing is mocked.
"""
import importlib
import os
import secrets
import shutil
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
PYTHON = sys.executable


def free_port():
    """Return a TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """The test server: its folder, port and settings, and admin access."""

    def __init__(self, folder, port, env):
        """Remember where the server is and how to reach it."""
        self.folder, self.port, self.env = folder, port, env

    def admin(self, sql):
        """Run ``sql`` as root on the server; return its tab-separated text."""
        return localdb.admin(self.folder, sql)

    def threads_connected(self):
        """Return the server's Threads_connected count."""
        return int(self.admin("SHOW STATUS LIKE 'Threads_connected'")
                   .split()[1])

    def settle(self, expected, seconds=2.0):
        """Poll Threads_connected until it is ``expected``; return the last.

        The count lags behind a close, so wait for up to ``seconds``.
        """
        deadline = time.monotonic() + seconds
        while True:
            now = self.threads_connected()
            if now <= expected or time.monotonic() > deadline:
                return now
            time.sleep(0.05)


@pytest.fixture(scope="session")
def server():
    """Start the session's server; stop it and remove its data at the end."""
    folder = tempfile.mkdtemp(prefix="alx-test-db-")
    try:
        port = localdb.start(folder, port=free_port())
        password = secrets.token_urlsafe(12)
        localdb.add_user(folder, password)
        env = {"MYSQL_HOST": "127.0.0.1", "MYSQL_PORT": str(port),
               "MYSQL_USER": localdb.USER, "MYSQL_PASSWORD": password,
               "MYSQL_DATABASE": "ALX_prodev", "MYSQL_CONNECT_TIMEOUT": "5",
               "MYSQL_READ_TIMEOUT": "60", "MYSQL_NET_WRITE_TIMEOUT": "3600"}
        os.environ.update(env)
        yield Server(folder, port, env)
    finally:
        localdb.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)


def run_script(name, *args, env=None, cwd=ROOT, shell_tail=""):
    """Run a project script with the venv's Python; return the result."""
    command = [PYTHON, os.path.join(ROOT, name), *args]
    if shell_tail:
        command = " ".join(map(repr, command)) + " " + shell_tail
    return subprocess.run(command, cwd=cwd, env=env or dict(os.environ),
                          capture_output=True, text=True, timeout=300,
                          shell=bool(shell_tail))


def make_csv(path, rows, seed_value=2025):
    """Write a generated users CSV of ``rows`` rows at ``path``."""
    subprocess.run([PYTHON, os.path.join(ROOT, "scripts",
                                         "make_users_csv.py"), str(path),
                    "--rows", str(rows), "--seed", str(seed_value)],
                   check=True)
    return str(path)


@pytest.fixture
def database(server, monkeypatch):
    """A new, empty database with the user_data table, dropped afterwards.

    MYSQL_DATABASE names it for the duration of the test.
    """
    name = "ALX_prodev_t" + secrets.token_hex(4)
    monkeypatch.setenv("MYSQL_DATABASE", name)
    connection = seed.connect(database=False)
    seed.create_database(connection)
    connection.close()
    connection = seed.connect()
    seed.create_table(connection)
    yield connection
    seed.close_quietly(connection)
    server.admin(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture(scope="session")
def course_db(server):
    """ALX_prodev seeded from the project's user_data.csv by 0-main.py."""
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
