"""The project on a server of the user's own, named by a ``.env``.

A learner with MySQL installed copies ``.env.example`` to ``.env`` and
runs the mains: nothing starts a server, the user has rights on the
project's databases alone (no root), and the server keeps its defaults.
These tests do the same, in a copy of the project whose ``.env`` names
the server, with no MYSQL_* variable in the environment.

With ``OWN_SERVER_ENV`` naming such a ``.env`` (CI's MySQL 8 job), the
server is the one it names, and nothing here needs more than the user's
rights (and, as MySQL 8 logs its changes by default, the server's
``log_bin_trust_function_creators`` on, for the triggers a test makes).
Without it, the session's throwaway MariaDB stands in, with the
MySQL 8 default that changes the code's path set for the module:
``local_infile`` off, so rows go by multi-row ``INSERT``. Each test's
database is a new ``ALX_prodev_own*`` one, dropped at the end.
"""
import csv
import os
import secrets
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from glob import glob
from uuid import NAMESPACE_URL, uuid5

import mysql.connector
import pytest
from dotenv import dotenv_values

from conftest import PYTHON, ROOT, db, seed
from test_course import SELECT, csv_records, exact_mean
from test_course_files import COURSE_MAINS
from test_loader import PRESENT, add_present, table, what_table_is
from test_tables_elsewhere import (SIGNAL, SIGNALLED, TABLES, lifting,
                                   loaded_rows, write_records)
from test_tables_elsewhere import run as run_each
from testlab import DEADLINE, wait_for

streaming = __import__("0-stream_users")
averaging = __import__("4-stream_ages")

OWN_SERVER_ENV = "OWN_SERVER_ENV"  # the .env of a server of your own
WHERE = ("MYSQL_HOST", "MYSQL_PORT", "MYSQL_USER", "MYSQL_PASSWORD")
CENT = Decimal("0.01")
LOAD, INSERT = "LOAD DATA LOCAL INFILE", "multi-row INSERT"
# The columns of seed.TABLE, in a table of another collation: as the
# course's own seed makes it, on a server whose utf8mb4 default is not
# the connection's utf8mb4_unicode_ci (MySQL 8's: utf8mb4_0900_ai_ci).
COLUMNS = """user_id CHAR(36) PRIMARY KEY, name VARCHAR(255) NOT NULL,
    email VARCHAR(255) NOT NULL, age DECIMAL(5,2) NOT NULL"""
COLLATIONS = ["utf8mb4_bin", "utf8mb4_general_ci", None]  # None: default


@pytest.fixture(scope="module")
def own(request):
    """Return where the server of the user's own is: its MYSQL_* values
    but the database's, as a ``.env`` names them."""
    path = os.environ.get(OWN_SERVER_ENV)
    if path:
        named = dotenv_values(path)
        yield {name: named[name] for name in WHERE if named.get(name)}
        return
    server = request.getfixturevalue("server")
    server.admin("SET GLOBAL local_infile = 0")
    try:
        yield {name: server.env[name] for name in WHERE}
    finally:
        server.admin("SET GLOBAL local_infile = 1")


def settings(own, database):
    """Return the settings of ``own`` (see the fixture) for ``database``."""
    return db.Settings.from_env(dict(own, MYSQL_DATABASE=database))


def new_database():
    """Return a new database name of the project's own."""
    return "ALX_prodev_own" + secrets.token_hex(4)


def drop(own, database):
    """Drop ``database`` on the server of ``own``, as the user."""
    connection = db.connect(settings(own, database), database=False)
    try:
        connection.cmd_query(f"DROP DATABASE IF EXISTS `{database}`")
    finally:
        db.close_quietly(connection)


def query(conf, sql):
    """Run ``sql`` with settings ``conf``; return all its rows."""
    connection = db.connect(conf)
    try:
        cursor = connection.cursor()
        cursor.execute(sql)
        rows = cursor.fetchall()
        cursor.close()
    finally:
        db.close_quietly(connection)
    return rows


