"""Failures of servers and connections, bad arguments, and security.

Each test breaks something for real: a server that is down, paused or
killed, a connection killed from another session, a wrong password, a
certificate from the wrong authority, and checks what the user gets.
A second throwaway server (``spare``) is the one paused and killed.
"""
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import mysql.connector
import pytest

from conftest import PYTHON, ROOT, free_port, localdb, run_script, seed

stream_users = __import__("0-stream_users").stream_users
batches = __import__("1-batch_processing")
paging = __import__("2-lazy_paginate")
ages = __import__("4-stream_ages")
keyset = __import__("keyset_paginate")

SPARE_ROWS = 1_000_000  # about 10 MB of ages: more than socket buffers
STREAM = ("SELECT ID FROM information_schema.PROCESSLIST "
          "WHERE USER = 'alx' AND INFO = '{}'")
SENDING = ("SELECT ID FROM information_schema.PROCESSLIST WHERE ID = {:d} "
           "AND STATE IN ('Writing to net', 'Sending to client')")


class Spare:
    """A second throwaway server with TLS, to pause, kill and restart."""

    def __init__(self, folder, options):
        """Start the server on ``folder``, with the project's user."""
        self.folder, self.options = folder, options
        self.port = localdb.start(folder, port=free_port(), options=options)
        password = secrets.token_urlsafe(12)
        localdb.add_user(folder, password)
        self.env = {"MYSQL_HOST": "127.0.0.1", "MYSQL_PORT": str(self.port),
                    "MYSQL_USER": localdb.USER, "MYSQL_PASSWORD": password,
                    "MYSQL_DATABASE": "ALX_prodev",
                    "MYSQL_CONNECT_TIMEOUT": "5",
                    "MYSQL_READ_TIMEOUT": "30",
                    "MYSQL_NET_WRITE_TIMEOUT": "3600"}

    def admin(self, sql):
        """Run ``sql`` as root; return the tab-separated output."""
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
            pass

    def ensure_running(self):
        """Resume a paused server; start a killed one again."""
        try:
            os.kill(self.pid(), signal.SIGCONT)
        except (OSError, ValueError):
            pass
        if not localdb.running(self.folder):
            localdb.start(self.folder, port=self.port, options=self.options)


def openssl(*args):
    """Run openssl with ``args``; fail the test if it fails."""
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A CA, a server certificate it signed for 127.0.0.1, another CA."""
    folder = tmp_path_factory.mktemp("tls")
    paths = {name: str(folder / name) for name in
             ("ca.pem", "ca.key", "other.pem", "other.key", "server.pem",
              "server.key", "server.csr", "san.cnf")}
    for name in ("ca", "other"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", f"/CN={name} test CA", "-keyout",
                paths[f"{name}.key"], "-out", paths[f"{name}.pem"])
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", paths["server.key"], "-out", paths["server.csr"])
    with open(paths["san.cnf"], "w") as san:
        san.write("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-days", "2", "-in", paths["server.csr"],
            "-CA", paths["ca.pem"], "-CAkey", paths["ca.key"],
            "-CAcreateserial", "-extfile", paths["san.cnf"],
            "-out", paths["server.pem"])
    return paths


@pytest.fixture(scope="module")
def spare(certs):
    """A second server with TLS and SPARE_ROWS users, for this module."""
    folder = tempfile.mkdtemp(prefix="alx-spare-db-")
    options = ["--ssl-ca=" + certs["ca.pem"],
               "--ssl-cert=" + certs["server.pem"],
               "--ssl-key=" + certs["server.key"]]
    try:
        spare = Spare(folder, options)
        spare.admin(
            "CREATE DATABASE ALX_prodev CHARACTER SET utf8mb4 COLLATE "
            f"utf8mb4_unicode_ci; USE ALX_prodev; {seed.TABLE}; "
            "INSERT INTO user_data SELECT UUID(), CONCAT('User ', seq), "
            "CONCAT('user', seq, '@example.com'), seq % 100 + 0.5 "
            f"FROM seq_1_to_{SPARE_ROWS:d}")
        yield spare
    finally:
        try:
            with open(os.path.join(folder, "pid")) as pid_file:
                os.kill(int(pid_file.read()), signal.SIGCONT)
        except (OSError, ValueError):
            pass
        localdb.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def on_spare(spare, monkeypatch):
    """Point the MYSQL_* settings at the running spare server."""
    spare.ensure_running()
    for name, value in spare.env.items():
        monkeypatch.setenv(name, value)
    for name in ("MYSQL_SSL_CA", "MYSQL_SSL_VERIFY"):
        monkeypatch.delenv(name, raising=False)
    yield spare
    spare.ensure_running()


@pytest.fixture(scope="module")
def not_mysql():
    """A port where something answers that is not a MySQL server."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve():
        """Answer every connection as a web server would, and hang up."""
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with client:
                client.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


