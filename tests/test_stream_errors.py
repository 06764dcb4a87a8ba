"""Streams and connections on error paths.

A stream resumed on another server after its own was lost, from a table
whose key has a collation other than the connection's and values with
quotes and backslashes; a connection whose TLS check is refused; an
early close whose cancel cannot be sent. Each fault happens at a known
point: a stream waits at a gated row (``testlab.gated_table``) when
its connection is killed or the stream closed, or a user's resource
limit refuses the very query or connection the test is about. Nothing
is mocked; the pure-Python driver is the connector's own.
"""
import secrets
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import mysql.connector
import pytest

import driver
from testlab import DEADLINE, db, gated_table, localdb, wait_for

SELECT = "SELECT user_id, name, email, age FROM user_data"
COLLATED, GATED = "ALX_prodev_collated", "ALX_prodev_gated_errors"
# The rows before the gate (~110 kB) fill the server's 16 kB network
# buffer several times: the first batches reach the client while the
# query waits at the gate (fewer would stay in the server's buffer).
ROWS, GATE_AT, SIZE = 2000, 1001, 100
# Not the connection's utf8mb4_unicode_ci: MariaDB's utf8mb4 default
# (MySQL 8's, utf8mb4_0900_ai_ci, clashes the same way).
KEY_COLLATION = "utf8mb4_general_ci"
NASTY = b"a\\b'c\"d\\\\ ''\n\r\x1a\x00 \xc3\xab %s --"
MODES = ["default", "NO_BACKSLASH_ESCAPES"]
DRIVERS = ["c_extension", "pure_python"]


def collated_table(server):
    """Make COLLATED a gated table whose keys are in KEY_COLLATION and
    hold a quote, a double quote and a backslash each.

    The keys keep the order of the rows (each starts with its number).
    """
    gated_table(server, COLLATED, ROWS, GATE_AT)
    server.admin(f"""
        USE `{COLLATED}`;
        ALTER TABLE base MODIFY user_id CHAR(36) CHARACTER SET utf8mb4
            COLLATE {KEY_COLLATION} NOT NULL;
        UPDATE base SET user_id = CONCAT(LPAD(seq, 8, '0'), '-O''Br',
            CHAR(92 USING utf8mb4), 'en "x"');
    """)


@pytest.fixture(scope="module")
def collated(server, spare_server):
    """COLLATED on the session's server and on the spare, the same rows."""
    for each in (server, spare_server):
        collated_table(each)
    yield COLLATED
    for each in (server, spare_server):
        each.admin(f"DROP DATABASE `{COLLATED}`")


@pytest.fixture(scope="module")
def gated(server):
    """A gated table on the session's server: row GATE_AT waits."""
    name = "ALX_prodev_gated_errors"
    gated_table(server, name, ROWS, GATE_AT)
    yield name
    server.admin(f"DROP DATABASE `{name}`")


@pytest.fixture(params=DRIVERS)
def driver_kind(request, monkeypatch):
    """Each driver: the C extension, or the connector's pure Python."""
    if request.param == "pure_python":
        connect = db.connect

        def pure(conf, database=True, **options):
            """Open a pure-Python connection with settings ``conf``."""
            return connect(conf, database, use_pure=True, **options)
        monkeypatch.setattr(db, "connect", pure)
    return request.param


@pytest.fixture(params=MODES)
def sql_mode(request, server, spare_server):
    """Each server in the default mode, then in NO_BACKSLASH_ESCAPES
    mode (a backslash is an ordinary character)."""
    servers = (server, spare_server)
    before = [each.admin("SELECT @@GLOBAL.sql_mode").strip()
              for each in servers]
    if request.param != "default":
        for each in servers:
            each.admin("SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, "
                       "',NO_BACKSLASH_ESCAPES')")
    yield request.param
    for each, mode in zip(servers, before):
        each.admin(f"SET GLOBAL sql_mode = '{mode}'")


def raw_rows(connection, sql):
    """Return the rows of ``sql`` as tuples of ``bytes``."""
    cursor = connection.cursor(raw=True)
    try:
        cursor.execute(sql)
        return [tuple(map(bytes, row)) for row in cursor.fetchall()]
    finally:
        cursor.close()


def test_literal_reads_back_as_the_value(server, driver_kind, sql_mode):
    """``driver.literal`` quotes any bytes so that the server reads them
    back exactly: quotes, backslashes, control bytes, NUL, Unicode, in
    each SQL mode (the session's, as the connection reads it), with
    each driver."""
    connection = db.connect(server.settings, database=False)
    try:
        assert driver.fast(connection) == (driver_kind == "c_extension")
        assert ("NO_BACKSLASH_ESCAPES" in connection.sql_mode) == (
            sql_mode != "default")
        quoted = driver.literal(NASTY, connection.sql_mode)
        assert raw_rows(connection, b"SELECT " + quoted) == [(NASTY,)]
    finally:
        db.close_quietly(connection)