def csv_rows():
    """Return user_data.csv as the table should hold it, in key order."""
    return sorted(
        (str(uuid5(NAMESPACE_URL, "mailto:" + record["email"].lower())),
         record["name"], record["email"],
         Decimal(record["age"]).quantize(CENT)) for record in csv_records())


def csv_users():
    """Return the users of user_data.csv as the mains print them, in order."""
    return [{"user_id": user_id, "name": name, "email": email,
             "age": int(age) if age == age.to_integral_value() else age}
            for user_id, name, email, age in csv_rows()]


def copy_project(folder, own, database, mains=None):
    """Copy the project's scripts and user_data.csv into ``folder``, with
    ``mains`` (name: text) over its own; write a ``.env`` there naming
    ``database`` on the server of ``own``."""
    folder.mkdir()
    for path in glob(os.path.join(ROOT, "*.py")) + [
            os.path.join(ROOT, "user_data.csv")]:
        shutil.copy(path, folder)
    for name, text in (mains or {}).items():
        (folder / name).write_text(text)
    (folder / ".env").write_text("".join(
        f"{name}={value}\n"
        for name, value in dict(own, MYSQL_DATABASE=database).items()))
    return folder


def run(folder, script):
    """Run ``script`` in ``folder`` as a learner does: its ``.env`` alone
    names the server. Return the finished process (text)."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("MYSQL_")}
    return subprocess.run([PYTHON, script], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def seeded(own, tmp_path_factory):
    """A copy of the project (ours) and one with the course's published
    mains, on a new database that ours' 0-main.py has seeded twice.

    Return the folders, the database, and the two runs of 0-main.py.
    """
    database, top = new_database(), tmp_path_factory.mktemp("own")
    ours = copy_project(top / "ours", own, database)
    course = copy_project(top / "course", own, database, {
        name: text for name, text in COURSE_MAINS.items()
        if name != "0-main.py"})  # it names ALX_prodev, not .env's
    try:
        runs = [run(ours, "0-main.py") for _ in range(2)]
        yield {"ours": ours, "course": course, "database": database,
               "runs": runs}
    finally:
        drop(own, database)


def test_0_main_seeds_then_changes_nothing(seeded, own):
    """0-main.py through .env: the course's four lines, the load's report
    alone on stderr; run again, the same lines, and nothing loaded."""
    first, again = seeded["runs"]
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "connection successful", "Table user_data created successfully",
        f"Database {seeded['database']} is present ", repr(csv_rows()[:5])]
    assert first.stderr == (
        "user_data.csv: 1000 loaded, 0 already present, 0 rejected\n")
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
    assert again.stderr == ("user_data.csv: 0 loaded, 1000 already present, "
                            "0 rejected; nothing changed\n")
    assert query(settings(own, seeded["database"]), SELECT) == csv_rows()


def over_25():
    """Return the lines 2-main.py prints: the users over 25."""
    return [str(user) for user in csv_users() if user["age"] > 25]


@pytest.mark.parametrize("copy, script, expected", [
    ("ours", "1-main.py", lambda: [str(u) for u in csv_users()[:6]]),
    ("ours", "2-main.py", over_25),
    ("ours", "3-main.py", lambda: [str(u) for u in csv_users()]),
    ("ours", "4-stream_ages.py", lambda: [
        "Average age of users: "
        f"{exact_mean(record['age'] for record in csv_records())}"]),
    ("course", "1-main.py", lambda: [str(u) for u in csv_users()[:6]]),
    ("course", "2-main.py", over_25),
    ("course", "3-main.py", lambda: [str(u) for u in csv_users()]),
])
def test_mains_through_dotenv(seeded, copy, script, expected):
    """Each main, ours or the course's, prints exactly what the CSV
    says, from the server its folder's .env names, and nothing else."""
    done = run(seeded[copy], script)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == expected()


