#!/usr/bin/env python3
"""A SQL shell on the scripts' server, and a way back to a clean table.

    scripts/sql.py shell    # make sql: the mariadb (or mysql) client
    scripts/sql.py reset    # make reset: drop user_data, keep the rest

Both use the scripts' own settings (the environment, then ``.env``: see
``db.settings``), on the first of ``MYSQL_HOST``'s servers that answers.
The client gets the user and password in an option file it reads from
a pipe (``--defaults-file=/dev/fd/N``): the password is in no file on
disk and on no command line, where any local user could read it.
``reset`` drops the table ``user_data`` alone: the next ``make run``
makes it again and loads the CSV; the environment, the server and its
other data stay (``make clean`` removes them all).
"""
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), HERE]
import db  # noqa: E402  (the project's, found above this folder)
import localdb  # noqa: E402

del sys.path[:2]


def option_file(conf, server, database, mariadb=True):
    """Return the client's option file text: ``conf`` at ``server``.

    ``database``, if given, is the one the client starts in. MySQL's
    client (not ``mariadb``) names the certificate check its own way.

    >>> from db import Settings
    >>> print(option_file(Settings(user="alx"), ("127.0.0.1", 3307), None))
    [client]
    protocol=tcp
    host=127.0.0.1
    port=3307
    user=alx
    password=
    <BLANKLINE>
    """
    host, port = server
    lines = ["[client]", "protocol=tcp", f"host={host}", f"port={port}",
             f"user={conf.user}", f"password={conf.password}"]
    if database:
        lines.append(f"database={database}")
    if conf.ssl_ca:
        lines.append(f"ssl-ca={conf.ssl_ca}")
    if conf.ssl_verify:
        lines.append("ssl-verify-server-cert" if mariadb
                     else "ssl-mode=VERIFY_IDENTITY")
    return "".join(line + "\n" for line in lines)


def shell_command():
    """Replace this process with the SQL client, logged in.

    It starts in the scripts' database if that exists (``make run``
    makes it), else in none.
    """
    conf = db.settings()
    client = shutil.which("mariadb") or shutil.which("mysql")
    if client is None:
        raise RuntimeError("no SQL client found: install one (sudo apt-get "
                           "install mariadb-client)")
    connection = db.connect(conf, database=False)
    try:
        server = db.server_of(connection)
        found = db.fetched(connection, "SELECT SCHEMA_NAME FROM "
                           "information_schema.SCHEMATA WHERE "
                           "SCHEMA_NAME = %s", (conf.database,))
    finally:
        connection.close()
    read, write = os.pipe()
    mariadb = os.path.basename(client) == "mariadb"
    os.write(write, option_file(conf, server, found and conf.database,
                                mariadb).encode())
    os.close(write)
    os.set_inheritable(read, True)
    print(f"{os.path.basename(client)} on {db._name(server)} as "
          f"{conf.user!r}" + (f", database {conf.database}" if found
                              else f" ({conf.database} is not made yet)")
          + "; quit with \\q", file=sys.stderr)
    os.execv(client, [client, f"--defaults-file=/dev/fd/{read}"])


def reset_command():
    """Drop the table user_data, if there is one; say what was done."""
    conf = db.settings()
    connection = db.connect(conf, database=False)
    try:
        where = f"{conf.database} at {db._name(db.server_of(connection))}"
        there = db.fetched(connection, "SELECT 1 FROM information_schema."
                           "TABLES WHERE TABLE_SCHEMA = %s AND "
                           "TABLE_NAME = 'user_data'", (conf.database,))
        if there:
            db.fetched(connection,
                       f"DROP TABLE `{conf.database}`.user_data")
    finally:
        connection.close()
    print(f"dropped the table user_data of {where}: make run makes and "
          "loads it again" if there
          else f"no table user_data in {where}: nothing to drop")


if __name__ == "__main__":
    try:
        localdb.command_line({"shell": shell_command,
                              "reset": reset_command})
    except db.SetupError as err:
        sys.exit(f"error: {err}")
