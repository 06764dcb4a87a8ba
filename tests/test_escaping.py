"""Values that SQL could misread load exactly, whichever way rows travel.

Names and emails with quotes, backslashes, SQL comments, statement ends,
Python's format markers and any Unicode are loaded by ``insert_data``
and read back with SQL: each must be stored exactly as the CSV has it,
and ``user_data`` must still be there. Each way rows reach the server is
tried: ``LOAD DATA LOCAL INFILE``; multi-row ``INSERT``s built from rows
escaped by the connector's own escaping (``driver.escaped``), told the
session's ``sql_mode``, with the server in its default mode and in
``NO_BACKSLASH_ESCAPES`` mode (where a backslash is an ordinary
character, and escaping must know it); the same with the pure-Python
driver, in a process without the C extension, in both modes. The
chunks, the INSERTs and
the batches checked at once are made small, so that every boundary
falls among these values; a repeated record is found among them and
quoted as the file has it.
"""
import csv
import json
import subprocess

import driver
import loader
import pytest
from mysql.connector.connection import MySQLConnection
from mysql.connector.connection_cext import CMySQLConnection

from testlab import DEADLINE, PYTHON, ROOT, seed

NASTY = [
    "O'Brien",
    "Back\\slash",
    'Say "hi"',
    "semi;colon",
    "dash -- dash",
    "-- comment",
    "/* comment */",
    "%s",
    "%(x)s",
    "%%d",
    "?",
    "Zoë Ōtani Amélie Ñúñez",
    "山田 太郎",
    "Ada 🐍 😀",
    "back\\n",
    "back\\r\\0\\Z\\t",
    "trailing\\",
    "\\",
    "\\\\",
    "\\'",
    "\\\"",
    "''",
    "'",
    "`tick`",
    "'); DROP TABLE user_data; --",
    "\"); DROP TABLE user_data; --",
    "\\'); DROP TABLE user_data; --",
    "Robert'); DROP TABLE user_data;--",
    "x' OR '1'='1",
    "Line\u2028Next\x85Row",
]
EMAILS = [
    "o'brien@example.com",
    "back\\slash@example.com",
    'q"uote@example.com',
    "semi;colon@example.com",
    "end\\@example.com",
    "\\'@example.com",
    "%s@example.com",
    "zoë@exämple.jp",
]
LOAD, INSERT = "LOAD DATA LOCAL INFILE", "multi-row INSERT"
# Each way: the method the loader reports, the server's local_infile and
# whether the server is in NO_BACKSLASH_ESCAPES mode.
WAYS = {
    "LOAD DATA LOCAL INFILE": (LOAD, 1, False),
    "LOAD DATA, NO_BACKSLASH_ESCAPES": (LOAD, 1, True),
    "INSERT, escaped": (INSERT, 0, False),
    "INSERT, escaped, NO_BACKSLASH_ESCAPES": (INSERT, 0, True),
}