def assert_one_line(done, env, *secrets_):
    """The script failed with one line on stderr naming where and who."""
    assert done.returncode != 0
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert f"{env['MYSQL_HOST']}:{env['MYSQL_PORT']}" in lines[0]
    assert f"user '{env['MYSQL_USER']}'" in lines[0]
    assert "check" in lines[0] and "Traceback" not in done.stderr
    for secret in secrets_:
        assert secret not in done.stdout + done.stderr


BREAKS = ["server down", "not a MySQL port", "wrong password",
          "unknown host"]
SCRIPTS = ["0-main.py", "1-main.py", "3-main.py", "4-stream_ages.py",
           "seed.py"]


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("kind", BREAKS)
def test_unreachable_server_one_line(server, not_mysql, kind, script):
    """Each script fails with one line naming host, port, user and what
    to check: no traceback, and no password, right or wrong."""
    env = dict(os.environ, **server.env)
    wrong = "wrong-" + secrets.token_urlsafe(9)
    if kind == "server down":
        env["MYSQL_PORT"] = str(free_port())
    elif kind == "not a MySQL port":
        env["MYSQL_PORT"] = str(not_mysql)
    elif kind == "wrong password":
        env["MYSQL_PASSWORD"] = wrong
    else:
        env["MYSQL_HOST"] = "no-such-host.invalid"
    done = run_script(script, env=env)
    assert_one_line(done, env, server.env["MYSQL_PASSWORD"], wrong)
    hint = {"wrong password": "MYSQL_PASSWORD",
            "unknown host": "MYSQL_HOST"}.get(kind, "MYSQL_PORT")
    assert hint in done.stderr


def consume(stream):
    """Count the items ``stream`` yields until it ends or fails.

    Return the count and the error, or None if it ended.
    """
    count = 0
    try:
        for _ in stream:
            count += 1
    except mysql.connector.Error as err:
        return count, err
    return count, None


def test_server_killed_mid_stream_raises(on_spare):
    """SIGKILL of the server mid-stream: an error, not a shorter stream."""
    stream = stream_users()
    next(stream)
    on_spare.kill()
    count, error = consume(stream)
    assert error is not None, f"stream ended quietly after {count + 1} rows"
    assert count + 1 < SPARE_ROWS
    stream.close()


STREAMS = [
    ("stream_users", stream_users,
     "SELECT user_id, name, email, age FROM user_data ORDER BY user_id"),
    ("stream_users_in_batches",
     lambda: batches.stream_users_in_batches(500),
     "SELECT user_id, name, email, age FROM user_data ORDER BY user_id"),
    ("stream_user_ages", ages.stream_user_ages, "SELECT age FROM user_data"),
]


@pytest.mark.parametrize("name, start, sql", STREAMS,
                         ids=[stream[0] for stream in STREAMS])