def test_resume_compares_in_the_key_collation(server, spare_server,
                                              collated, gate, driver_kind,
                                              sql_mode):
    """A stream resumed on a table keyed in another collation than the
    connection's gives every row once, in order.

    MYSQL_HOST lists the session's server, then the spare: both hold
    the same table, keyed in utf8mb4_general_ci, every key with a quote,
    a double quote and a backslash. The stream's connection is killed
    while its query waits at the gate; the stream goes on from the
    spare, after the last key it yielded. A bound user variable would
    compare in utf8mb4_unicode_ci there: error 1267, illegal mix of
    collations. Both drivers, both SQL modes (escaping differs).
    """
    conf = server.settings.replace(
        host=f"127.0.0.1:{server.port},127.0.0.1:{spare_server.port}",
        database=collated)
    localdb.add_user(spare_server.folder, server.env["MYSQL_PASSWORD"])
    try:
        spare_server.admin("SET GLOBAL userstat = ON")
        accepted = spare_server.user_stats(localdb.USER)["connections"]
        stream = db.stream_rows(conf, SELECT, SIZE, key="user_id")
        try:
            got = list(next(stream))
            victim = gate.waiting()
            # the first batch came from the session's server: the spare
            # accepted no connection of the project's user yet
            assert spare_server.user_stats(localdb.USER)[
                "connections"] == accepted
            server.admin(f"KILL {victim:d}")
            for batch in stream:
                got.extend(batch)
        finally:
            stream.close()
    finally:
        localdb.add_user(spare_server.folder,
                         spare_server.env["MYSQL_PASSWORD"])
    connection = db.connect(spare_server.settings.replace(database=collated))
    try:
        expected = raw_rows(connection, "SELECT user_id, name, email, age "
                            "FROM base ORDER BY seq")
    finally:
        db.close_quietly(connection)
    assert len(expected) == ROWS and b"'" in expected[-1][0]
    assert [tuple(map(bytes, row)) for row in got] == expected
    assert victim not in server.ids()


@contextmanager
def limited_user(server, limit):
    """Create a user on ``server`` with the resource limit ``limit`` (say
    ``MAX_QUERIES_PER_HOUR 2``) and the project's rights; yield settings
    for it; drop it at the end. A new name each time: a limit's count
    lasts the hour, across connections."""
    name = "alx_lim_" + secrets.token_hex(4)
    password = secrets.token_urlsafe(16)
    account = f"'{name}'@'127.0.0.1'"
    server.admin(f"""
        CREATE USER {account} IDENTIFIED BY '{password}' WITH {limit};
        GRANT ALL PRIVILEGES ON `ALX\\_prodev\\_%`.* TO {account};
    """)
    try:
        yield server.settings.replace(user=name, password=password)
    finally:
        server.admin(f"DROP USER {account}")


def test_refused_tls_check_closes_its_connection(server, certs,
                                                 driver_kind):
    """A TLS check whose query is refused raises, and leaves no
    connection behind.

    MYSQL_SSL_CA without MYSQL_SSL_VERIFY makes ``connect`` ask the
    server for the session's cipher. The user may run two queries an
    hour: the driver's own two at connect (SET NAMES, autocommit) pass,
    and the check is refused (error 1226). The error is raised while it
    still holds the connection (in its traceback): the connection must
    be closed all the same.
    """
    with limited_user(server, "MAX_QUERIES_PER_HOUR 2") as conf:
        mine = f"USER = '{conf.user}'"
        with pytest.raises(mysql.connector.Error) as raised:
            db.connect(conf.replace(ssl_ca=certs["ca.pem"]), database=False)
        assert raised.value.errno == 1226
        assert "max_queries_per_hour" in raised.value.msg
        wait_for(lambda: not server.ids(mine),
                 f"no connection of {conf.user} on the server")


@pytest.mark.parametrize("connections", [1, 2],
                         ids=["cancel refused", "cancel sent"])
def test_close_says_once_when_it_cannot_cancel(server, gated, gate, capsys,
                                               connections):
    """An early close whose KILL QUERY cannot be sent says so, once, on
    stderr, and still closes; one that can is silent.

    The stream's query waits at the gate when the stream is closed. A
    user allowed one connection cannot open the second one that sends
    KILL QUERY: one line on stderr says so, then the close reads the
    rest of the result, once the gate lets the query go on. A user
    allowed two cancels the query waiting at the gate: the close ends
    by itself, nothing on stderr, one KILL more on the server.
    """
    with limited_user(server, f"MAX_USER_CONNECTIONS {connections:d}") as (
            conf):
        mine = f"USER = '{conf.user}'"
        kills = server.status("Com_kill")
        stream = db.stream_rows(conf.replace(database=gated), SELECT, SIZE)
        assert len(next(stream)) == SIZE
        assert gate.waiting() in server.ids(mine)
        said = []
        with ThreadPoolExecutor(1) as pool:
            closing = pool.submit(stream.close)
            if connections == 1:
                try:
                    wait_for(lambda: said.append(capsys.readouterr().err)
                             or "".join(said), "a line on stderr")
                finally:
                    gate.release()
            assert closing.result(timeout=DEADLINE) is None
        assert next(stream, None) is None
        wait_for(lambda: not server.ids(mine),
                 f"no connection of {conf.user} on the server")
        lines = "".join(said + [capsys.readouterr().err]).splitlines()
        if connections == 1:
            assert len(lines) == 1, lines
            assert lines[0].startswith("warning: ")
            for part in (f"127.0.0.1:{server.port}", "max_user_connections",
                         "reads the rest", "check"):
                assert part in lines[0], (part, lines[0])
            assert server.status("Com_kill") == kills
        else:
            assert lines == []
            assert server.status("Com_kill") - kills == 1