def users():
    """Return the users to load, as ``(name, email, age)`` tuples.

    Every nasty name, once short and once long (close to 255
    characters, so that rows cross the INSERTs' boundaries), then every
    nasty email; each email is unique, without regard to case.
    """
    rows = [(name, f"short{number}@example.com", str(number % 1000))
            for number, name in enumerate(NASTY)]
    rows += [(" ".join([name] * (256 // (len(name) + 1))),
              f"long{number}@example.com", "999.99")
             for number, name in enumerate(NASTY)]
    rows += [(NASTY[number % len(NASTY)], email, "0.5")
             for number, email in enumerate(EMAILS)]
    return rows


def decimal(age):
    """Return ``age`` as DECIMAL(5,2) reads back: '7' -> '7.00'."""
    whole, _, cents = age.partition(".")
    return f"{int(whole)}.{cents:0<2}"


def write_csv(path, rows):
    """Write ``rows`` with the course's header, every field quoted."""
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_ALL)
        writer.writerow(["name", "email", "age"])
        writer.writerows(rows)
    return str(path)


def admin_sql_mode(server):
    """Return the server's global sql_mode."""
    return server.admin("SELECT @@GLOBAL.sql_mode").strip()


@pytest.fixture(params=sorted(WAYS))
def way(request, server):
    """Each way rows reach the server; yield its name, a key of WAYS.

    The server allows LOCAL INFILE or not, is in NO_BACKSLASH_ESCAPES
    mode or not (new connections take the global mode). All is
    restored after.
    """
    _, allowed, plain_backslash = WAYS[request.param]
    before = admin_sql_mode(server)
    server.admin(f"SET GLOBAL local_infile = {allowed:d}")
    if plain_backslash:
        server.admin("SET GLOBAL sql_mode = "
                     "CONCAT(@@GLOBAL.sql_mode, ',NO_BACKSLASH_ESCAPES')")
    yield request.param
    server.admin("SET GLOBAL local_infile = 1")
    server.admin(f"SET GLOBAL sql_mode = '{before}'")
    assert admin_sql_mode(server) == before


@pytest.fixture
def small(monkeypatch):
    """Make chunks, checked batches and INSERTs small, to cross them.

    Chunks of 16 rows (the first of 5), batches of 7 records, INSERTs
    of 4 KiB of rows (the least the loader makes).
    """
    for name, value in (("CHUNK_ROWS", 16), ("FIRST_CHUNK_ROWS", 5),
                        ("CHECK_ROWS", 7), ("INSERT_BYTES", 1)):
        monkeypatch.setattr(loader, name, value)


def watch_method(monkeypatch):
    """Record the ``loader.Method`` of each load; return the list.

    With each, how its ``sql_mode`` escapes a backslash and a quote.
    """
    seen = []
    choose_method = loader.choose_method

    def watching(*args):
        """Note the method chosen."""
        method = choose_method(*args)
        seen.append((method, driver.escaped(b"\\'", method.sql_mode)))
        return method

    monkeypatch.setattr(loader, "choose_method", watching)
    return seen


def stored(connection):
    """Return user_data as ``{email: (name, age)}``, read with SQL."""
    cursor = connection.cursor()
    cursor.execute("SELECT email, name, CAST(age AS CHAR) FROM user_data")
    rows = {email: (name, age) for email, name, age in cursor.fetchall()}
    cursor.close()
    return rows


def table_exists(connection):
    """Return True if user_data is a table of the test's database."""
    cursor = connection.cursor()
    cursor.execute("SHOW TABLES LIKE 'user_data'")
    found = cursor.fetchall()
    cursor.close()
    return found == [("user_data",)]


def assert_rows_and_one_repeat(connection, path, rows, repeat):
    """Check that the table holds ``rows`` exactly, and that the rejects
    file of ``path`` holds ``repeat`` alone, the last record, as the file
    has it, rejected as a repeat of its first email's line."""
    assert table_exists(connection)
    assert stored(connection) == {email: (name, decimal(age))
                                  for name, email, age in rows}
    with open(path + ".rejects.csv", encoding="utf-8", newline="") as text:
        (reject,) = list(csv.DictReader(text))
    first = [email for _, email, _ in rows].index(repeat[1].lower()) + 2
    assert reject["line"] == str(len(rows) + 2)
    assert reject["reason"] == f"repeats the email of line {first}"
    assert next(csv.reader([reject["record"]])) == list(repeat)


def test_nasty_values_round_trip(database, tmp_path, capsys, monkeypatch,
                                 small, way):
    """Every value is stored exactly as in the CSV, by every way.

    A last record repeats an email (in other case) with another nasty
    name: it is rejected as a repeat, and the rejects file quotes it
    exactly, as the CSV has it. The table is still there, and holds
    every other record.
    """
    rows = users()
    repeat = ("x'); DROP TABLE user_data; -- \\", "O'BRIEN@example.com", "1")
    path = write_csv(tmp_path / "nasty.csv", rows + [repeat])
    seen = watch_method(monkeypatch)
    counts = seed.insert_data(database, path)
    capsys.readouterr()
    assert counts.method == WAYS[way][0]
    assert counts[:3] == (len(rows), 0, 1)
    ((method, escaped),) = seen
    assert method.local_infile == (WAYS[way][0] == LOAD)
    assert ("NO_BACKSLASH_ESCAPES" in method.sql_mode) == WAYS[way][2]
    assert escaped == (b"\\''" if WAYS[way][2] else b"\\\\\\'")
    assert_rows_and_one_repeat(database, path, rows, repeat)


@pytest.mark.parametrize("pure", [False, True],
                         ids=["C extension", "pure Python"])
def test_escaping_follows_no_backslash_escapes(server, database, pure):
    """``driver.literal`` escapes as the session's ``sql_mode`` says.

    In the default mode a backslash and a quote are escaped with a
    backslash; in NO_BACKSLASH_ESCAPES mode a backslash is left alone
    and a quote doubled. Every nasty value and email, made a literal for
    the connection's ``sql_mode``, reads back as itself, in each mode,
    with either driver.
    """
    value = "a\\b'c\"d\\"
    before = admin_sql_mode(server)
    try:
        for mode, expected in (("default", b"'a\\\\b\\'c\\\"d\\\\'"),
                               ("plain", b"'a\\b''c\"d\\'")):
            if mode == "plain":
                server.admin("SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode,"
                             " ',NO_BACKSLASH_ESCAPES')")
            connection = seed.connect(use_pure=pure)
            try:
                assert type(connection) is (MySQLConnection if pure
                                            else CMySQLConnection)
                sql_mode = connection.sql_mode
                assert ("NO_BACKSLASH_ESCAPES" in sql_mode) == (
                    mode == "plain")
                assert driver.literal(value.encode(), sql_mode) == expected
                cursor = connection.cursor()
                for text in [value] + NASTY + EMAILS:
                    cursor.execute(b"SELECT " + driver.literal(
                        text.encode(), sql_mode))
                    assert cursor.fetchall() == [(text,)], (mode, text)
                cursor.close()
            finally:
                seed.close_quietly(connection)
    finally:
        server.admin(f"SET GLOBAL sql_mode = '{before}'")
    assert admin_sql_mode(server) == before


PURE = """
import json, sys
sys.modules["_mysql_connector"] = None  # its import fails: no C extension
sys.path.insert(0, sys.argv[2])
import mysql.connector
from mysql.connector.connection import MySQLConnection
import loader, seed
assert not mysql.connector.HAVE_CEXT
for name, value in (("CHUNK_ROWS", 16), ("FIRST_CHUNK_ROWS", 5),
                    ("CHECK_ROWS", 7), ("INSERT_BYTES", 1)):
    setattr(loader, name, value)
connection = seed.connect()
try:
    assert type(connection) is MySQLConnection, type(connection)
    counts = seed.insert_data(connection, sys.argv[1])
finally:
    connection.close()
print(json.dumps([type(connection).__name__, *counts]))
"""


@pytest.mark.parametrize("plain_backslash", [False, True],
                         ids=["default", "NO_BACKSLASH_ESCAPES"])
def test_pure_python_driver_round_trip(server, database, tmp_path,
                                       plain_backslash):
    """Without the C extension, every value is stored exactly, too.

    The load runs in a process whose import of the C extension fails,
    on a server refusing LOCAL INFILE: the pure-Python driver sends the
    rows, escaped for the session's ``sql_mode``, in INSERTs of 4 KiB,
    in chunks of 16 (the first of 5), in the server's default mode and
    in NO_BACKSLASH_ESCAPES mode; a repeat is found among them.
    It replaces a test that made ``driver.fast`` say False on a C
    extension connection: that ran the C cursor's binding, not this.
    """
    rows = users()
    repeat = ("x'); DROP TABLE user_data; -- \\", "O'BRIEN@example.com", "1")
    path = write_csv(tmp_path / "nasty.csv", rows + [repeat])
    before = admin_sql_mode(server)
    server.admin("SET GLOBAL local_infile = 0")
    if plain_backslash:
        server.admin("SET GLOBAL sql_mode = "
                     "CONCAT(@@GLOBAL.sql_mode, ',NO_BACKSLASH_ESCAPES')")
    try:
        done = subprocess.run([PYTHON, "-c", PURE, path, ROOT],
                              capture_output=True, text=True,
                              timeout=DEADLINE)
    finally:
        server.admin("SET GLOBAL local_infile = 1")
        server.admin(f"SET GLOBAL sql_mode = '{before}'")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        "MySQLConnection", len(rows), 0, 1, INSERT]
    assert_rows_and_one_repeat(database, path, rows, repeat)
