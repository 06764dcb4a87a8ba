"""The fixtures: real, throwaway MariaDB servers for the tests.

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

What the tests use besides fixtures (the servers' handles, ``wait_for``,
the gated table and its ``Gate``, the scripts' runners) is in
scripts/testlab.py, which the benchmark shares; this file puts the
project and scripts/ on ``sys.path`` for both.
"""
import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "scripts")]
from testlab import (PYTHON, Gate, Server, db, localdb,  # noqa: E402
                     make_csv, run_script, seed)


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