@pytest.fixture
def collated(own, request):
    """A new database whose user_data is in collation ``request.param``
    (None: the server's utf8mb4 default), empty; its settings."""
    conf = settings(own, new_database())
    connection = db.connect(conf, database=False)
    try:
        connection.cmd_query(f"CREATE DATABASE `{conf.database}` "
                             "CHARACTER SET utf8mb4")
        connection.cmd_query(f"USE `{conf.database}`")
        connection.cmd_query(
            f"CREATE TABLE user_data ({COLUMNS}) DEFAULT CHARSET=utf8mb4"
            + (f" COLLATE={request.param}" if request.param else ""))
        yield conf
    finally:
        db.close_quietly(connection)
        drop(own, conf.database)


@pytest.mark.parametrize("collated", COLLATIONS, indirect=True,
                         ids=lambda name: name or "server default")
def test_table_of_another_collation_loads_and_streams(collated, capsys):
    """A user_data in utf8mb4, but not in the connection's collation,
    takes the CSV, twice (the second time, every row already present),
    and streams it back in key order; the average is the CSV's.

    The loader sends rows by multi-row INSERT when the server refuses
    LOCAL INFILE (MySQL 8's default, and the stand-in's here).
    """
    ((collation, infile),) = query(collated, (
        "SELECT TABLE_COLLATION, @@GLOBAL.local_infile FROM "
        "information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
        "AND TABLE_NAME = 'user_data'"))
    assert collation != db.COLLATION and collation.startswith("utf8mb4_")
    way = LOAD if infile else INSERT
    path = os.path.join(ROOT, "user_data.csv")
    with db.use(collated):
        connection = seed.connect()
        try:
            first = seed.insert_data(connection, path)
            again = seed.insert_data(connection, path)
        finally:
            connection.close()
        users = list(streaming.stream_users())
        average = averaging.average_age(averaging.stream_user_ages())
    assert (first, again) == ((1000, 0, 0, way), (0, 1000, 0, way))
    assert capsys.readouterr().err == (
        f"{path}: 1000 loaded, 0 already present, 0 rejected\n"
        f"{path}: 0 loaded, 1000 already present, 0 rejected; "
        "nothing changed\n")
    assert users == csv_users()
    assert average == exact_mean(record["age"] for record in csv_records())
    assert query(collated, SELECT) == csv_rows()


def test_unknown_variable_error_1193_is_ignored(own):
    """A resumed stream without a position to wait for sets
    ``wsrep_sync_wait`` (``db._catch_up``): on a server without it
    (MySQL), error 1193, which it ignores; the
    connection goes on. MariaDB knows the variable, Galera or not: there
    it is set, and an unknown name gives the same 1193.
    """
    connection = db.connect(settings(own, "ALX_prodev"), database=False)
    try:
        cursor = connection.cursor()
        cursor.execute("SHOW SESSION VARIABLES LIKE 'wsrep\\_sync\\_wait'")
        known = cursor.fetchall()
        unknown = "alx_no_such_variable" if known else "wsrep_sync_wait"
        with pytest.raises(mysql.connector.Error) as raised:
            cursor.execute(f"SET SESSION {unknown} = 1")
        assert raised.value.errno == 1193
        db._catch_up(connection, None, 5)
        cursor.execute("SELECT 1" + (", @@SESSION.wsrep_sync_wait" if known
                                     else ""))
        assert cursor.fetchall() == [(1, 1) if known else (1,)]
        cursor.close()
    finally:
        db.close_quietly(connection)


@pytest.fixture
def fresh(own):
    """A new database holding the project's user_data, with the PRESENT
    user; its settings and a connection to it."""
    conf = settings(own, new_database())
    connection = db.connect(conf, database=False)
    try:
        connection.cmd_query(f"CREATE DATABASE `{conf.database}` "
                             "CHARACTER SET utf8mb4")
        connection.cmd_query(f"USE `{conf.database}`")
        connection.cmd_query(seed.TABLE)
        add_present(connection)
        yield conf, connection
    finally:
        db.close_quietly(connection)
        drop(own, conf.database)


