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
that says what to check; ``stream_rows`` streams a query's raw rows, and
``as_users`` and ``to_age`` make them the course's user dicts and ages.
This module imports only ``driver`` of the project's own.

Several servers (``MYSQL_HOST=a:3306,b:3306,c``: the nodes of a Galera
cluster, say) are tried in that order. A keyed stream that loses its
server goes on from the next live one, after the last key it yielded:
every row once, in key order, as if nothing had happened. On a MariaDB
Galera cluster it goes on once that node has what the first one had
when the stream began (see ``_read``, and docs/failover.md).
"""
import os
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache

import mysql.connector
from dotenv import load_dotenv

import driver

HERE = os.path.dirname(os.path.abspath(__file__))
ENV = os.path.join(HERE, ".env")
# The first line of a .env the project wrote, by what wrote it: the
# project-local server (make db-start) or cluster (make cluster).
MARKERS = {"# project-local server: written by scripts/localdb.py": "server",
           "# project-local cluster: written by scripts/cluster.py":
           "cluster"}
CHARSET, COLLATION = "utf8mb4", "utf8mb4_unicode_ci"
LONGEST = 31_536_000  # seconds: the server's own limit on its time-outs
# Errors that mean "this server is lost to us", not "this query is wrong":
# killed (1927, 2013), gone (2006, 2055), shutting down (1053), or a
# Galera node cut off from its cluster, answering everything with 1047.
LOST = {1047, 1053, 1927, 2006, 2013, 2055}
# "Query execution was interrupted": a KILL QUERY, but on MySQL 8 a KILL
# of the connection, or a shutdown, ends a running query with it too,
# then the connection (see ``_lost``).
INTERRUPTED = 1317
# Rounds of the server list a stream tries before it gives up: a cluster
# may stall for a while before it drops a frozen node (Galera: up to
# evs.inactive_timeout, 15 s), and each try waits up to the time-outs.
ROUNDS = 3
# A MariaDB GTID, domain-server-seqno, with something committed (seqno
# above 0): a server without Galera answers WSREP_LAST_SEEN_GTID() with
# 0-0-0, and nothing else is a position a resumed stream can wait for.
POSITION = re.compile(r"[0-9]+-[0-9]+-0*[1-9][0-9]*")
BEHIND = 1205  # WSREP_SYNC_WAIT_UPTO_GTID: not there by its time-out
NO_FUNCTION, NO_VARIABLE = 1305, 1193  # MySQL, Galera 3, no Galera


class SetupError(Exception):
    """A problem the user can fix; the message says what to check.

    ``failures``: the (server, error) pairs behind it, if any.
    """

    def __init__(self, message, failures=()):
        """Keep the message, and the failures behind it."""
        super().__init__(message)
        self.failures = list(failures)


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
        """Refuse a database name that could not be a plain identifier
        (it cannot be a bound parameter, so it is checked and quoted),
        and a server list that does not parse."""
        if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", self.database):
            raise SetupError(f"MYSQL_DATABASE={self.database!r} is not a "
                             "plain name: use 1 to 64 letters, digits or "
                             "underscores")
        self.servers  # parsed now: a bad entry raises SetupError here

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
    def servers(self):
        """Return the servers of ``host``, in order, as (host, port) pairs.

        ``host`` is one name or several, comma-separated, each ``host``
        or ``host:port`` (``[v6 address]:port`` too); ``port`` is the
        default port.

        >>> Settings(host="a,b:3307").servers
        (('a', 3306), ('b', 3307))
        """
        return tuple(_server(entry.strip(), self.port)
                     for entry in self.host.split(","))


def _server(entry, port):
    """Return ``(host, port)`` for ``host``, ``host:port`` or ``[v6]:port``."""
    match = re.fullmatch(
        r"(\[[0-9A-Fa-f:.]+\]|[^:\[\]\s,]+)(?::([0-9]{1,5}))?", entry)
    if not match or not 0 < int(match.group(2) or port) < 65536:
        raise SetupError(f"MYSQL_HOST: {entry!r} is not a host or host:port "
                         "(several are separated by commas)")
    return match.group(1).strip("[]"), int(match.group(2) or port)


def _name(server):
    """Return ``host:port`` for a ``(host, port)`` pair, as users write it."""
    host, port = server
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


_default = []  # the process's default Settings, once read
# Once the default settings are read here (not given by ``use``): the
# MYSQL_* variables the environment set then, which win over .env.
_environment = []


def settings():
    """Return the default settings, read once from the environment and .env.

    ``.env`` beside this file is read then, not at import; variables set
    in the environment win over it. A ``.env`` that cannot be read (one
    root wrote, say) raises ``SetupError`` saying what to do.
    """
    if not _default:
        given = {name: value for name, value in os.environ.items()
                 if name.startswith("MYSQL_")}  # before .env adds its own
        try:
            load_dotenv(ENV)
        except OSError as err:
            raise SetupError(
                f"cannot read {ENV}: {err.strerror}. Make it a file you "
                f"can read (sudo chown $USER {ENV}), or move it away "
                f"(sudo mv {ENV} {ENV}.old) and run make run") from None
        _environment.append(given)
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


def hint(err):
    """Say what to do after the connector's error ``err``, if it is one
    the user can fix by a setting; else return None."""
    code = getattr(err, "errno", None)
    if code == 1045:
        return _check("MYSQL_USER", "MYSQL_PASSWORD")
    if code in (1044, 1142):
        return ("the user has no rights on that database: "
                + _check("MYSQL_DATABASE") + ", and name ALX_prodev or a "
                "database whose name starts ALX_prodev_ (the project's "
                "server grants those alone), or grant the user rights")
    if code == 1049:
        return "the database does not exist yet: run ./seed.py (or make run)"
    if code == 2005:
        return "unknown host: " + _check("MYSQL_HOST")
    if code == 1047:
        return ("a Galera node cut off from its cluster: check that most of "
                "the cluster's nodes run (make cluster starts the local one)")
    if code == 2026:
        return ("TLS failed: " + _check("MYSQL_SSL_CA", "MYSQL_SSL_VERIFY")
                + " (MYSQL_SSL_CA: the CA that signed the server's "
                "certificate)")
    return None


def _advice(err):
    """Say what to check after ``err`` (never the password)."""
    return hint(err) or _not_answering()


def _not_answering():
    """Say what starts the server the settings name, as they came:
    from the environment, a .env the project wrote, one of the user's,
    or nowhere (the defaults)."""
    if _environment and not {"MYSQL_HOST", "MYSQL_PORT"} & set(
            _environment[0]):
        written_by = _written_by()
        if written_by == "server":
            return ("the project's server is not running: make db-start "
                    "starts it")
        if written_by == "cluster":
            return ("the project's cluster is not running: make cluster "
                    "starts it again (or make cluster-stop, then make run, "
                    "for the single local server)")
        if written_by == "user":
            return ("check that the server your .env names is running; "
                    "to use the project's own server instead, move your "
                    ".env away (mv .env .env.mine) and run make run")
        return "no .env names a server: make run starts the project's own"
    return ("is the server running and answering? "
            + _check("MYSQL_HOST", "MYSQL_PORT"))


def _written_by():
    """Return who wrote .env: "server" or "cluster" (the project's, by
    its marker line, ``MARKERS``), "user", or None if there is none."""
    try:
        with open(ENV, encoding="utf-8", errors="replace") as text:
            lines = text.read().splitlines()
    except OSError:
        return None
    return next((MARKERS[line] for line in lines if line in MARKERS), "user")


def _check(*names):
    """Return "check NAME and NAME in .env", or, for a variable the
    environment set (it wins over .env), where it came from, with its
    value (never the password's): "check MYSQL_HOST in .env, and
    MYSQL_PORT='3306', set in the environment, where it wins over .env".
    """
    environment = _environment[0] if _environment else {}
    given = [name if name == "MYSQL_PASSWORD" else
             f"{name}={environment[name]!r}"
             for name in names if name in environment]
    in_file = [name for name in names if name not in environment]
    return "check " + ", and ".join(
        ([" and ".join(in_file) + " in .env"] if in_file else [])
        + ([" and ".join(given) + ", set in the environment, where it wins "
            "over .env"] if given else []))


def _failed(conf, failures):
    """Return one line for ``failures``: (server, error) pairs, in order."""
    last = failures[-1][1]
    failures = list(dict(failures).items())  # each server once, its last
    if len(failures) == 1:
        (server, err), = failures
        return (f"cannot use MySQL at {_name(server)} as user "
                f"{conf.user!r}: {err.msg}; {_advice(err)}")
    reasons = ", ".join(f"{_name(server)} ({err.msg})"
                        for server, err in failures)
    return (f"cannot use MySQL at any of {reasons} as user {conf.user!r}; "
            f"{_advice(last)}")


def connect(conf, database=True, servers=None, failures=None, **options):
    """Open a connection with settings ``conf``, to its database or none.

    The servers (``conf.servers``, unless given) are tried in order; the
    connection is to the first that answers. Raise ``SetupError`` with
    one line naming each server, why it failed, and what to check. The
    servers that failed are added to ``failures``, if given, as (server,
    error) pairs. Extra ``options`` go to ``mysql.connector.connect``.
    """
    tls = {"ssl_ca": conf.ssl_ca, "ssl_verify_cert": conf.ssl_verify,
           "ssl_verify_identity": conf.ssl_verify}
    failures = [] if failures is None else failures
    for host, port in servers or conf.servers:
        try:
            connection = mysql.connector.connect(
                host=host, port=port, user=conf.user, password=conf.password,
                database=conf.database if database else None,
                charset=CHARSET, collation=COLLATION, autocommit=True,
                connection_timeout=conf.connect_timeout,
                read_timeout=conf.read_timeout,
                write_timeout=conf.read_timeout,
                **{key: value for key, value in tls.items() if value},
                **options)
        except mysql.connector.Error as err:
            failures.append(((host, port), err))
            continue
        if conf.ssl_ca and not conf.ssl_verify:
            _require_tls(connection, f"{_name((host, port))} as user "
                         f"{conf.user!r}")
        return connection
    raise SetupError(_failed(conf, failures), failures)


def _require_tls(connection, where):
    """Refuse an unencrypted connection when MYSQL_SSL_CA asks for TLS.

    Without verification the driver quietly goes on in plain text with
    a server that offers no TLS; with it, the driver refuses by itself.
    The connection is closed unless it is returned, whatever is raised.
    """
    cipher = None
    try:
        cursor = connection.cursor()
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        (_, cipher), = cursor.fetchall()
        cursor.close()
    finally:
        if not cipher:
            close_quietly(connection)
    if not cipher:
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


def fetched(connection, sql, args=()):
    """Run ``sql`` on ``connection``, with ``args`` bound; return all its
    rows."""
    cursor = connection.cursor()
    try:
        cursor.execute(sql, args)
        return cursor.fetchall()
    finally:
        cursor.close()


def server_of(connection):
    """Return the ``(host, port)`` a connection is to."""
    return connection.server_host, connection.server_port


def stream_rows(conf, sql, size=1000, key=None):
    """Yield the rows of ``sql`` in lists of at most ``size`` raw tuples.

    Values are ``bytes`` as the server sent them. Rows are read from the
    server only as they are consumed, on a connection of the stream's
    own. Closing the generator early cancels the query on the server and
    closes the connection at once; an error is raised, never turned into
    a shorter stream.

    With ``key`` (a column, the first one ``sql`` selects: ``sql`` is then
    ``SELECT ... FROM table``, without ``WHERE`` or ``ORDER BY``), rows
    come in key order, and with several servers a stream that loses its
    server (``_lost``) goes on from the next live one, after the last key
    it yielded. Without ``key``, it may start again elsewhere only if it
    had yielded nothing yet. With one server, the loss is raised.
    ``key`` goes into the SQL, so it must be a plain column name
    (``ValueError`` otherwise).
    """
    size = check_int(size, "size")
    if key is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}",
                                            key):
        raise ValueError(f"key must be a plain column name, not {key!r}")
    servers, after, failures, yielded = conf.servers, None, [], False
    position = []  # where the stream began, once known (see _read)
    while True:
        reading = _read(conf, servers, sql, key, size, after, position,
                        resumed=bool(failures))
        try:
            for batch in reading:
                yield batch
                failures, yielded = [], True
                if key:
                    after = bytes(batch[-1][0])
        except _Lost as lost:
            first = (failures or lost.failures)[0][0]  # where it was lost
            failures.extend(lost.failures)
            server, error = lost.failures[-1]
            if ((yielded and not key)
                    or len(failures) >= ROUNDS * len(conf.servers)):
                raise _gone(conf, failures) from error
            servers = _after(conf.servers, server, last=first)
            continue
        finally:
            reading.close()
        return


class _Lost(Exception):
    """A stream lost its server, or found none: (server, error) pairs."""

    def __init__(self, failures):
        """Remember which servers failed, and the connector's errors."""
        super().__init__(failures)
        self.failures = failures


def _gone(conf, failures):
    """Return the error to raise when no server is left to read from:
    the kind of the last error, naming each server and why."""
    last = failures[-1][1]
    return type(last)(msg=_failed(conf, failures), errno=last.errno)


def _after(servers, lost, last):
    """Return ``servers`` from the one after ``lost``, wrapping round, but
    with ``last`` (the server the stream was first lost on) at the end:
    a frozen server would cost the whole connect time-out each round.

    >>> _after(("a", "b", "c"), "b", last="a")
    ('c', 'b', 'a')
    """
    index = servers.index(lost) if lost in servers else -1
    turned = servers[index + 1:] + servers[:index + 1]
    return tuple(server for server in turned if server != last) + (
        (last,) if last in servers else ())


def _read(conf, servers, sql, key, size, after, position, resumed):
    """Yield the rows of ``sql`` from the first of ``servers`` that answers.

    With ``key``, in key order; with ``after`` too (a key's raw value),
    only the rows after it. ``after`` goes in as a string literal the
    driver escapes for the session's ``sql_mode``, so that the key
    column's own collation compares:
    a bound user variable would bring the connection's, and on a table
    of another collation fail with error 1267 (illegal mix).

    With several servers, the stream's first read records in
    ``position`` (a list, empty until then) where its server was before
    the query (``_position``); a resumed read first waits until its
    server has caught up with that (``_catch_up``), so that it sees all
    the first one had. A server lost (``_lost``, or none answering), or
    one that does not catch up within the read time-out (``BEHIND``),
    raises ``_Lost``.
    """
    failed = []
    try:
        connection = connect(conf, servers=servers, failures=failed)
    except SetupError:
        if len(conf.servers) == 1 or not resumed:
            raise
        raise _Lost(failed) from None
    server = server_of(connection)
    try:
        try:
            connection.cmd_query("SET SESSION net_write_timeout = "
                                 f"{conf.net_write_timeout:d}")
            if resumed and position:
                _catch_up(connection, position[0], conf.read_timeout)
            elif len(conf.servers) > 1 and not position:
                position.append(_position(connection))
            query = sql.encode()
            if after is not None:
                query += (f" WHERE {key} > ".encode()
                          + driver.literal(after, connection.sql_mode))
            if key:
                query += f" ORDER BY {key}".encode()
            connection.cmd_query(query)
            yield from driver.batches(connection, size)
        except mysql.connector.Error as err:
            if len(conf.servers) > 1 and (_lost(connection, err)
                                          or resumed and err.errno == BEHIND):
                raise _Lost(failed + [(server, err)]) from err
            raise
    except GeneratorExit:
        _cancel(conf, connection)
        raise
    finally:
        close_quietly(connection)


def _lost(connection, err):
    """Return True if ``err`` says the server of ``connection`` is lost.

    An error of ``LOST`` says so. ``INTERRUPTED`` does only if the
    connection is gone too: a query killed alone (KILL QUERY) leaves it
    answering, and the stream must raise that error; on MySQL 8 a
    killed connection or a server shutting down ends the query with
    the same error, then the connection, and the stream goes on
    elsewhere. A killed connection never takes another command, so the
    ping that asks cannot win a race against it.
    """
    if err.errno in LOST:
        return True
    return err.errno == INTERRUPTED and not driver.answers(connection)


def _position(connection):
    """Return where the server of ``connection`` is, or None if unknown.

    MariaDB 10.4 and later with Galera: ``WSREP_LAST_SEEN_GTID()``, the
    last transaction it committed (``0-1-12``). None on MySQL, Galera 3
    or Percona XtraDB Cluster, and without Galera (``0-0-0``); None too
    from a node that cannot now read causally (``wsrep_sync_wait`` on:
    error 1205, ``BEHIND``), as one cut off from its cluster, whose
    query then says what is wrong (error 1047).
    """
    try:
        (found,), = fetched(connection, "SELECT WSREP_LAST_SEEN_GTID()")
    except mysql.connector.Error as err:
        if err.errno not in (NO_FUNCTION, BEHIND):
            raise
        return None
    if isinstance(found, (bytes, bytearray)):
        found = found.decode("ascii", "replace")
    return found if POSITION.fullmatch(found or "") else None


def _catch_up(connection, position, seconds):
    """Wait until the server of ``connection`` has committed ``position``.

    ``WSREP_SYNC_WAIT_UPTO_GTID`` waits on the node alone, for the
    transactions it has yet to apply, with no round trip to the cluster:
    a cluster that has not yet dropped a lost node does not hold it up.
    Its limit is the read time-out less a second (at least one), so
    that the server's own "not yet" (error 1205, ``BEHIND``) comes
    before the socket's time-out. The session's own causal wait
    (``wsrep_sync_wait``, which would wait for the whole cluster) is
    turned off first. Without a position, or on a server without the
    function, ``wsrep_sync_wait = 1`` makes the query wait for the
    cluster instead; a server without that (MySQL) has nothing to
    catch up with.
    """
    limit = max(1, check_int(seconds, "seconds") - 1)
    if position is not None:
        try:
            connection.cmd_query("SET SESSION wsrep_sync_wait = 0")
            fetched(connection, "SELECT WSREP_SYNC_WAIT_UPTO_GTID"
                    f"(%s, {limit:d})", (position,))
            return
        except mysql.connector.Error as err:
            if err.errno == BEHIND:
                raise type(err)(msg=f"behind: not at the stream's position "
                                f"{position} after {limit} s",
                                errno=err.errno) from err
            if err.errno not in (NO_FUNCTION, NO_VARIABLE):
                raise
    try:
        connection.cmd_query("SET SESSION wsrep_sync_wait = 1")
    except mysql.connector.Error as err:
        if err.errno != NO_VARIABLE:
            raise


def _cancel(conf, connection):
    """Stop the query running on ``connection`` from a short second one.

    Otherwise the driver reads every remaining row before closing: if
    the query cannot be stopped, one line on stderr says so. The second
    connection goes to the same server: thread ids repeat across
    servers, and elsewhere it could kill a stranger's query.
    """
    if not connection.unread_result:
        return
    server = server_of(connection)
    try:
        killer = connect(conf, database=False, servers=[server])
    except SetupError as err:
        _not_cancelled(conf, server, err.failures[-1][1] if err.failures
                       else err)
        return
    try:
        killer.cmd_query(f"KILL QUERY {int(connection.connection_id):d}")
    except mysql.connector.Error as err:
        _not_cancelled(conf, server, err)
    finally:
        close_quietly(killer)


def _not_cancelled(conf, server, error):
    """Say on stderr that a closed stream's query could not be stopped."""
    print(f"warning: could not cancel a closed stream's query on "
          f"{_name(server)} ({error}); closing reads the rest of its "
          f"result first; check that user {conf.user!r} may open one more "
          "connection (max_user_connections) and KILL its own queries",
          file=sys.stderr)


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

    ``seed.user_batches`` calls this through ``map``. A comprehension with
    a dict display is the fastest way CPython has to build the dicts:
    about twice as fast as ``map(dict, zip(...))`` (measured on
    2026-12-07 with ``timeit``, 1,000 rows, median of 15).

    >>> as_users([(b"0a", b"Zo\\xc3\\xab", b"z@x.io", b"25.00")])
    [{'user_id': '0a', 'name': 'Zoë', 'email': 'z@x.io', 'age': 25}]
    """
    text, age = bytes.decode, to_age
    return [{"user_id": text(user_id), "name": text(name),
             "email": text(email), "age": age(raw)}
            for user_id, name, email, raw in rows]
