"""Failures of servers and connections, bad arguments, and security.

Each test breaks something for real: a server that is down, paused or
killed, a connection killed from another session, a wrong password, a
certificate from the wrong authority or for another host, and checks
what the user gets. Faults happen at a known point: a stream waits at
a gated row (see ``testlab.gated_table``) when its connection or its
server is killed or paused. ``spare`` is the server paused and killed.
"""
import os
import re
import secrets
import shutil
import socket
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import mysql.connector
import pytest

from testlab import (DEADLINE, PYTHON, ROOT, Gate, gated_table, localdb,
                     run_script, seed, wait_for)

stream_users = __import__("0-stream_users").stream_users
batches = __import__("1-batch_processing")
paging = __import__("2-lazy_paginate")
ages = __import__("4-stream_ages")
keyset = __import__("keyset_paginate")

GATED, GATED_ROWS, GATE_AT = "ALX_prodev_gated", 20_000, 5_000
BIG_ROWS = 1_000_000  # about 70 MB of rows: far more than socket buffers


@pytest.fixture(scope="module")
def gated(server):
    """The session server's gated database: row 5,000 waits at the gate."""
    gated_table(server, GATED, GATED_ROWS, GATE_AT)
    yield GATED
    server.admin(f"DROP DATABASE `{GATED}`")


@pytest.fixture(scope="module")
def spare_gated(spare_server):
    """The spare server's gated database, and a large plain one."""
    gated_table(spare_server, GATED, GATED_ROWS, GATE_AT)
    spare_server.admin(
        "CREATE DATABASE IF NOT EXISTS ALX_prodev CHARACTER SET utf8mb4 "
        f"COLLATE utf8mb4_unicode_ci; USE ALX_prodev; {seed.TABLE}; "
        "INSERT INTO user_data SELECT UUID(), CONCAT('User ', seq), "
        "CONCAT('user', seq, '@example.com'), seq % 100000 / 100 "
        f"FROM seq_1_to_{BIG_ROWS:d}")
    return GATED


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


def assert_one_line(done, env, *secrets_, advice="check"):
    """The script failed with one line on stderr naming where and who,
    and giving ``advice``."""
    assert done.returncode != 0
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert f"{env['MYSQL_HOST']}:{env['MYSQL_PORT']}" in lines[0]
    assert f"user '{env['MYSQL_USER']}'" in lines[0]
    assert advice in lines[0] and "Traceback" not in done.stderr
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
        env["MYSQL_PORT"] = str(localdb.free_port(None))
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


@pytest.mark.parametrize("script", ["1-main.py", "4-stream_ages.py"])
def test_missing_database_says_run_seed(server, script):
    """A database not made yet: one line that says to run ./seed.py."""
    env = dict(os.environ, MYSQL_DATABASE="ALX_prodev_not_seeded")
    done = run_script(script, env=env)
    assert_one_line(done, env, server.env["MYSQL_PASSWORD"],
                    advice="run ./seed.py")
    assert "Unknown database 'ALX_prodev_not_seeded'" in done.stderr


def rows_in(item):
    """Return how many rows a stream's item holds: a batch its length."""
    return len(item) if isinstance(item, list) else 1


def consume(stream):
    """Count the rows ``stream`` yields until it ends or fails.

    Return the count and the error, or None if it ended.
    """
    count = 0
    try:
        for item in stream:
            count += rows_in(item)
    except mysql.connector.Error as err:
        return count, err
    return count, None


@pytest.mark.parametrize("listed", ["alone", "with a dead second"])
def test_server_killed_mid_stream_raises(spare, spare_gated, configure,
                                         listed):
    """SIGKILL of the server mid-stream: an error, not a shorter stream.

    The server is killed while the stream's query waits at the gate.
    Listed with a second server where nothing listens, the stream tries
    that one too, and the error names both and why.
    """
    nowhere = localdb.free_port(None)
    configure(MYSQL_DATABASE=spare_gated)
    if listed != "alone":
        configure(MYSQL_HOST=f"127.0.0.1:{spare.port},127.0.0.1:{nowhere}")
    gate = Gate(spare)
    try:
        stream = stream_users()
        next(stream)
        gate.waiting()
        spare.kill()
        count, error = consume(stream)
    finally:
        gate.close()
    assert error is not None, f"stream ended quietly after {count + 1} rows"
    assert count + 1 < GATE_AT
    if listed != "alone":
        assert f"127.0.0.1:{spare.port} (" in error.msg
        assert f"127.0.0.1:{nowhere} (" in error.msg


STREAMS = [
    ("stream_users", stream_users),
    ("stream_users_in_batches",
     lambda: batches.stream_users_in_batches(500)),
    ("stream_user_ages", ages.stream_user_ages),
]


@pytest.mark.parametrize("name, start", STREAMS,
                         ids=[stream[0] for stream in STREAMS])
