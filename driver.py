#!/usr/bin/env python3
"""Every use of mysql-connector-python's internals, in one place.

The connector's public API builds a Python object per row and per value
and runs a Python loop per row; at a million rows that costs more than
the server takes to send them. With the connector's C extension this
module reads raw rows straight from its ``fetch_row`` and escapes values
with its ``escape_string`` (which knows the connection's character set
and ``NO_BACKSLASH_ESCAPES``); without it, it falls back to the public
``get_rows`` and to parameter binding, correct but slower.

A driver upgrade that renames what is used here falls back in silence:
``fast(connection)`` says which path a connection takes, and
``tests/test_driver.py`` fails when it is not the fast one.
"""
from itertools import islice

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
    needed = ("raw", "fetch_row", "escape_string")
    return handle if all(hasattr(handle, name) for name in needed) else None


def fast(connection):
    """Return True when ``connection`` reads and escapes the fast way."""
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


def quoter(connection):
    """Return a function that makes ``bytes`` a quoted SQL string literal.

    It escapes with the C extension's ``escape_string``, as the server
    of ``connection`` expects: for its character set, and, in
    ``NO_BACKSLASH_ESCAPES`` mode, by doubling quotes and leaving
    backslashes alone. One call escapes any amount at C speed. An error
    of the C extension (the connection is gone) is raised as the
    connector's own. None without the C extension.

    >>> quoter(connection)(b"O'Brien")  # doctest: +SKIP
    b"'O\\\\'Brien'"
    """
    handle = native(connection)
    if handle is None:
        return None
    escape = handle.escape_string

    def quote(data):
        """Return ``data`` escaped, between single quotes."""
        try:
            return b"'" + escape(data) + b"'"
        except NativeError as err:
            raise translated(err) from err
    return quote


def literal(connection, data):
    """Return ``data`` (``bytes``) as a quoted SQL string literal.

    Escaped as the server of ``connection`` expects, for its character
    set and its session's ``NO_BACKSLASH_ESCAPES``: by ``quoter`` with
    the C extension, else as the pure-Python connector escapes bound
    parameters (its converter, told the session's ``sql_mode``). A
    literal is "coercible": compared with a column, the column's
    collation wins, where a bound user variable's would clash with it.
    """
    quote = quoter(connection)
    if quote is not None:
        return quote(data)
    escaped = connection.converter.escape(bytes(data), connection.sql_mode)
    return b"'" + escaped + b"'"
