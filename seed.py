#!/usr/bin/env python3
"""Create and load the ALX_prodev database; open connections for the tasks.

Run it to create the database and its ``user_data`` table and load a CSV::

    ./seed.py                  # loads user_data.csv
    ./seed.py big.csv          # or any file of the same shape

The other scripts import it for three things: a connection
(``connect_to_prodev``), a stream of rows read from the server only as
they are consumed (``stream_rows``), and the conversion of raw rows into
user dicts (``as_users``, ``to_age``).

Settings come from the environment, or from ``.env`` beside this file
(see ``.env.example``); variables already set in the environment win.
Importing this module connects to nothing.
"""
import os
import re
import sys
from decimal import Decimal
from functools import lru_cache
from itertools import islice

import mysql.connector
from dotenv import load_dotenv
from mysql.connector.errors import get_mysql_exception

try:  # the C extension's own error, raised by its fetch_row
    from _mysql_connector import MySQLInterfaceError as NativeError
except ImportError:  # pure Python only: nothing to translate
    NativeError = ()

HERE = os.path.dirname(os.path.abspath(__file__))
load_dotenv(os.path.join(HERE, ".env"))

CHARSET, COLLATION = "utf8mb4", "utf8mb4_unicode_ci"
TABLE = f"""CREATE TABLE IF NOT EXISTS user_data (
    user_id CHAR(36) PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    email VARCHAR(255) NOT NULL,
    age DECIMAL(5,2) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET={CHARSET} COLLATE={COLLATION}"""


class SetupError(Exception):
    """A problem the user can fix; the message says what to check."""


def check_int(value, name, minimum=1):
    """Return ``value`` if it is an int of at least ``minimum``, else raise.

    ``bool``, ``float``, strings and ``None`` raise ``TypeError``; too
    small a number raises ``ValueError``.

    >>> check_int(50, "batch_size")
    50
    """
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")
    return value


def _env_int(name, default):
    """Read a whole number of at least 1 from the environment variable."""
    raw = os.environ.get(name) or str(default)
    if not raw.isdigit() or int(raw) < 1:
        raise SetupError(f"{name}={raw!r} in the environment or .env "
                         "must be a whole number above 0")
    return int(raw)


def settings():
    """Return the connection settings, read from the environment now.

    >>> settings()["port"] > 0
    True
    """
    database = os.environ.get("MYSQL_DATABASE") or "ALX_prodev"
    if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", database):
        raise SetupError(f"MYSQL_DATABASE={database!r} is not a plain name: "
                         "use 1 to 64 letters, digits or underscores")
    return {
        "host": os.environ.get("MYSQL_HOST") or "127.0.0.1",
        "port": _env_int("MYSQL_PORT", 3306),
        "user": os.environ.get("MYSQL_USER") or "root",
        "password": os.environ.get("MYSQL_PASSWORD") or "",
        "database": database,
        "connect_timeout": _env_int("MYSQL_CONNECT_TIMEOUT", 10),
        "read_timeout": _env_int("MYSQL_READ_TIMEOUT", 300),
        "net_write_timeout": _env_int("MYSQL_NET_WRITE_TIMEOUT", 3600),
        "ssl_ca": os.environ.get("MYSQL_SSL_CA") or None,
        "ssl_verify": os.environ.get("MYSQL_SSL_VERIFY", "").lower()
        in ("1", "true", "yes"),
    }


def _advice(err, where):
    """Say in one line what failed and what to check (never the password)."""
    code = getattr(err, "errno", None)
    if code == 1045:
        hint = "check MYSQL_USER and MYSQL_PASSWORD in .env"
    elif code == 1049:
        hint = "the database does not exist yet: run ./seed.py (or make run)"
    elif code == 2005:
        hint = "unknown host: check MYSQL_HOST in .env"
    elif code == 2026:
        hint = ("TLS failed: check MYSQL_SSL_CA (the CA that signed the "
                "server's certificate) and MYSQL_SSL_VERIFY in .env")
    else:
        hint = ("is the server running and answering? check MYSQL_HOST and "
                "MYSQL_PORT in .env, or run `make db-start` for the "
                "project's own server")
    return f"cannot use MySQL at {where}: {err.msg}; {hint}"


def connect(database=True, **options):
    """Open a connection, to the project's database unless told otherwise.

    Raise ``SetupError`` with one line naming host, port and user and
    what to check. Extra ``options`` go to ``mysql.connector.connect``.
    """
    conf = settings()
    where = f"{conf['host']}:{conf['port']} as user {conf['user']!r}"
    tls = {"ssl_ca": conf["ssl_ca"], "ssl_verify_cert": conf["ssl_verify"],
           "ssl_verify_identity": conf["ssl_verify"]}
    try:
        connection = mysql.connector.connect(
            host=conf["host"], port=conf["port"], user=conf["user"],
            password=conf["password"],
            database=conf["database"] if database else None,
            charset=CHARSET, collation=COLLATION, autocommit=True,
            connection_timeout=conf["connect_timeout"],
            read_timeout=conf["read_timeout"],
            write_timeout=conf["read_timeout"],
            **{key: value for key, value in tls.items() if value},
            **options)
    except mysql.connector.Error as err:
        raise SetupError(_advice(err, where)) from None
    if conf["ssl_ca"] and not conf["ssl_verify"]:
        _require_tls(connection, where)
    return connection


def _require_tls(connection, where):
    """Refuse an unencrypted connection when MYSQL_SSL_CA asks for TLS.

    Without verification the driver quietly goes on in plain text with
    a server that offers no TLS; with it, the driver refuses by itself.
    """
    cursor = connection.cursor()
    cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
    (_, cipher), = cursor.fetchall()
    cursor.close()
    if not cipher:
        close_quietly(connection)
        raise SetupError(f"cannot use MySQL at {where}: MYSQL_SSL_CA asks "
                         "for TLS, but the server offers none; check that "
                         "the server has TLS on, or remove MYSQL_SSL_CA "
                         "from .env")