def test_killed_connection_mid_stream_raises(server, gated, gate,
                                             configure, name, start):
    """KILL of a stream's connection from another session: an error.

    The connection is killed while its query waits at the gate: the
    rows before the gate may arrive, none after it, then the error.
    Rows are counted, not batches.
    """
    configure(MYSQL_DATABASE=gated)
    stream = start()
    first = rows_in(next(stream))
    server.admin(f"KILL {gate.waiting():d}")
    count, error = consume(stream)
    assert error is not None, f"{name} ended quietly after {first + count}"
    assert first + count < GATE_AT


def test_average_script_killed_mid_stream(server, gated, gate):
    """4-stream_ages.py whose stream is killed midway prints no average.

    Its query is killed while it waits at the gate: the script exits 1
    with one line on stderr, and nothing on stdout.
    """
    script = subprocess.Popen(
        [PYTHON, os.path.join(ROOT, "4-stream_ages.py")], cwd=ROOT,
        env=dict(os.environ, MYSQL_DATABASE=gated),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        server.admin(f"KILL {gate.waiting():d}")
        out, err = script.communicate(timeout=120)
    finally:
        if script.poll() is None:
            script.kill()
            script.communicate()
    assert script.returncode == 1
    assert out == "" and len(err.splitlines()) == 1, (out, err)
    assert err.startswith("error: ") and "Traceback" not in err


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


def test_paused_server_connect_times_out(spare, configure):
    """A paused server: MYSQL_CONNECT_TIMEOUT ends the wait to connect.

    In the module and in a script, with a clear one-line error.
    """
    configure(MYSQL_CONNECT_TIMEOUT="2")
    spare.pause()
    try:
        with pytest.raises(seed.SetupError) as raised:
            within(60, seed.connect)
        assert "MYSQL_HOST" in str(raised.value)
        done = within(120, lambda: run_script("4-stream_ages.py"))
        assert_one_line(done, dict(os.environ), spare.env["MYSQL_PASSWORD"])
    finally:
        spare.resume()


def test_paused_server_read_times_out(spare, spare_gated, configure):
    """A server paused mid-stream: MYSQL_READ_TIMEOUT ends the wait.

    The server is paused while the stream's query waits at the gate.
    """
    configure(MYSQL_DATABASE=spare_gated)
    configure(MYSQL_READ_TIMEOUT="2")
    gate = Gate(spare)
    try:
        stream = stream_users()
        next(stream)
        gate.waiting()
        spare.pause()
        try:
            count, error = within(120, lambda: consume(stream))
        finally:
            spare.resume()
    finally:
        gate.close()
    assert error is not None, f"stream ended quietly after {count + 1}"
    assert count + 1 < GATE_AT


NOTED = "alx_test_net_write_"  # + a session's net_write_timeout: a lock


@pytest.fixture(scope="module")
def noting(server):
    """A database whose user_data notes the net_write_timeout of its reader.

    ``user_data`` is a view of two users; reading the first takes the
    named lock ``NOTED`` + the reading session's net_write_timeout, held
    until that session ends: ``IS_USED_LOCK`` names its connection.
    """
    name = "ALX_prodev_noting"
    server.admin(f"""
        DROP DATABASE IF EXISTS `{name}`;
        CREATE DATABASE `{name}` CHARACTER SET utf8mb4
            COLLATE utf8mb4_unicode_ci;
        USE `{name}`;
        CREATE TABLE base (user_id CHAR(36) PRIMARY KEY,
            name VARCHAR(255) NOT NULL, email VARCHAR(255) NOT NULL,
            age DECIMAL(5,2) NOT NULL)
            DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
        INSERT INTO base VALUES
            ('00000001-0000-4000-8000-000000000000', 'User 1',
             'user1@example.com', 1),
            ('00000002-0000-4000-8000-000000000000', 'User 2',
             'user2@example.com', 2);
        CREATE FUNCTION noted(seq INT, age DECIMAL(5,2))
            RETURNS DECIMAL(5,2) NOT DETERMINISTIC NO SQL SQL SECURITY INVOKER
            RETURN IF(seq = 1, GET_LOCK(CONCAT('{NOTED}',
                @@SESSION.net_write_timeout), 0) * 0 + age, age);
        CREATE SQL SECURITY INVOKER VIEW user_data AS SELECT user_id, name,
            email, noted(LEFT(user_id, 8), age) AS age FROM base;
    """)
    yield name
    server.admin(f"DROP DATABASE `{name}`")


def test_stream_sets_its_session_net_write_timeout(server, noting, own_user,
                                                   configure):
    """Each stream's own session has MYSQL_NET_WRITE_TIMEOUT, whatever
    the server's (60 s).

    Two streams are open at once, with 1234 and 4321 s; the first row
    each reads notes its own session's value (``noting``), read from
    the server, not from the code. This is what keeps a slow reader's
    rows coming (the next test, with the server's real time-outs).
    """
    configure(MYSQL_DATABASE=noting)
    assert server.admin("SELECT @@GLOBAL.net_write_timeout").split() == [
        "60"]
    mine, streams, ids = f"USER = '{own_user}'", [], {}
    for seconds in (1234, 4321):
        configure(MYSQL_NET_WRITE_TIMEOUT=str(seconds))
        before = server.ids(mine)
        streams.append(stream_users())
        assert next(streams[-1])["name"] == "User 1"
        (ids[seconds],) = server.ids(mine) - before
    held = {seconds: server.admin(f"SELECT IS_USED_LOCK('{NOTED}{seconds}')")
            .strip() for seconds in (60, 1234, 4321)}
    for stream in streams:
        stream.close()
    wait_for(lambda: not server.ids(mine), "the streams' connections to end")
    assert held == {60: "NULL", 1234: str(ids[1234]), 4321: str(ids[4321])}


WRITING = ("COMMAND = 'Query' AND STATE = 'Writing to net' AND "
           "INFO LIKE 'SELECT % FROM user_data%'")


def test_slow_consumer_outlasts_net_write_timeout(spare, spare_gated,
                                                  configure):
    """A reader pausing past the server's net_write_timeout gets every row.

    The server's own value is 1 s. Two streams pause after their first
    row, ``kept`` (MYSQL_NET_WRITE_TIMEOUT=3600, the default) first,
    then ``cut`` (3 s). The server gives up on ``cut`` after it has
    waited 3 s to write; ``kept`` has been waiting longer, yet it goes
    on to the last row. ``cut`` gets an error, not a shorter stream.

    No race: each step waits on what the server does (a write blocked
    on full socket buffers, a connection ended by its time-out), and
    ``kept`` is blocked before ``cut`` is, so a ``kept`` left with the
    server's 1 s would be gone by the time ``cut`` is. The session's
    value itself is read from the server by the test above.
    """
    spare.admin("SET GLOBAL net_write_timeout = 1")
    try:
        configure(MYSQL_NET_WRITE_TIMEOUT="3600")
        kept = stream_users()
        next(kept)
        (writer,) = wait_for(lambda: spare.ids(WRITING), "a blocked write")
        configure(MYSQL_NET_WRITE_TIMEOUT="3")
        cut = stream_users()
        next(cut)
        (cut_id,) = wait_for(lambda: spare.ids(WRITING) - {writer},
                             "the second stream's blocked write")
        spare.wait_gone({cut_id})
        assert writer in spare.ids()
        results = consume(kept), consume(cut)
    finally:
        spare.admin("SET GLOBAL net_write_timeout = 60")
    assert results[0] == (BIG_ROWS - 1, None)
    assert results[1][1] is not None and results[1][0] < BIG_ROWS - 1


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


@pytest.mark.parametrize("name, call, value, error", CASES,
                         ids=[f"{case[0]}-{case[2]!r}" for case in CASES])
def test_bad_argument_raises_before_sql(server, own_user, name, call, value,
                                        error):
    """A wrong size or offset raises at the call or first next(),
    before any connection is made: the server counts none for the
    test's own user."""
    with pytest.raises(error):
        started(lambda: call(value))
    assert server.user_stats(own_user)["connections"] == 0


@pytest.mark.parametrize("verify", ["1", None])
def test_tls_with_the_right_ca_encrypts(spare, certs, configure,
                                        verify):
    """MYSQL_SSL_CA (verified or not) reaches the driver: TLS is used."""
    configure(MYSQL_SSL_CA=certs["ca.pem"])
    if verify:
        configure(MYSQL_SSL_VERIFY=verify)
    connection = seed.connect(database=False)  # TLS alone: no data needed
    try:
        cursor = connection.cursor()
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
        assert cursor.fetchone()[1].startswith("TLS")
    finally:
        seed.close_quietly(connection)


def test_tls_asked_of_a_server_without_it_fails(server, database, certs,
                                                configure):
    """MYSQL_SSL_CA, a server without TLS: one line, no plain-text session.

    The session's server has no TLS; the driver alone would go on
    unencrypted. The script exits 1 with one line naming the problem.
    """
    assert server.admin("SELECT @@have_ssl").strip() != "YES"
    configure(MYSQL_SSL_CA=certs["ca.pem"])
    with pytest.raises(seed.SetupError, match="the server offers none"):
        seed.connect(database=False)
    done = run_script("4-stream_ages.py")
    assert_one_line(done, dict(os.environ), server.env["MYSQL_PASSWORD"])
    assert "MYSQL_SSL_CA asks for TLS" in done.stderr


@pytest.mark.parametrize("ca", ["other.pem", "missing.pem"])
def test_tls_with_a_wrong_ca_fails_clearly(spare, certs, configure,
                                           ca):
    """A CA that did not sign the server's certificate, or no CA file:
    the connection fails with one line that says what to check."""
    path = certs.get(ca) or os.path.join(os.path.dirname(certs["ca.pem"]),
                                         ca)
    configure(MYSQL_SSL_CA=path)
    configure(MYSQL_SSL_VERIFY="1")
    with pytest.raises(seed.SetupError) as raised:
        seed.connect()
    assert "MYSQL_SSL_CA" in str(raised.value)
    done = run_script("1-main.py")
    assert_one_line(done, dict(os.environ), spare.env["MYSQL_PASSWORD"])
    assert "MYSQL_SSL_CA" in done.stderr


def test_tls_verify_refuses_another_host_name(spare, certs, configure):
    """MYSQL_SSL_VERIFY=1 refuses a certificate made for another host.

    The server presents a certificate the right CA signed, but for
    db.example.com, while MYSQL_HOST is 127.0.0.1. Without verification
    the same server is reached over TLS: only the name is wrong.
    """
    active = os.path.join(spare.folder, "active")
    configure(MYSQL_SSL_CA=certs["ca.pem"])
    try:
        for name in ("pem", "key"):
            shutil.copy(certs["elsewhere." + name], os.path.join(active, name))
        spare.admin("FLUSH SSL")
        connection = seed.connect(database=False)
        seed.close_quietly(connection)
        configure(MYSQL_SSL_VERIFY="1")
        with pytest.raises(seed.SetupError, match="MYSQL_SSL_CA"):
            seed.connect(database=False)
        done = run_script("4-stream_ages.py")
        assert_one_line(done, dict(os.environ), spare.env["MYSQL_PASSWORD"])
    finally:
        for name in ("pem", "key"):
            shutil.copy(certs["server." + name], os.path.join(active, name))
        spare.admin("FLUSH SSL")


def test_secrets_and_state_ignored_by_git():
    """.env and .localdb are ignored by git, and not tracked.

    ``.localdb`` may be a link (to data elsewhere), not only a folder.
    """
    for path in (".env", ".localdb", ".localdb/", ".localdb/files/ibdata1"):
        done = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
        assert done.returncode == 0, path
    tracked = subprocess.run(["git", "ls-files", ".env", ".localdb"],
                             cwd=ROOT, capture_output=True, text=True)
    assert tracked.stdout == ""


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


def ages_then_average():
    """Return every streamed age, in key order, then their average."""
    streamed = list(ages.stream_user_ages())
    return streamed + [ages.average_age(streamed)]


FAILOVER = [
    ("stream_users", lambda: list(stream_users())),
    ("stream_users_in_batches", lambda: [
        user for batch in batches.stream_users_in_batches(700)
        for user in batch]),
    ("lazy_paginate", lambda: [
        user for page in paging.lazy_paginate(3000) for user in page]),
    ("stream_user_ages", ages_then_average),
]


@pytest.mark.parametrize("name, read", FAILOVER,
                         ids=[case[0] for case in FAILOVER])
def test_stream_goes_on_from_the_next_server(spare, spare_gated, server,
                                             gated, configure, name, read):
    """A stream whose server is killed goes on from the next one listed.

    MYSQL_HOST names the spare, then the session's server: the same
    gated table on both. The spare is killed while the stream's query
    waits at its gate (row 5,000); the stream goes on from the session's
    server after the last user it yielded. It gives exactly what reading
    the session's server alone gives: every row once, in key order. The
    ages (see ``gated_table``: they name their rows) count and add up
    exactly as SQL's on the base table do, and so does their average.
    """
    configure(MYSQL_DATABASE=gated)
    expected = read()  # the session's server alone
    localdb.add_user(spare.folder, server.env["MYSQL_PASSWORD"])
    try:
        configure(MYSQL_HOST=f"127.0.0.1:{spare.port},127.0.0.1:"
                  f"{server.port}", MYSQL_PASSWORD=server.env[
                      "MYSQL_PASSWORD"])
        gate = Gate(spare)
        with ThreadPoolExecutor(1) as pool:
            reading = pool.submit(read)
            gate.waiting()
            spare.kill()
            got = reading.result(timeout=DEADLINE)
        gate.close()
    finally:
        spare.ensure_running()
        localdb.add_user(spare.folder, spare.env["MYSQL_PASSWORD"])
    assert got == expected
    if name == "stream_user_ages":
        *streamed, average = got
        count, total, mean = server.admin(
            "SELECT COUNT(*), SUM(age), ROUND(AVG(age), 2) "
            f"FROM `{gated}`.base").split()
        assert (len(streamed), sum(streamed), average) == (
            int(count), Decimal(total), Decimal(mean))
    else:
        assert len(got) == GATED_ROWS
