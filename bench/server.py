"""The benchmark's one door to the project's settings and connections.

Every use of the project's settings and connection API (and of the
``MYSQL_*`` environment variables) in bench/ is in the first three
functions here; the rest of bench/ goes through them:

- ``settings(database)``: the server's address and account, with
  ``database`` (for the command-line client, and for ``connect``);
- ``connect(database)``: a connection, to ``database`` or to none;
- ``environment(database)``: the environment of a case's subprocess, in
  which the course's modules and ``loader`` find the database to use.

The settings are ``db.settings()``, the project's default, read once;
each database gets a copy of it (``replace``).

The module also makes the project's modules importable: ``db``,
``seed``, and ``localdb`` for the project-local server's admin socket.
"""
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "scripts")]
db = __import__("db")
seed = __import__("seed")
localdb = __import__("localdb")

NONE = "ALX_prodev"  # a valid name to read settings by, with no database
GNU_TIME = "/usr/bin/time"


def settings(database):
    """Return the project's settings, for ``database`` (None: none).

    Read as attributes: ``host``, ``port``, ``user``, ``password``...
    """
    return db.settings().replace(database=database or NONE)


def connect(database):
    """Open a connection to ``database``, or to no database with None."""
    return db.connect(settings(database), database is not None)


def environment(database):
    """Return the environment of a subprocess that works on ``database``.

    The course's modules and ``loader`` open their own connections, on
    the database that ``MYSQL_DATABASE`` names.
    """
    return dict(os.environ, MYSQL_DATABASE=database)


def query(database, sql, args=()):
    """Run one statement on ``database`` (None: none); return its rows."""
    connection = connect(database)
    try:
        cursor = connection.cursor()
        cursor.execute(sql, args)
        rows = cursor.fetchall() if cursor.with_rows else []
        cursor.close()
        return rows
    finally:
        connection.close()


def describe():
    """Return the server's version and the driver's connection class."""
    connection = connect(None)
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT VERSION()")
        version = cursor.fetchone()[0]
        cursor.close()
        return version, type(connection).__name__
    finally:
        connection.close()


def client_command(sql, database, extra=()):
    """Return the argv and environment to run ``sql`` with the C client.

    The password goes in ``MYSQL_PWD``, never on the command line.
    """
    conf = settings(database)
    binary = shutil.which("mariadb") or shutil.which("mysql")
    argv = [binary, "--no-defaults", "--protocol=tcp", "-h", conf.host,
            "-P", str(conf.port), "-u", conf.user,
            "--default-character-set=utf8mb4", "--batch", "--quick",
            "--skip-column-names", *extra]
    if conf.ssl_ca:
        argv.append("--ssl-ca=" + conf.ssl_ca)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("MYSQL_")}
    env["MYSQL_PWD"] = conf.password
    return argv + ["-e", sql, database], env


def run_client(sql, database, extra=(), memory=None):
    """Run ``sql`` on ``database`` with the C client, output to /dev/null.

    With ``memory`` (a file name) and GNU time installed, the client runs
    under ``time -f %M``, which writes the client's own peak RSS there.
    """
    argv, env = client_command(sql, database, extra)
    if memory and os.path.exists(GNU_TIME):
        argv = [GNU_TIME, "-f", "%M", "-o", memory] + argv
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    if done.returncode:
        raise RuntimeError("mariadb client failed: " + done.stderr.strip())


def admin(sql):
    """Run ``sql`` as the project-local server's admin, over its socket."""
    return localdb.admin(localdb.DATA, sql)
