#!/usr/bin/env python3
"""Settings, connections and row streams: the layer under everything else.

``Settings`` is one immutable value: where the server is, who to log in
as, which database, the time-outs and TLS. ``Settings.from_env()`` reads
it from environment variables (see ``.env.example``); ``settings()`` is
the process's default one, read once, at first use, from the environment
and ``.env`` beside this file (the environment wins). Everything that
connects takes a ``Settings``; the course's no-argument functions in
``seed.py`` use the default one, and tests and the benchmark build their
own (``use`` makes one the default for a while).

``connect`` opens a connection or raises ``SetupError`` with one line
that says what to check; ``stream_rows`` streams a query's raw rows. This
module imports only ``driver`` of the project's own.
"""
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import mysql.connector
from dotenv import load_dotenv

import driver

HERE = os.path.dirname(os.path.abspath(__file__))
CHARSET, COLLATION = "utf8mb4", "utf8mb4_unicode_ci"
LONGEST = 31_536_000  # seconds: the server's own limit on its time-outs


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


def _whole(environ, name, default, largest=LONGEST):
    """Read a whole number from 1 to ``largest`` from variable ``name``."""
    raw = environ.get(name) or str(default)
    if not re.fullmatch(r"[0-9]{1,9}", raw) or not 1 <= int(raw) <= largest:
        raise SetupError(f"{name}={raw!r} in the environment or .env must be "
                         f"a whole number from 1 to {largest}")
    return int(raw)


@dataclass(frozen=True)
class Settings:
    """Where and how to connect; immutable (``replace`` makes a changed copy).

    >>> Settings(database="ALX_prodev_test").port
    3306
    """

    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "root"
    password: str = field(default="", repr=False)
    database: str = "ALX_prodev"
    connect_timeout: int = 10
    read_timeout: int = 300
    net_write_timeout: int = 3600
    ssl_ca: str | None = None
    ssl_verify: bool = False

    def __post_init__(self):
        """Refuse a database name that could not be a plain identifier.

        It cannot be a bound parameter, so it is checked and quoted.
        """
        if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", self.database):
            raise SetupError(f"MYSQL_DATABASE={self.database!r} is not a "
                             "plain name: use 1 to 64 letters, digits or "
                             "underscores")

    @classmethod
    def from_env(cls, environ=os.environ):
        """Read the MYSQL_* variables of ``environ``; unset ones default.

        >>> Settings.from_env({"MYSQL_PORT": "3307"}).port
        3307
        """
        return cls(
            host=environ.get("MYSQL_HOST") or cls.host,
            port=_whole(environ, "MYSQL_PORT", cls.port, 65535),
            user=environ.get("MYSQL_USER") or cls.user,
            password=environ.get("MYSQL_PASSWORD") or "",
            database=environ.get("MYSQL_DATABASE") or cls.database,
            connect_timeout=_whole(environ, "MYSQL_CONNECT_TIMEOUT",
                                   cls.connect_timeout),
            read_timeout=_whole(environ, "MYSQL_READ_TIMEOUT",
                                cls.read_timeout),
            net_write_timeout=_whole(environ, "MYSQL_NET_WRITE_TIMEOUT",
                                     cls.net_write_timeout),
            ssl_ca=environ.get("MYSQL_SSL_CA") or None,
            ssl_verify=environ.get("MYSQL_SSL_VERIFY", "").lower()
            in ("1", "true", "yes"))

    def replace(self, **changes):
        """Return a copy with ``changes``, checked like the original."""
        return replace(self, **changes)

    @property
    def where(self):
        """Say where and as whom, for messages (never the password)."""
        return f"{self.host}:{self.port} as user {self.user!r}"


_default = []  # the process's default Settings, once read


def settings():
    """Return the default settings, read once from the environment and .env.

    ``.env`` beside this file is read then, not at import; variables set
    in the environment win over it.
    """
    if not _default:
        load_dotenv(os.path.join(HERE, ".env"))
        _default.append(Settings.from_env(os.environ))
    return _default[-1]


@contextmanager
def use(chosen):
    """Make ``chosen`` the default settings until the block ends.

    >>> with use(settings().replace(database="ALX_prodev_t1")):
    ...     pass  # doctest: +SKIP
    """
    _default.append(chosen)
    try:
        yield chosen
    finally:  # this very value, wherever it is now (equal ones may stay)
        del _default[max(index for index, value in enumerate(_default)
                         if value is chosen)]


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


def connect(conf, database=True, **options):
    """Open a connection with settings ``conf``, to its database or none.

    Raise ``SetupError`` with one line naming host, port and user and
    what to check. Extra ``options`` go to ``mysql.connector.connect``.
    """
    tls = {"ssl_ca": conf.ssl_ca, "ssl_verify_cert": conf.ssl_verify,
           "ssl_verify_identity": conf.ssl_verify}
    try:
        connection = mysql.connector.connect(
            host=conf.host, port=conf.port, user=conf.user,
            password=conf.password,
            database=conf.database if database else None,
            charset=CHARSET, collation=COLLATION, autocommit=True,
            connection_timeout=conf.connect_timeout,
            read_timeout=conf.read_timeout, write_timeout=conf.read_timeout,
            **{key: value for key, value in tls.items() if value},
            **options)
    except mysql.connector.Error as err:
        raise SetupError(_advice(err, conf.where)) from None
    if conf.ssl_ca and not conf.ssl_verify:
        _require_tls(connection, conf.where)
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


def close_quietly(connection):
    """Close ``connection``; a broken one has nothing left to close."""
    try:
        connection.close()
    except mysql.connector.Error:
        pass


def stream_rows(conf, sql, size=1000):
    """Yield the rows of ``sql`` in lists of at most ``size`` raw tuples.

    Values are ``bytes`` as the server sent them. Rows are read from the
    server only as they are consumed, on a connection of the stream's
    own. Closing the generator early cancels the query on the server and
    closes the connection at once; an error is raised, never turned into
    a shorter stream.
    """
    size = check_int(size, "size")
    connection = connect(conf)
    try:
        connection.cmd_query("SET SESSION net_write_timeout = "
                             f"{conf.net_write_timeout:d}")
        connection.cmd_query(sql)
        yield from driver.batches(connection, size)
    except GeneratorExit:
        _cancel(conf, connection)
        raise
    finally:
        close_quietly(connection)


def _cancel(conf, connection):
    """Stop the query running on ``connection`` from a short second one.

    Otherwise the driver would read every remaining row before closing.
    """
    if not connection.unread_result:
        return
    try:
        killer = connect(conf, database=False)
    except SetupError:
        return
    try:
        killer.cmd_query(f"KILL QUERY {int(connection.connection_id):d}")
    except mysql.connector.Error:
        pass
    finally:
        close_quietly(killer)
