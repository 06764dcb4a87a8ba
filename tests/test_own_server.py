"""The project on a server of the user's own, named by a ``.env``.

A learner with MySQL installed copies ``.env.example`` to ``.env`` and
runs the mains: nothing starts a server, the user has rights on the
project's databases alone (no root), and the server keeps its defaults.
These tests do the same, in a copy of the project whose ``.env`` names
the server, with no MYSQL_* variable in the environment.

With ``OWN_SERVER_ENV`` naming such a ``.env`` (CI's MySQL 8 job), the
server is the one it names, and nothing here needs more than the user's
rights. Without it, the session's throwaway MariaDB stands in, with the
MySQL 8 default that changes the code's path set for the module:
``local_infile`` off, so rows go by multi-row ``INSERT``. Each test's
database is a new ``ALX_prodev_own*`` one, dropped at the end.
"""
import csv
import os
import secrets
import shutil
import subprocess
from decimal import Decimal
from glob import glob
from uuid import NAMESPACE_URL, uuid5

import mysql.connector
import pytest
from dotenv import dotenv_values

from conftest import PYTHON, ROOT, db, seed
from test_course import SELECT, csv_records, exact_mean
from test_course_files import COURSE_MAINS

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