def test_resume_without_galera_waits_as_before(server, gated, gate,
                                               own_user):
    """On a server without Galera a resumed stream has no position to
    wait for, and waits as it always did.

    MYSQL_HOST lists the session's server twice. The stream asks its
    server where it is, once, before its query: without Galera the
    answer is 0-0-0, no position. Its connection is killed while the
    query waits at the gate, and the gate let go; the resumed read sets
    ``wsrep_sync_wait = 1`` (a server without Galera ignores it) instead
    of waiting with WSREP_SYNC_WAIT_UPTO_GTID, and the stream gives
    every row once, in order. The server's general log shows what the
    test's own user ran.
    """
    conf = db.settings().replace(
        host=f"127.0.0.1:{server.port},127.0.0.1:{server.port}",
        database=gated)
    logging, output = server.admin(
        "SELECT @@GLOBAL.general_log, @@GLOBAL.log_output").split()
    server.admin("SET GLOBAL log_output = 'TABLE'; "
                 "SET GLOBAL general_log = ON")
    try:
        stream = db.stream_rows(conf, SELECT, SIZE, key="user_id")
        try:
            got = list(next(stream))
            victim = gate.waiting()
            server.admin(f"KILL {victim:d}")
            gate.release()  # the resumed read passes the gated row
            for batch in stream:
                got.extend(batch)
        finally:
            stream.close()
        said = server.admin(
            "SELECT thread_id, argument FROM mysql.general_log WHERE "
            f"command_type = 'Query' AND user_host LIKE '{own_user}[%' "
            "AND argument LIKE '%wsrep%' ORDER BY event_time")
    finally:
        server.admin(f"SET GLOBAL general_log = {int(logging):d}; "
                     f"SET GLOBAL log_output = '{output}'; "
                     "TRUNCATE mysql.general_log")
    ran = [line.split("\t") for line in said.splitlines()]
    assert [text for _, text in ran] == [
        "SELECT WSREP_LAST_SEEN_GTID()", "SET SESSION wsrep_sync_wait = 1"]
    assert int(ran[0][0]) == victim != int(ran[1][0])
    connection = db.connect(conf)
    try:
        expected = raw_rows(connection, "SELECT user_id, name, email, age "
                            "FROM base ORDER BY seq")
    finally:
        db.close_quietly(connection)
    assert len(expected) == ROWS
    assert [tuple(map(bytes, row)) for row in got] == expected


def test_interrupted_query_lost_only_with_its_connection(
        server, gated, gate, driver_kind):
    """Error 1317 (query interrupted) means a lost server only if the
    connection is gone too (``db._lost``).

    The query waits at the gate when it is killed alone (KILL QUERY):
    1317, and the connection still answers, so the stream must raise.
    Then the connection itself is killed, as MySQL 8 does after it
    ends a running query with 1317 for a KILL or a shutdown: the same
    error now says the server is lost, and a stream with another
    server goes on there. Every driver.
    """
    connection = db.connect(db.settings().replace(database=gated))
    try:
        connection.cmd_query(SELECT + " ORDER BY user_id")
        rows = driver.batches(connection, SIZE)
        next(rows)
        victim = gate.waiting()
        server.admin(f"KILL QUERY {victim:d}")
        with pytest.raises(mysql.connector.Error) as raised:
            for _ in rows:
                pass
        assert raised.value.errno == db.INTERRUPTED == 1317
        assert not db._lost(connection, raised.value)
        server.admin(f"KILL {victim:d}")
        server.wait_gone({victim})
        assert db._lost(connection, raised.value)
    finally:
        db.close_quietly(connection)


def test_killed_query_raises_with_another_server(server, gated, gate):
    """A query killed alone raises 1317, even with another server to
    go on from: the stream does not resume.

    MYSQL_HOST lists the session's server twice; the gate is let go
    once the query is killed, so a stream that wrongly resumed would
    end without an error.
    """
    conf = db.settings().replace(
        host=f"127.0.0.1:{server.port},127.0.0.1:{server.port}",
        database=gated)
    stream = db.stream_rows(conf, SELECT, SIZE, key="user_id")
    try:
        count = len(next(stream))
        victim = gate.waiting()
        server.admin(f"KILL QUERY {victim:d}")
        gate.release()
        with pytest.raises(mysql.connector.Error) as raised:
            for batch in stream:
                count += len(batch)
    finally:
        stream.close()
    assert raised.value.errno == 1317
    assert count < GATE_AT