@pytest.mark.parametrize("kind", TABLES)
def test_table_that_would_skip_or_change_rows_refused(fresh, tmp_path,
                                                      kind):
    """A user_data made elsewhere that would skip a good row as present,
    change it, or keep a failed load is refused before a row is sent,
    on this server as on MariaDB (tests/test_tables_elsewhere.py): the
    table as it was; then the statement the error names lifts it, and
    the same file loads, every record.

    MySQL 8 names a CHECK written in a column's definition itself
    (``user_data_chk_1``), and drops it as any other.
    """
    conf, connection = fresh
    statements, error = TABLES[kind]
    if kind == "CHECK in a column" and "MariaDB" not in \
            connection.server_info:
        error = TABLES["CHECK constraint"][1].replace(
            "`adult`", "`user_data_chk_1`")
    run_each(connection, statements)
    before = what_table_is(connection)
    path = write_records(tmp_path)
    with db.use(conf):
        with pytest.raises(seed.SetupError) as raised:
            seed.insert_data(connection, path)
        assert str(raised.value) == error
        assert what_table_is(connection) == before
        assert not os.path.exists(path + ".rejects.csv")
        run_each(connection, [lifting(error)])
        assert seed.insert_data(connection, path)[:3] == (3, 0, 0)
    assert table(connection) == loaded_rows()


def test_signal_in_a_trigger_fails_the_load(fresh, tmp_path):
    """A trigger's SIGNAL during a load fails it with one line that
    quotes it; the table is as it was."""
    conf, connection = fresh
    run_each(connection, [SIGNAL])
    path = write_records(tmp_path)
    with db.use(conf):
        with pytest.raises(seed.SetupError) as raised:
            seed.insert_data(connection, path)
    assert str(raised.value) == SIGNALLED
    assert table(connection) == [PRESENT]
    assert not os.path.exists(path + ".rejects.csv")


# A stream stopped on the server at a known row, by the user's own
# means: no function (MySQL 8 lets a user without SUPER make none while
# it logs its changes), but the named lock in the query itself.
STREAM_ROWS, STREAM_GATE, STREAM_SIZE = 2000, 1001, 100


@pytest.fixture
def gated_stream(fresh):
    """A ``base`` table of STREAM_ROWS rows, in key order by ``seq``, a
    query that waits at row STREAM_GATE on a named lock of its own, and
    a connection of the user's holding that lock.

    Return the settings, with MYSQL_HOST naming the server twice (a
    stream that loses it goes on there), the query, the rows in order,
    and the lock's connection.
    """
    conf, connection = fresh
    lock = "alx_own_gate_" + secrets.token_hex(4)
    digits = "(SELECT 0 AS d UNION ALL " + " UNION ALL ".join(
        f"SELECT {digit}" for digit in range(1, 10)) + ")"
    run_each(connection, [
        "CREATE TABLE base (user_id CHAR(36) PRIMARY KEY, name "
        "VARCHAR(255) NOT NULL, seq INT NOT NULL) DEFAULT CHARSET=utf8mb4",
        "INSERT INTO base SELECT CONCAT(LPAD(seq, 8, '0'), "
        "'-0000-4000-8000-000000000000'), CONCAT('User ', seq, ' ', "
        "REPEAT('x', 60)), seq FROM (SELECT a.d + 10 * b.d + 100 * c.d "
        f"+ 1000 * e.d + 1 AS seq FROM {digits} AS a, {digits} AS b, "
        f"{digits} AS c, {digits} AS e) AS numbers "
        f"WHERE seq <= {STREAM_ROWS:d}"])
    cursor = connection.cursor()
    cursor.execute("SELECT user_id, name, seq FROM base ORDER BY user_id")
    expected = [tuple(str(value).encode() for value in row)
                for row in cursor.fetchall()]
    cursor.execute("SELECT GET_LOCK(%s, 60)", (lock,))
    assert cursor.fetchall() == [(1,)]
    cursor.close()
    (host, port), = conf.servers
    twice = conf.replace(host=f"{host}:{port},{host}:{port}")
    sql = (f"SELECT user_id, name, IF(seq = {STREAM_GATE:d}, "
           f"GET_LOCK('{lock}', 3600) * 0 + seq, seq) FROM base")
    yield twice, sql, expected, connection


