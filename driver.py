#!/usr/bin/env python3
"""Every use of mysql-connector-python's internals, in one place.

The connector's public API builds a Python object per row and per value
and runs a Python loop per row; at a million rows that costs more than
the server takes to send them. With the connector's C extension this
module reads raw rows straight from its ``fetch_row``; without it, it
falls back to the public ``get_rows``, correct but slower. Strings are
escaped by the connector's own escaping, told the session's
``sql_mode`` (``escaped``), with either driver.

A driver upgrade that renames what is used here falls back in silence:
``fast(connection)`` says which path a connection takes, and
``tests/test_driver.py`` fails when it is not the fast one.
"""
from itertools import islice

from mysql.connector.conversion import MySQLConverter
from mysql.connector.errors import get_mysql_exception

try:  # the C extension's own error, raised by its fetch_row
    from _mysql_connector import MySQLInterfaceError as NativeError
except ImportError:  # pure Python only: nothing to translate
    NativeError = ()


def translated(err):
    """Return the C extension's error ``err`` as the connector's own."""
    return get_mysql_exception(err.errno, msg=err.msg, sqlstate=err.sqlstate)


def native(connection):
    """Return the C extension's handle of ``connection``, or None."""
    handle = getattr(connection, "_cmysql", None)
    needed = ("raw", "fetch_row")
    return handle if all(hasattr(handle, name) for name in needed) else None


def fast(connection):
    """Return True when ``connection`` reads the fast way."""
    return native(connection) is not None


def batches(connection, size):
    """Yield the pending result's rows in lists of at most ``size``.

    Values are ``bytes`` as the server sent them. An error from the C
    extension is raised as the connector's own (``mysql.connector.Error``).
    """
    handle = native(connection)
    if handle is None:  # the pure-Python driver
        while connection.unread_result:
            rows, _ = connection.get_rows(size, raw=True)
            if rows:
                yield rows
        return
    handle.raw(True)
    rows = iter(handle.fetch_row, None)
    try:
        yield from iter(lambda: list(islice(rows, size)), [])
    except NativeError as err:
        raise translated(err) from err
    connection.free_result()


def answers(connection):
    """Return True if the server of ``connection`` still answers it.

    It pings. The connector's own ``is_connected`` refuses to ask, with
    the C extension, once an error has ended a result ``batches`` read:
    the result stays marked unread.
    """
    handle = native(connection)
    if handle is None:
        return connection.is_connected()
    try:
        return bool(handle.ping())
    except NativeError:
        return False


def escaped(data, sql_mode):
    r"""Return ``data`` (``bytes``) escaped for a string literal in SQL.

    As the server expects in a session whose ``sql_mode`` is given: in
    ``NO_BACKSLASH_ESCAPES`` mode by doubling quotes and leaving
    backslashes alone, else with backslashes. It is the connector's own
    escaping, that its pure-Python driver gives bound parameters: it
    needs no connection, and one call escapes any amount (a few
    ``bytes.replace``). Byte by byte, right for UTF-8 (utf8mb4, the
    connections' character set): no byte of a multibyte character is a
    quote or a backslash. Newlines, returns and Ctrl-Z are escaped,
    other control characters left as they are: values the loader's
    rules let through hold none.

    >>> escaped(b"it's \\", ""), escaped(b"it's \\", "NO_BACKSLASH_ESCAPES")
    (b"it\\'s \\\\", b"it''s \\")
    """
    return MySQLConverter.escape(bytes(data), sql_mode)


def literal(data, sql_mode):
    """Return ``data`` (``bytes``) as a quoted SQL string literal.

    Escaped by ``escaped`` for a session in ``sql_mode``. A literal is
    "coercible": compared with a column, the column's collation wins,
    where a bound user variable's would clash with it.
    """
    return b"'" + escaped(data, sql_mode) + b"'"