def _connection_or_none(database):
    """Connect, or say why not on stderr and return None (as the course)."""
    try:
        return connect(database)
    except SetupError as err:
        print(f"error: {err}", file=sys.stderr)
        return None


def connect_db():
    """Return a connection to the MySQL server, no database selected.

    On failure print one line saying what to check and return ``None``.
    """
    return _connection_or_none(database=False)


def connect_to_prodev():
    """Return a connection to the ALX_prodev database (or MYSQL_DATABASE).

    On failure print one line saying what to check and return ``None``.
    """
    return _connection_or_none(database=True)


def create_database(connection):
    """Create the database if it does not exist, in utf8mb4."""
    cursor = connection.cursor()
    try:
        cursor.execute("CREATE DATABASE IF NOT EXISTS "
                       f"`{settings()['database']}` "
                       f"CHARACTER SET {CHARSET} COLLATE {COLLATION}")
    finally:
        cursor.close()


def create_table(connection):
    """Create the user_data table if it does not exist, and say so."""
    cursor = connection.cursor()
    try:
        cursor.execute(TABLE)
    finally:
        cursor.close()
    print("Table user_data created successfully")


def insert_data(connection, data):
    """Load the CSV file at path ``data`` into user_data; see loader.py."""
    import loader
    return loader.load(connection, data)


def stream_rows(sql, size=1000):
    """Yield the rows of ``sql`` in lists of at most ``size`` raw tuples.

    Values are ``bytes`` as the server sent them. Rows are read from the
    server only as they are consumed, on a connection of the stream's
    own. Closing the generator early cancels the query on the server and
    closes the connection at once; an error is raised, never turned into
    a shorter stream.
    """
    size = check_int(size, "size")
    connection = connect()
    try:
        connection.cmd_query("SET SESSION net_write_timeout = "
                             f"{settings()['net_write_timeout']:d}")
        connection.cmd_query(sql)
        yield from _batches(connection, size)
    except GeneratorExit:
        _cancel(connection)
        raise
    except NativeError as err:
        raise get_mysql_exception(err.errno, msg=err.msg,
                                  sqlstate=err.sqlstate) from err
    finally:
        close_quietly(connection)


def _batches(connection, size):
    """Yield the connection's pending rows in lists of at most ``size``.

    With the C extension the rows come straight from its ``fetch_row``,
    batched by ``islice``: the driver's ``get_rows`` spends more time in
    its own per-row Python loop than the server takes to send the row.
    """
    native = getattr(connection, "_cmysql", None)
    if native is None:  # the pure-Python driver
        while connection.unread_result:
            rows, _ = connection.get_rows(size, raw=True)
            if rows:
                yield rows
        return
    native.raw(True)
    rows = iter(native.fetch_row, None)
    yield from iter(lambda: list(islice(rows, size)), [])
    connection.free_result()


def _cancel(connection):
    """Stop the query running on ``connection`` from a short second one.

    Otherwise the driver would read every remaining row before closing.
    """
    if not connection.unread_result:
        return
    try:
        killer = connect(database=False)
    except SetupError:
        return
    try:
        killer.cmd_query(f"KILL QUERY {int(connection.connection_id):d}")
    except mysql.connector.Error:
        pass
    finally:
        close_quietly(killer)


def close_quietly(connection):
    """Close ``connection``; a broken one has nothing left to close."""
    try:
        connection.close()
    except mysql.connector.Error:
        pass


@lru_cache(maxsize=None)
def to_age(raw):
    """Turn a stored age into an int when whole, else a ``Decimal``.

    Ages repeat, so each distinct value is converted once.

    >>> to_age(b"67.00"), to_age(b"25.50")
    (67, Decimal('25.50'))
    """
    age = Decimal(raw.decode() if isinstance(raw, bytes) else raw)
    return int(age) if age == age.to_integral_value() else age


def as_users(rows):
    """Turn raw ``(user_id, name, email, age)`` rows into user dicts.

    seed.py has no loop budget: the course's files call this through
    ``map``. A comprehension with a dict display is the fastest way
    CPython has to build the dicts (2.5x ``map(dict, zip(...))``).

    >>> as_users([(b"0a", b"Zo\\xc3\\xab", b"z@x.io", b"25.00")])
    [{'user_id': '0a', 'name': 'Zoë', 'email': 'z@x.io', 'age': 25}]
    """
    text, age = bytes.decode, to_age
    return [{"user_id": text(user_id), "name": text(name),
             "email": text(email), "age": age(raw)}
            for user_id, name, email, raw in rows]


def run(main):
    """Run a script's ``main()`` the way every script here should end.

    An expected failure prints one line on stderr and exits 1, with no
    traceback; a reader that stops early (``| head``) ends it quietly.
    """
    try:
        main()
        sys.stdout.flush()
    except SetupError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
    except mysql.connector.Error as err:
        print(f"error: the database failed: {err}", file=sys.stderr)
        sys.exit(1)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main():
    """Create the database and table and load the CSV named on the line."""
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        HERE, "user_data.csv")
    connection = connect(database=False)
    try:
        create_database(connection)
    finally:
        connection.close()
    connection = connect()
    try:
        create_table(connection)
        insert_data(connection, path)
    finally:
        connection.close()


if __name__ == "__main__":
    sys.modules["seed"] = sys.modules[__name__]  # loader's SetupError is ours
    run(main)