def waiting(connection):
    """Wait until one of the user's connections waits at the gate (runs
    a query on ``base`` that has not passed it); return its id."""
    def found():
        """Return the ids of the connections waiting at the gate."""
        cursor = connection.cursor()
        cursor.execute("SHOW FULL PROCESSLIST")
        rows = cursor.fetchall()
        cursor.close()
        return [row[0] for row in rows if row[0] != connection.connection_id
                and row[4] == "Query" and "FROM base" in (row[7] or "")]
    ids = wait_for(found, "a stream waiting at the gate")
    assert len(ids) == 1, ids
    return ids[0]


def kill(conf, statement):
    """Run a KILL ``statement`` on a connection of its own, as the user."""
    killer = db.connect(conf, database=False, servers=conf.servers[:1])
    try:
        killer.cmd_query(statement)
    finally:
        db.close_quietly(killer)


def gone(connection, victim):
    """Wait until the connection ``victim`` has left the server."""
    def left():
        """Return True once ``victim`` is not in the process list."""
        cursor = connection.cursor()
        cursor.execute("SHOW PROCESSLIST")
        ids = {row[0] for row in cursor.fetchall()}
        cursor.close()
        return victim not in ids
    wait_for(left, f"connection {victim} to end")


def release(connection, sql):
    """Let the stream pass the gate: release the lock ``sql`` waits on."""
    cursor = connection.cursor()
    cursor.execute("SELECT RELEASE_LOCK(%s)", (sql.split("'")[1],))
    cursor.fetchall()
    cursor.close()


def test_stream_killed_goes_on_from_the_next_server(gated_stream):
    """A stream whose connection is killed at the gate goes on from the
    next server (the same one, named twice), after the last key it
    gave: every row once, in key order. MySQL 8 ends the query with
    error 1317, as KILL QUERY does, before it drops the connection."""
    conf, sql, expected, connection = gated_stream
    stream = db.stream_rows(conf, sql, STREAM_SIZE, key="user_id")
    try:
        got = list(next(stream))
        victim = waiting(connection)
        kill(conf, f"KILL {victim:d}")
        gone(connection, victim)
        release(connection, sql)
        for batch in stream:
            got.extend(batch)
    finally:
        stream.close()
    assert [tuple(map(bytes, row)) for row in got] == expected


def test_stream_query_killed_raises(gated_stream):
    """A stream whose query alone is killed at the gate raises error
    1317, even with another server to go on from; the gate is let go,
    so a stream that went on instead would end without an error."""
    conf, sql, expected, connection = gated_stream
    stream = db.stream_rows(conf, sql, STREAM_SIZE, key="user_id")
    try:
        count = len(next(stream))
        victim = waiting(connection)
        kill(conf, f"KILL QUERY {victim:d}")
        release(connection, sql)
        with pytest.raises(mysql.connector.Error) as raised:
            for batch in stream:
                count += len(batch)
    finally:
        stream.close()
    assert raised.value.errno == 1317
    assert count < STREAM_GATE


def test_stream_closed_early_cancels_its_query(gated_stream, capsys):
    """A stream closed while its query waits at the gate cancels it
    (KILL QUERY of its own, db._cancel) and ends: its connection
    leaves the server while the gate is still held, and nothing is
    said. A close that could not cancel would wait at the gate."""
    conf, sql, expected, connection = gated_stream
    stream = db.stream_rows(conf, sql, STREAM_SIZE, key="user_id")
    next(stream)
    victim = waiting(connection)
    with ThreadPoolExecutor(1) as pool:
        closing = pool.submit(stream.close)
        try:
            closing.result(timeout=DEADLINE)
        finally:
            release(connection, sql)
    gone(connection, victim)
    assert capsys.readouterr().err == ""
