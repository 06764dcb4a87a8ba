#!/usr/bin/env python3
"""Create and load the ALX_prodev database: the course's seed.py.

Run it to create the database and its ``user_data`` table, and to load
a CSV::

    ./seed.py                  # loads user_data.csv
    ./seed.py big.csv          # or any file of the same shape

On a terminal, a bar shows the load's progress, and at the end the
one-line report takes its place (``Progress`` in loader.py). In a pipe
there is no bar: stderr gets the report alone.

This module holds:

- the course's prototypes: ``connect_db``, ``create_database``,
  ``connect_to_prodev``, ``create_table`` and ``insert_data``;
- what the numbered scripts use (they import this module alone): the
  users and the ages in batches (``user_batches``, ``age_batches``),
  one page of users (``fetch_users``), an argument check
  (``check_int``), and the way every script ends (``run``);
- with the default settings, a connection (``connect``) and a stream of
  raw rows, read only as they are used (``stream_rows``); ``as_users``
  and ``to_age`` (from ``db``) turn raw rows into users and ages.

The settings are ``db.settings()``, read once from the environment and
``.env``. Importing this module connects to nothing.

First, it checks that this Python has the packages. If not, one line
says how to run with the project's environment. An expected failure,
or Ctrl-C, that nothing catches also prints one line (``failure``).
This holds in the course's own main scripts too, which call no ``run``.

The layers, each importing only those below it: ``driver`` (the
connector's internals), ``db`` (settings, connections, streams),
``table`` (user_data's definition and shape check), ``loader``
(``insert_data``'s work), this module, and the numbered scripts.
"""
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# requirements.txt's packages, by the module each gives.
PACKAGES = {"mysql": "mysql-connector-python", "dotenv": "python-dotenv"}


def _without(packages):
    """Return the line that says which ``packages`` this Python lacks, and
    the two ways to run the script with the environment's Python."""
    here = os.path.realpath(os.getcwd()) == os.path.realpath(HERE)
    venv = os.path.join("" if here else HERE, ".venv", "bin")
    script = sys.argv[0] if sys.argv[0].endswith(".py") else "1-main.py"
    script = os.path.relpath(script) if here else os.path.abspath(script)
    made = "" if os.path.isdir(os.path.join(HERE, ".venv")) else (
        " (make run makes .venv)")
    return (f"error: {sys.executable} has no {' and '.join(packages)}: "
            f"run `{venv}/python {script}`, or `. {venv}/activate` then "
            f"`python3 {script}`{made}")


if missing := [package for module, package in PACKAGES.items()
               if importlib.util.find_spec(module) is None]:
    sys.exit(_without(missing))

import mysql.connector  # noqa: E402 (once the packages are known there)

import db  # noqa: E402
import loader  # noqa: E402
import table  # noqa: E402

# What the numbered scripts use besides the course's functions, made in
# db.py: the user dicts of raw rows, ages, argument checks, errors.
SetupError, as_users, check_int, close_quietly, to_age = (
    db.SetupError, db.as_users, db.check_int, db.close_quietly, db.to_age)
TABLE = table.CREATE  # the course's table, as the tests make it
USERS = "SELECT user_id, name, email, age FROM user_data"
AGES = "SELECT user_id, age FROM user_data"


def connect(database=True, **options):
    """Open a connection with the default settings; see ``db.connect``."""
    return db.connect(db.settings(), database, **options)


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
                       f"`{db.settings().database}` "
                       f"CHARACTER SET {db.CHARSET} COLLATE {db.COLLATION}")
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
    """Load the CSV file at path ``data`` into user_data; return the counts.

    The table is the one in ``connection``'s server and current
    database. The load opens a connection of its own to that server,
    with the default settings' user, password, time-outs and TLS. See
    loader.py.
    """
    host, port = db.server_of(connection)
    database = connection.database
    if not database:
        raise SetupError("insert_data: the connection has no database "
                         "selected: pass one from connect_to_prodev()")
    return loader.load(db.settings().replace(
        host=f"[{host}]" if ":" in host else host, port=port,
        database=database), data)


def stream_rows(sql, size=1000, key=None):
    """Yield the rows of ``sql`` in lists of at most ``size`` raw tuples.

    It uses the default settings. With a ``key``, the rows come in key
    order, and a stream that loses its server goes on from another one.
    See ``db.stream_rows``.
    """
    return db.stream_rows(db.settings(), sql, size, key)


def user_batches(size=1000):
    """Yield every user of user_data, in lists of at most ``size`` dicts.

    The users come in user_id order. They are read from the server
    only as they are used (see ``stream_rows``).

    >>> next(user_batches(2))  # doctest: +SKIP
    [{'user_id': '0025e5da-...', 'name': 'Regina Schinner-Kuhn', ...}, {...}]
    """
    yield from map(as_users, stream_rows(USERS, size, key="user_id"))


def age_batches(size=1000):
    """Yield every user's age, in lists of at most ``size`` ages.

    An age is an int when whole, else a ``Decimal``. The ages come in
    user_id order. So a stream that loses its server can go on from
    another one, after the last user it gave.
    """
    for rows in stream_rows(AGES, size, key="user_id"):
        yield [to_age(age) for _, age in rows]
        del rows  # let these rows go before the next ones are read


def fetch_users(sql, size):
    """Return the users that ``sql`` selects, at most ``size``, as dicts.

    ``sql`` selects ``user_id, name, email, age`` with ``LIMIT size``.
    The rows come in one read. If the server is lost before the read
    ends, the query starts again on the next server listed, if any.
    """
    return [user for rows in stream_rows(sql, size) for user in as_users(rows)]


def run(main):
    """Run a script's ``main()`` the way every script here should end.

    An expected failure prints one line on stderr (``failure``), with
    no traceback, and exits 1. A reader that stops early (``| head``)
    ends it quietly. Ctrl-C is left to ``_excepthook``.
    """
    try:
        main()
        sys.stdout.flush()
    except (SetupError, mysql.connector.Error) as err:
        print(failure(err), file=sys.stderr)
        sys.exit(1)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def failure(err):
    """Return the one line that says what went wrong, and what to do, for
    an expected failure (Ctrl-C too); None for any other error."""
    if isinstance(err, KeyboardInterrupt):
        return ("stopped (Ctrl-C): run it again to start over (a load "
                "stopped midway keeps none of its rows)")
    if isinstance(err, SetupError):
        return f"error: {err}"
    if isinstance(err, mysql.connector.Error):
        hint = db.hint(err)
        return (f"error: the database failed: {err}"
                + (f"; {hint}" if hint else ""))
    return None


def _excepthook(kind, err, traceback, previous=sys.excepthook):
    """Print ``failure``'s one line for an expected failure that nothing
    caught, as in the course's own main scripts, which import this
    module but call no ``run``; else what Python prints."""
    line = failure(err)
    if line is None:
        previous(kind, err, traceback)
    else:
        print(line, file=sys.stderr)


if sys.excepthook is sys.__excepthook__:  # not over another's own
    sys.excepthook = _excepthook


def main():
    """Create the database and table and load the CSV named on the line."""
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        HERE, "user_data.csv")
    loader.check_file(path)  # before the table's line: nothing is made
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
    run(main)