def test_killed_connection_mid_stream_raises(on_spare, name, start, sql):
    """KILL of a stream's connection from another session: an error."""
    stream = start()
    next(stream)
    (victim,) = on_spare.admin(STREAM.format(sql)).split()
    on_spare.admin(f"KILL {int(victim):d}")
    count, error = consume(stream)
    assert error is not None, f"{name} ended quietly after {count + 1}"


def test_average_script_killed_mid_stream(on_spare):
    """4-stream_ages.py whose stream is killed midway prints no average.

    The table is locked until the script's query waits for it; then the
    script is paused, the lock released, and once the server sends rows
    (more than socket buffers hold: it must block) the connection is
    killed and the script resumed.
    """
    sql = "SELECT age FROM user_data"
    lock = seed.connect()
    try:
        lock.cmd_query("LOCK TABLES user_data WRITE")
        script = subprocess.Popen(
            [PYTHON, os.path.join(ROOT, "4-stream_ages.py")], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            victim = wait_for(lambda: on_spare.admin(STREAM.format(sql)))
            script.send_signal(signal.SIGSTOP)
            lock.cmd_query("UNLOCK TABLES")
            wait_for(lambda: on_spare.admin(SENDING.format(int(victim))))
            on_spare.admin(f"KILL {int(victim):d}")
        finally:
            script.send_signal(signal.SIGCONT)
            out, err = script.communicate(timeout=120)
    finally:
        seed.close_quietly(lock)
    assert script.returncode == 1
    assert out == "" and len(err.splitlines()) == 1, (out, err)
    assert err.startswith("error: ") and "Traceback" not in err


def wait_for(probe, seconds=30):
    """Call ``probe`` until it returns something true; return that."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError("waited in vain")


def within(seconds, work):
    """Return what ``work()`` returns or raise what it raises; fail the
    test if it is still waiting after ``seconds`` (instead of hanging)."""
    outcome = []

    def run():
        """Do the work, keeping its result or its error."""
        try:
            outcome.append((work(), None))
        except BaseException as err:
            outcome.append((None, err))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert outcome, f"still waiting after {seconds} s"
    result, error = outcome[0]
    if error is not None:
        raise error
    return result


def test_paused_server_connect_times_out(on_spare, monkeypatch):
    """A paused server: MYSQL_CONNECT_TIMEOUT ends the wait to connect.

    In the module and in a script, with a clear one-line error.
    """
    monkeypatch.setenv("MYSQL_CONNECT_TIMEOUT", "2")
    os.kill(on_spare.pid(), signal.SIGSTOP)
    try:
        with pytest.raises(seed.SetupError) as raised:
            within(8, seed.connect)
        assert "MYSQL_HOST" in str(raised.value)
        done = within(15, lambda: run_script("4-stream_ages.py"))
        assert_one_line(done, dict(os.environ),
                        on_spare.env["MYSQL_PASSWORD"])
    finally:
        os.kill(on_spare.pid(), signal.SIGCONT)


def test_paused_server_read_times_out(on_spare, monkeypatch):
    """A server paused mid-stream: MYSQL_READ_TIMEOUT ends the wait."""
    monkeypatch.setenv("MYSQL_READ_TIMEOUT", "2")
    stream = stream_users()
    next(stream)
    os.kill(on_spare.pid(), signal.SIGSTOP)
    try:
        count, error = within(15, lambda: consume(stream))
        assert error is not None, f"stream ended quietly after {count + 1}"
    finally:
        os.kill(on_spare.pid(), signal.SIGCONT)


def test_slow_consumer_outlasts_net_write_timeout(on_spare, monkeypatch):
    """A reader pausing past the server's net_write_timeout gets every row.

    The stream sets its own session value (MYSQL_NET_WRITE_TIMEOUT). With
    that set to 1 the same pause does cut the stream, with an error: the
    pause is long enough to matter.
    """
    on_spare.admin("SET GLOBAL net_write_timeout = 2")
    try:
        results = []
        for session in ("3600", "1"):
            monkeypatch.setenv("MYSQL_NET_WRITE_TIMEOUT", session)
            stream = stream_users()
            next(stream)
            time.sleep(5)
            results.append(consume(stream))
    finally:
        on_spare.admin("SET GLOBAL net_write_timeout = 60")
    assert results[0] == (SPARE_ROWS - 1, None)
    assert results[1][1] is not None and results[1][0] < SPARE_ROWS - 1


def started(call):
    """Call ``call``; if it made a generator, run it to its first item."""
    result = call()
    if hasattr(result, "__next__"):
        next(result)
    return result


SIZED = {
    "stream_users_in_batches": batches.stream_users_in_batches,
    "batch_processing": batches.batch_processing,
    "paginate_users": lambda size: paging.paginate_users(size, 0),
    "lazy_paginate": paging.lazy_paginate,
    "lazy_pagination": paging.lazy_pagination,
    "keyset_paginate": keyset.keyset_paginate,
    "stream_rows": lambda size: seed.stream_rows("SELECT 1", size),
}
WRONG = [(True, TypeError), (False, TypeError), (1.0, TypeError),
         (2.5, TypeError), ("10", TypeError), (None, TypeError),
         (0, ValueError), (-1, ValueError)]
OFFSETS = [(True, TypeError), (0.0, TypeError), ("0", TypeError),
           (None, TypeError), (-1, ValueError)]
CASES = [(name, SIZED[name], value, error) for name in SIZED
         for value, error in WRONG] + [
    ("offset", lambda offset: paging.paginate_users(10, offset), value,
     error) for value, error in OFFSETS]


def connections(server):
    """Return how many connections the server has ever accepted."""
    return int(server.admin("SHOW GLOBAL STATUS LIKE 'Connections'")
               .split()[1])


@pytest.mark.parametrize("name, call, value, error", CASES,
                         ids=[f"{case[0]}-{case[2]!r}" for case in CASES])
def test_bad_argument_raises_before_sql(server, name, call, value, error):
    """A wrong size or offset raises at the call or first next(),
    before any connection is made."""
    before = connections(server)
    with pytest.raises(error):
        started(lambda: call(value))
    assert connections(server) - before == 1  # the second admin query


@pytest.mark.parametrize("verify", ["1", None])
def test_tls_with_the_right_ca_encrypts(on_spare, certs, monkeypatch,
                                        verify):
    """MYSQL_SSL_CA (verified or not) reaches the driver: TLS is used."""
    monkeypatch.setenv("MYSQL_SSL_CA", certs["ca.pem"])
    if verify:
        monkeypatch.setenv("MYSQL_SSL_VERIFY", verify)
    connection = seed.connect()
    try:
        cursor = connection.cursor()
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
        assert cursor.fetchone()[1].startswith("TLS")
    finally:
        seed.close_quietly(connection)


def test_tls_asked_of_a_server_without_it_fails(server, database, certs,
                                                monkeypatch):
    """MYSQL_SSL_CA, a server without TLS: one line, no plain-text session.

    The session's server has no TLS; the driver alone would go on
    unencrypted. The script exits 1 with one line naming the problem.
    """
    assert server.admin("SELECT @@have_ssl").strip() != "YES"
    monkeypatch.setenv("MYSQL_SSL_CA", certs["ca.pem"])
    with pytest.raises(seed.SetupError, match="the server offers none"):
        seed.connect(database=False)
    done = run_script("4-stream_ages.py")
    assert_one_line(done, dict(os.environ), server.env["MYSQL_PASSWORD"])
    assert "MYSQL_SSL_CA asks for TLS" in done.stderr


@pytest.mark.parametrize("ca", ["other.pem", "missing.pem"])
def test_tls_with_a_wrong_ca_fails_clearly(on_spare, certs, monkeypatch,
                                           ca):
    """A CA that did not sign the server's certificate, or no CA file:
    the connection fails with one line that says what to check."""
    path = certs.get(ca) or os.path.join(os.path.dirname(certs["ca.pem"]),
                                         ca)
    monkeypatch.setenv("MYSQL_SSL_CA", path)
    monkeypatch.setenv("MYSQL_SSL_VERIFY", "1")
    with pytest.raises(seed.SetupError) as raised:
        seed.connect()
    assert "MYSQL_SSL_CA" in str(raised.value)
    done = run_script("1-main.py")
    assert_one_line(done, dict(os.environ), on_spare.env["MYSQL_PASSWORD"])
    assert "MYSQL_SSL_CA" in done.stderr


def test_secrets_and_state_ignored_by_git():
    """.env and .localdb/ are ignored by git, and not tracked."""
    for path in (".env", ".localdb/", ".localdb/files/ibdata1"):
        done = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
        assert done.returncode == 0, path
    tracked = subprocess.run(["git", "ls-files", ".env", ".localdb"],
                             cwd=ROOT, capture_output=True, text=True)
    assert tracked.stdout == ""


def test_clean_keeps_a_users_env(tmp_path):
    """localdb.py clean removes the local server's data and .env only.

    A copy of the script in a scratch project, so that the real one's
    server and .env are not touched.
    """
    (tmp_path / "scripts").mkdir()
    shutil.copy(os.path.join(ROOT, "scripts", "localdb.py"),
                tmp_path / "scripts")
    env, data = tmp_path / ".env", tmp_path / ".localdb"

    def clean():
        """Run the copy's clean; return whether .env and .localdb remain."""
        subprocess.run([PYTHON, "scripts/localdb.py", "clean"],
                       cwd=tmp_path, check=True, capture_output=True)
        return env.exists(), data.exists()

    for text, kept in [("MYSQL_HOST=db.example.com\n", True),
                       (localdb.MARKER + "\nMYSQL_PORT=3307\n", False)]:
        data.mkdir()
        (data / "ibdata1").write_text("data")
        env.write_text(text)
        assert clean() == (kept, False)


def test_server_listens_on_loopback_only(server):
    """The project's server binds 127.0.0.1, not every address."""
    assert server.admin("SELECT @@bind_address").strip() == "127.0.0.1"
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", server.port)) == 0
    with socket.socket() as probe:
        probe.settimeout(5)
        assert probe.connect_ex(("127.0.0.2", server.port)) != 0


def test_project_user_has_rights_on_its_databases_alone(server):
    """SHOW GRANTS lists the project's databases only; others are denied.

    ``other`` and ``ALX_prodevX`` (no underscore) cannot be created, the
    grant tables cannot be read and server files cannot be loaded.
    """
    connection = seed.connect(database=False)
    try:
        cursor = connection.cursor()
        cursor.execute("SHOW GRANTS")
        grants = [row[0] for row in cursor.fetchall()]
        scopes = sorted(re.search(r" ON (\S+) TO ", grant).group(1)
                        for grant in grants)
        assert scopes == ["*.*", "`ALX\\_prodev\\_%`.*", "`ALX\\_prodev`.*"]
        assert any(grant.startswith("GRANT USAGE ON *.*") for grant in grants)
        for name in ("other", "ALX_prodevX"):
            with pytest.raises(mysql.connector.Error) as raised:
                cursor.execute(f"CREATE DATABASE `{name}`")
            assert raised.value.errno == 1044  # access denied
        with pytest.raises(mysql.connector.Error):
            cursor.execute("SELECT * FROM mysql.user")
        cursor.execute("SELECT LOAD_FILE('/etc/passwd')")
        assert cursor.fetchone() == (None,)
    finally:
        seed.close_quietly(connection)


def test_seeding_output_has_no_password(server, course_db):
    """The course's seeding run prints no password anywhere."""
    assert server.env["MYSQL_PASSWORD"] not in (course_db.stdout
                                                + course_db.stderr)
