#!/usr/bin/env python3
"""Load a users CSV into user_data: every record checked, none lost.

``seed.insert_data(connection, path)`` calls ``load(settings, path)``.
The pipeline:

1. ``records`` reads the CSV a batch of records at a time (any column
   order, a byte-order mark and CRLF line ends are fine, extra columns
   ignored);
2. ``all_good`` checks a batch a column at a time, as ``check`` checks
   a record; a batch with a bad record is checked again in halves, down
   to ``check`` itself, which gives each bad record's reason: rejects go
   to ``<path>.rejects.csv`` (the line, the record, the reason);
3. clean rows go to private files of ``CHUNK`` rows at most, each
   sorted by id (``write_chunks``);
4. the files go to the server in one transaction, by ``LOAD DATA LOCAL
   INFILE`` when the server allows it, else by multi-row ``INSERT``s
   built from rows escaped by the driver's own ``escape_string``.

Steps 1 to 3 run in a thread, a chunk ahead of step 4. Every record ends
up loaded, already present (its ``user_id`` is in the table: left
untouched) or rejected. The server, not Python, finds ids that are
present or repeated, so memory stays flat in the file's size.
"""
import csv
import os
import re
import shutil
import sys
import tempfile
import time
from collections import namedtuple
from hashlib import sha1
from concurrent.futures import ThreadPoolExecutor
from itertools import count, islice, repeat
from operator import methodcaller
from uuid import NAMESPACE_URL

import db
import driver

Counts = namedtuple("Counts", "loaded present rejected method")
Method = namedtuple("Method", "local line quote run size rows")  # ``method``
REQUIRED = ("name", "email", "age")
CONTROLS = r"\x00-\x1f\x7f"  # control characters, for a [] class
BAD = r"\s" + CONTROLS  # whitespace and control characters
TRIM = methodcaller("strip", " ")  # only spaces: a control character rejects
EMAIL = re.compile(f"[^@{BAD}]+@[^@.{BAD}]+(?:\\.[^@.{BAD}]+)+")
CONTROL = re.compile(f"[{CONTROLS}]")
AGE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,2})?")  # fits DECIMAL(5,2), >= 0
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                  r"[0-9a-f]{12}")
LOAD = ("LOAD DATA LOCAL INFILE %s IGNORE INTO TABLE {table} CHARACTER SET "
        "utf8mb4 FIELDS TERMINATED BY X'09' ESCAPED BY '' "  # tab, newline:
        "LINES TERMINATED BY X'0A' ({columns})")  # as NO_BACKSLASH_ESCAPES
STAGING = """CREATE TEMPORARY TABLE load_staging (
    line BIGINT PRIMARY KEY, user_id CHAR(36) CHARACTER SET ascii NOT NULL,
    name VARCHAR(255) NOT NULL, email VARCHAR(255) NOT NULL,
    age DECIMAL(5,2) NOT NULL) DEFAULT CHARSET=utf8mb4"""
REPEATS = """SELECT s.line, d.first
    FROM (SELECT user_id, MIN(line) AS first FROM load_staging
          GROUP BY user_id HAVING COUNT(*) > 1) AS d
    JOIN load_staging AS s ON s.user_id = d.user_id AND s.line > d.first
    ORDER BY s.line"""
COLUMNS_NOW = """SELECT COLUMN_NAME, COLUMN_TYPE, DATA_TYPE,
        CHARACTER_MAXIMUM_LENGTH, CHARACTER_OCTET_LENGTH,
        NUMERIC_PRECISION - NUMERIC_SCALE, NUMERIC_SCALE, CHARACTER_SET_NAME,
        IS_NULLABLE = 'YES' OR COLUMN_DEFAULT IS NOT NULL
            OR EXTRA REGEXP 'auto_increment|GENERATED'
    FROM information_schema.COLUMNS
    WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'user_data'
    ORDER BY ORDINAL_POSITION"""
UNIQUE_KEYS = """SELECT k.INDEX_NAME,
        GROUP_CONCAT(k.COLUMN_NAME ORDER BY k.SEQ_IN_INDEX),
        MAX(k.SUB_PART IS NOT NULL)
    FROM information_schema.STATISTICS AS k
    JOIN information_schema.COLUMNS AS c ON c.TABLE_SCHEMA = k.TABLE_SCHEMA
        AND c.TABLE_NAME = k.TABLE_NAME AND c.COLUMN_NAME = k.COLUMN_NAME
    WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME = 'user_data'
        AND k.NON_UNIQUE = 0
    GROUP BY k.INDEX_NAME
    HAVING MAX(c.EXTRA LIKE '%auto_increment%') = 0
    ORDER BY k.INDEX_NAME"""  # a key with a new row's number never clashes
Column = namedtuple("Column", "type kind characters octets digits scale "
                    "charset free")  # a row of COLUMNS_NOW, but the name
TEXT = ("char", "varchar", "tinytext", "text", "mediumtext", "longtext")


def any_text(column):
    """Return True if ``column`` holds 255 characters of 4 bytes each."""
    return (column.kind in TEXT and column.characters >= 255
            and column.octets >= 4 * 255 and column.charset == "utf8mb4")


# What user_data needs to hold every value ``check`` lets through: for
# each column, a test of its ``Column``, what it needs, and a definition
# that has it. Any other column (None) gets no value from the loader.
NEEDS = {
    "user_id": (lambda column: column.kind in ("char", "varchar")
                and column.characters >= 36,
                "a CHAR or VARCHAR of 36 characters or more",
                "CHAR(36) NOT NULL"),
    "name": (any_text, "a VARCHAR(255) or longer in utf8mb4",
             "VARCHAR(255) CHARACTER SET utf8mb4 NOT NULL"),
    "email": (any_text, "a VARCHAR(255) or longer in utf8mb4",
              "VARCHAR(255) CHARACTER SET utf8mb4 NOT NULL"),
    "age": (lambda column: column.kind == "decimal" and column.digits >= 3
            and column.scale >= 2,
            "a DECIMAL with 3 digits before the point and 2 after, or more",
            "DECIMAL(5,2) NOT NULL"),
    None: (lambda column: column.free, "to be nullable or have a default",
           "{type} NULL"),
}
CHUNK = 50000  # rows in one LOAD DATA file, at most: the memory bound
FIRST = 5000  # rows in the first one: the server starts soon
STEP = 1000  # records read and checked at once
BATCH = 1000  # rows in one multi-row INSERT by parameter binding
STATEMENT = 1 << 20  # bytes of rows in one INSERT built by escaping
WIDEST = 4400  # bytes a row may take in an INSERT: two texts of 255
#               characters of 4 bytes, each byte escaped (4,080), and more
COLUMNS = ("user_id", "line", "name", "email", "age")  # a row's fields
LOCAL_LINE = b"\t%012d\t"  # a row's line number, for LOAD DATA
INSERT_LINE = b"\x02%012d\x03"  # for INSERTs: a comment, or a value
SEP = b"\x01"  # between values escaped together
SEPARATORS = b"\t\x01\x02\x03"  # what the rows' escaping leaves alone
PROBE = SEPARATORS + "'\"\\ é 😀 \\".encode()  # to compare two escapings
TABS = str.maketrans("\x02\x03", "\t\t")  # INSERT_LINE's separators
MAILTO = NAMESPACE_URL.bytes + b"mailto:"
TO_VARIANT = bytes.maketrans(b"0123456789abcdef",  # RFC 4122 bits 10xx
                             b"89ab" * 4)
DIGEST = type(sha1()).digest
# Where an id's characters come from in the hex of its sha1 (40 of them),
# and those that are the same in every id (5: the version).
FROM_HEX = list(zip([*range(8), *range(9, 13), *range(15, 18),
                     *range(20, 23), *range(24, 36)],
                    [*range(8), *range(8, 12), *range(13, 16),
                     *range(17, 20), *range(20, 32)]))
SAME = {8: b"-", 13: b"-", 14: b"5", 18: b"-", 23: b"-", 36: b"\n"}


def every(item):
    """Compile a pattern for values matching ``item``, joined by newlines.

    ``all_match`` tests a column at once with it.
    """
    return re.compile(f"(?:{item})(?:\n(?:{item}))*")


NAMES = every(f"[^{CONTROLS}]+")  # not empty, no control character
EMAILS, AGES, UUIDS = map(every, (EMAIL.pattern, AGE.pattern, UUID.pattern))


def user_id_for(email):
    """Return the id of a user without one: uuid5 of ``mailto:<email>``.

    The same as ``str(uuid.uuid5(uuid.NAMESPACE_URL, "mailto:" + email))``
    with the email lower-cased and the spaces around it trimmed (as
    ``TRIM`` does: only spaces), ``user_ids_for`` of one.

    >>> user_id_for("Ross.Reynolds21@hotmail.com")
    '98ed68d7-3fc0-55ca-bf0d-79b1332a8cf5'
    """
    return user_ids_for([email])[0]


def user_ids_for(emails):
    """Return the ids of ``emails``, as ``user_id_for`` each, in a list.

    Twice as fast on many: each email is hashed in turn, but the ids are
    laid out all at once, one column of characters at a time.

    >>> user_ids_for(["Ross.Reynolds21@hotmail.com", "a@b.co"])[0]
    '98ed68d7-3fc0-55ca-bf0d-79b1332a8cf5'
    """
    size = len(emails)
    hexes = b"".join(map(DIGEST, map(sha1, map(MAILTO.__add__, map(
        str.encode, map(str.lower, map(TRIM, emails))))))).hex()
    hexes, ids = hexes.encode(), bytearray(37 * size)
    for to, source in FROM_HEX:
        ids[to::37] = hexes[source::40]
    for to, same in SAME.items():
        ids[to::37] = same * size
    ids[19::37] = hexes[16::40].translate(TO_VARIANT)
    return ids[:-1].decode().split("\n") if size else []


def records(path):
    """Read the CSV at ``path``: its header, then its records in batches.

    A generator. It yields the header's fields first (None if the file
    holds no record); then, each time it is sent a number, at most that
    many records, as two lists: the line where each starts (a quoted
    field may span lines) and its fields. It stops after the last one.
    A blank line is no record. Raise ``SetupError`` for a file that
    cannot be read as UTF-8 text or as CSV.
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as text:
            reader = csv.reader(text)
            size = yield next(filter(None, reader), None)
            end = reader.line_num
            while batch := list(islice(reader, size)):
                lines = range(end + 1, reader.line_num + 1)
                if len(lines) != len(batch):  # a record spans lines
                    lines = starts(batch, end + 1)
                end = reader.line_num
                if [] in batch:  # blank lines, not records
                    kept = [pair for pair in zip(lines, batch) if pair[1]]
                    lines, batch = zip(*kept) if kept else ((), ())
                size = yield lines, batch
    except UnicodeDecodeError:
        raise db.SetupError(f"{path}: line {first_bad_line(path)} is not "
                            "UTF-8 text: save the file as UTF-8 and load "
                            "it again") from None
    except csv.Error as err:
        line = unreadable_line(path)
        if "NUL" in str(err):  # Python 3.10's csv cannot read a NUL byte
            raise db.SetupError(f"{path}: line {line} holds a NUL byte, "
                                "which Python 3.10 cannot read as CSV: "
                                "remove it, or load with Python 3.11+, "
                                "which rejects that record") from None
        raise db.SetupError(f"{path}: line {line}: {err}: is a quote "
                            "left open? fix that record and load the "
                            "file again") from None


def each_record(path):
    """Yield each record of the CSV at ``path`` with its line.

    ``records`` reads them, ``STEP`` at a time: the lines are its own.
    """
    rows = records(path)
    try:
        next(rows)
        while True:
            try:
                lines, batch = rows.send(STEP)
            except StopIteration:
                return
            yield from zip(lines, batch)
    finally:
        rows.close()


def starts(batch, line):
    """Return the line where each record of ``batch`` starts.

    The first starts at ``line``; each takes one line more than the
    line breaks its fields hold (``\\n``, ``\\r\\n`` or ``\\r``, as
    ``csv.reader`` and ``newline=""`` count them).
    """
    lines = []
    for fields in batch:
        lines.append(line)
        line += 1 + sum(field.count("\n") + field.count("\r")
                        - field.count("\r\n") for field in fields)
    return lines


def unreadable_line(path):
    """Return the line where the record ``csv`` cannot read starts.

    The file is read again, record by record, up to that one.
    """
    with open(path, encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text)
        line = 1
        try:
            for _ in reader:
                line = reader.line_num + 1
        except csv.Error:
            pass
    return line


def first_bad_line(path):
    """Return the number of the first line of ``path`` that is not UTF-8."""
    with open(path, "rb") as raw:
        for number, line in enumerate(raw, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return number


def layout(path, header):
    """Return the positions of the columns used; say if some are ignored."""
    used = REQUIRED + ("user_id",)
    missing = [name for name in REQUIRED if name not in header]
    if missing or any(header.count(name) > 1 for name in used):
        raise db.SetupError(
            f"{path}: the header {','.join(header)!r} needs the columns "
            "name, email and age (and optionally user_id), each once: is "
            "the first line a header?")
    extra = [name for name in header if name not in used]
    if extra:  # quoted: a column may have no name
        print(f"note: {path}: ignoring the column(s) "
              f"{', '.join(map(repr, extra))}", file=sys.stderr)
    return [header.index(name) if name in header else None
            for name in ("user_id",) + REQUIRED]


def check(fields, width, where):
    """Return a clean ``(user_id, name, email, age)`` or a reason (str).

    Spaces around a value are trimmed (``TRIM``), nothing else: a tab
    or another control character there rejects the record.

    >>> check(["Zoë", " zoe@x.io ", "25.5"], 3, [None, 0, 1, 2])[1:]
    ('Zoë', 'zoe@x.io', '25.5')
    >>> check(["Zoë", "zoe@x.io", "1e3"], 3, [None, 0, 1, 2])
    "age '1e3' is not a number from 0 to 999.99 with at most 2 decimals"
    """
    if len(fields) != width:
        return f"has {len(fields)} fields, the header has {width}"
    at_id = where[0]
    name, email, age = (TRIM(fields[at]) for at in where[1:])
    if not name or len(name) > 255 or CONTROL.search(name):
        return f"name {name!r} is empty, too long or has control characters"
    if len(email) > 255 or not EMAIL.fullmatch(email):
        return f"email {email!r} is not a valid address"
    if not AGE.fullmatch(age):
        return (f"age {age!r} is not a number from 0 to 999.99 with at most "
                "2 decimals")
    if at_id is None:
        return user_id_for(email), name, email, age
    user_id = TRIM(fields[at_id]).lower()
    if not UUID.fullmatch(user_id):
        return f"user_id {fields[at_id]!r} is not a UUID"
    return user_id, name, email, age


class Rejects:
    """The ``<path>.rejects.csv`` file, written only if something is.

    Each reject is the record as the CSV at ``path`` (``source``) has
    it, whatever the reason, so that the file can be fixed and loaded.
    """

    def __init__(self, path):
        """Remove the rejects of an earlier load of ``path``."""
        self.source, self.path = path, path + ".rejects.csv"
        self.count, self.file = 0, None
        if os.path.lexists(self.path):
            self._guard(os.remove, self.path)

    def add(self, line, record, reason):
        """Write one rejected record: its line, the record, the reason."""
        if self.file is None:
            self.file = self._guard(open, self.path, "w", encoding="utf-8",
                                    newline="")
            self.writer = csv.writer(self.file)
            self.writer.writerow(["line", "record", "reason"])
        self.writer.writerow([line, record, reason])
        self.count += 1

    def add_repeats(self, repeats):
        """Write the records that repeat an id; return how many there are.

        ``repeats`` gives ``(line, first)`` pairs by line: the line of a
        record and that of the first with its id. Each record is read
        again from the CSV, by ``records`` as before, so that it is the
        file's own; the file is in line order too, so one pass finds
        them all, a batch of records in memory at a time.
        """
        done, numbered = 0, each_record(self.source)
        try:
            for line, first in repeats:
                number, fields = next(
                    (pair for pair in numbered if pair[0] >= line), (0, []))
                if number != line:
                    raise db.SetupError(
                        f"{self.source}: line {line} is not where a record "
                        "starts any more: was the file changed while it "
                        "was loaded? load it again")
                self.add(line, as_csv(fields),
                         f"repeats the user_id of line {first}")
                done += 1
        finally:
            numbered.close()
        return done

    def close(self, keep=True):
        """Close the file, if there is one; remove it unless ``keep``."""
        if self.file is not None:
            self.file.close()
            if not keep:
                os.remove(self.path)

    def _guard(self, action, *args, **options):
        """Run a file ``action``; say what to do if the system refuses."""
        try:
            return action(*args, **options)
        except OSError as err:
            raise db.SetupError(
                f"{self.path}: cannot write the rejects file here "
                f"({err.strerror}): load a copy of the CSV from a folder "
                "you can write to") from None


def as_csv(fields):
    """Return ``fields`` as one CSV line, to quote a record as it was."""
    return ",".join('"%s"' % field.replace('"', '""') for field in fields)


def read_header(path):
    """Open the CSV at ``path``; return its records and the column layout.

    Raise ``SetupError`` at once for a missing or empty file or a header
    without the needed columns, before anything is sent to the server.
    """
    if not os.path.isfile(path):
        raise db.SetupError(f"{path}: no such file: name a CSV file with "
                            'the header "name","email","age"')
    rows = records(path)
    try:
        header = next(rows)
        if header is None:
            raise db.SetupError(f"{path}: the file is empty: it needs a "
                                'header "name","email","age" and rows')
        header = [TRIM(name).lower() for name in header]
        return rows, len(header), layout(path, header)
    except BaseException:
        rows.close()  # and its file
        raise


def all_match(pattern, values):
    """Return True if each of ``values`` matches ``pattern`` (``every``).

    A value holding a newline could pass for two: the count catches it.
    """
    text = "\n".join(values)
    return (text.count("\n") == len(values) - 1
            and pattern.fullmatch(text) is not None)


def all_good(how, lines, batch, width, where):
    """Return the records of ``batch`` as rows if all are good, else None.

    Good as ``check`` says, but a column at a time: each of its tests
    runs once on the whole column (``all_match``), and ids are made
    together (``user_ids_for``). Rows are made by ``as_rows``, as
    ``how`` (the ``Method``) says.
    """
    if len(set(map(len, batch))) != 1 or len(batch[0]) != width:
        return None
    columns = list(zip(*batch))
    at_id = where[0]
    names, emails, ages = (list(map(TRIM, columns[at]))
                           for at in where[1:])
    if (max(map(len, names)) > 255 or max(map(len, emails)) > 255
            or not all_match(NAMES, names) or not all_match(EMAILS, emails)
            or not all_match(AGES, ages)):
        return None
    if at_id is None:
        ids = user_ids_for(emails)
    else:
        ids = list(map(str.lower, map(TRIM, columns[at_id])))
        if not all_match(UUIDS, ids):
            return None
    return as_rows(how, ids, lines, names, emails, ages)


def as_rows(how, ids, lines, names, emails, ages):
    """Return the rows of a chunk file, in bytes, each ending in a newline.

    The values are in ``COLUMNS`` order: the line number as ``how.line``
    writes it, with what is around it, tabs between the others. It has
    12 digits or more, so that sorting the rows sorts them by id, then
    by line. Names and emails are escaped with ``how.quote``, if any;
    ids (hex digits and dashes), line numbers and ages (decimals) need
    no escaping.
    """
    quote = how.quote
    return list(map(b"".join, zip(
        as_bytes(ids), map(how.line.__mod__, lines), as_bytes(names, quote),
        repeat(b"\t"), as_bytes(emails, quote), repeat(b"\t"),
        as_bytes(ages), repeat(b"\n"))))


def as_bytes(values, quote=None):
    """Return the strings ``values`` in UTF-8, escaped by ``quote`` if any.

    All are encoded and escaped together, as one string (``SEP`` between
    them, which no value holds and the escaping leaves as it is).
    """
    data = SEP.decode().join(values).encode()
    return (quote(data)[1:-1] if quote else data).split(SEP)


def sift(how, lines, batch, width, where, rejects):
    """Return the good records of ``batch`` as rows; reject the others.

    A batch that is not all good is halved, and the halves checked
    again, down to a few records, each checked by ``check``: a bad one
    goes to ``rejects`` with its line and reason. ``how`` is the
    ``Method`` (``as_rows``).
    """
    rows = all_good(how, lines, batch, width, where) if batch else []
    if rows is not None:
        return rows
    if len(batch) > 8:
        half = len(batch) // 2
        return (sift(how, lines[:half], batch[:half], width, where, rejects)
                + sift(how, lines[half:], batch[half:], width, where,
                       rejects))
    rows = []
    for number, fields in zip(lines, batch):
        row = check(fields, width, where)
        if isinstance(row, str):
            rejects.add(number, as_csv(fields), row)
        else:
            rows += as_rows(how, row[:1], [number], *zip(row[1:]))
    return rows


def write_chunks(rows, width, where, rejects, folder, how):
    """Write the good records to files of rows; yield each one's path and size.

    ``rows`` is what ``read_header`` returns; ``how``, the ``Method``
    (``method``). The first file holds ``FIRST`` rows, so that the
    server starts soon, the others ``CHUNK`` (the last, what is left).
    Each is sorted by user_id, then line (the file's first record of an
    id stays first): the server inserts a sorted run into the primary
    key faster than a random one. A row is a line of the file, its
    values separated by tabs, but the line number (``how.line``).
    ``check`` lets no control character through: no value holds a
    separator. With ``how.quote``, names and emails are escaped.

    It gives up the GIL often (``time.sleep(0)``: ``os.sched_yield`` is
    no good, the thread takes the GIL back at once), and never holds it
    long: the thread that sends the rows, back from the server, takes
    it at once, not after the switch interval (5 ms) while the server
    waits.
    """
    for number in count():
        size, chunk = min(FIRST, CHUNK) if number == 0 else CHUNK, []
        while len(chunk) < size:
            try:
                lines, batch = rows.send(min(STEP, size - len(chunk)))
            except StopIteration:
                break
            chunk += sift(how, lines, batch, width, where, rejects)
            time.sleep(0)  # gives up the GIL (see above)
        if not chunk:
            return
        chunk.sort()
        path = os.path.join(folder, "rows-%d.tsv" % number)
        with open(path, "wb") as out:  # in pieces: no copy of the chunk
            for start in range(0, len(chunk), STEP):
                out.write(b"".join(chunk[start:start + STEP]))
        size, chunk = len(chunk), None  # freed before the next is read
        time.sleep(0)
        yield path, size


def ahead(iterator):
    """Yield the items of ``iterator``, each made while the last is used.

    A thread makes the next item (here: checks the next chunk of the CSV)
    while the caller uses this one (the server loads it). An error in the
    thread is raised here.
    """
    with ThreadPoolExecutor(1) as pool:
        upcoming = pool.submit(next, iterator, None)
        while True:
            item = upcoming.result()
            if item is None:
                return
            upcoming = pool.submit(next, iterator, None)
            yield item


def check_table(cursor):
    """Refuse a user_data that cannot hold every value ``check`` allows.

    It may be a table made elsewhere, of another shape (``CREATE TABLE
    IF NOT EXISTS`` keeps it). Its columns (``NEEDS``) and unique keys
    are read from information_schema, before anything is sent: user_id
    alone must be a unique key (the server finds the ids present by
    it), and no other (it would skip a row with a new id). Raise
    ``SetupError`` naming the column, what it is, what it needs and the
    ``ALTER TABLE`` that gives it.
    """
    cursor.execute(COLUMNS_NOW)
    columns = {name: Column(*rest) for name, *rest in cursor.fetchall()}
    if not columns:
        raise db.SetupError("there is no table user_data in this database: "
                            "create it (./seed.py, or seed.create_table)")
    again = "or drop the table and run ./seed.py again"
    others = [name for name in columns if name not in NEEDS]
    for name in [*NEEDS][:-1] + others:
        fits, needs, definition = NEEDS.get(name, NEEDS[None])
        column = columns.get(name)
        if column is None:
            raise db.SetupError(
                f"user_data has no column {name}, but needs {needs}: ALTER "
                f"TABLE user_data ADD {name} {definition}, {again}")
        if not fits(column):
            raise db.SetupError(
                f"user_data.{name} is {column.type}"
                + (f" CHARACTER SET {column.charset}" if column.charset
                   else "")
                + (" NOT NULL without a default" if name in others else "")
                + f", but needs {needs}: ALTER TABLE user_data MODIFY "
                f"{name} {definition.format(type=column.type)}, {again}")
    cursor.execute(UNIQUE_KEYS)
    keys = cursor.fetchall()
    others = [(key, on) for key, on, prefix in keys
              if on != "user_id" or prefix]
    if len(others) == len(keys):
        raise db.SetupError(
            "user_data.user_id is not a unique key, but needs to be the "
            "PRIMARY KEY (the loader finds the ids present by it): ALTER "
            f"TABLE user_data ADD PRIMARY KEY (user_id), {again}")
    if others:
        (key, on), *_ = others
        raise db.SetupError(
            f"user_data has the unique key `{key}` on ({on}), but user_id "
            "needs to be the only one (a row with a new user_id could be "
            f"skipped as present): ALTER TABLE user_data DROP INDEX "
            f"`{key}`, {again}")


def put(cursor, table, clean, size, how):
    """Send the ``size`` rows of the file ``clean`` to ``table``, skipping
    ids it has.

    ``how`` is the ``Method``. Where the server allows ``LOCAL INFILE``
    it reads the file itself; else multi-row ``INSERT``s carry the rows:
    built from the file, escaped already (``values``), or, without the
    C extension, by the driver's parameter binding. Only the staging
    table keeps the line numbers. Each statement must warn of nothing
    but the ids it skipped (``confirmed``). Return how many rows were
    inserted.
    """
    line = table == "load_staging"
    columns = COLUMNS if line else COLUMNS[:1] + COLUMNS[2:]
    if how.local:
        cursor.execute(LOAD.format(table=table, columns=", ".join(
            COLUMNS if line else columns[:1] + ("@line",) + columns[1:])),
            (clean,))
        return confirmed(cursor, size, cursor.rowcount,
                         cursor.warning_count)
    sql = f"INSERT IGNORE INTO {table} ({', '.join(columns)}) VALUES "
    total = 0
    with open(clean, "rb") as source:
        if how.quote:
            for rows in blocks(source, how.size):
                done = how.run(sql.encode() + values(rows, line))
                total += confirmed(cursor, rows.count(b"\n"),
                                   done["affected_rows"],
                                   done["warning_count"])
            return total
        sql += f"({', '.join(['%s'] * len(columns))})"
        for rows in iter(lambda: list(islice(source, how.rows)), []):
            rows = b"".join(rows).decode().translate(TABS).split("\n")
            cursor.executemany(sql, [
                fields if line else fields[:1] + fields[2:]
                for fields in map(methodcaller("split", "\t"), rows[:-1])])
            total += confirmed(cursor, len(rows) - 1, cursor.rowcount,
                               cursor.warning_count)
    return total


def confirmed(cursor, sent, affected, warnings):
    """Return ``affected``, the rows a statement inserted of ``sent``, if
    it warned of nothing else than the ids it skipped; else fail the load.

    ``IGNORE`` skips a row whose id the table has, with one warning
    (1062, duplicate entry) each. It also turns what would be an error
    into a warning, and goes on: a value cut short, a character the
    column cannot hold. Such a warning makes the count larger than the
    rows skipped. The error quotes the first warning that is not 1062
    (``SHOW WARNINGS`` keeps the first ``max_error_count`` only).
    """
    if warnings == sent - affected:
        return affected
    cursor.execute("SHOW WARNINGS")
    said = next((f"{message} ({level} {code})" for level, code, message
                 in cursor.fetchall() if code != 1062),
                f"{warnings} warnings for {sent - affected} rows skipped")
    raise db.SetupError(f"user_data did not take the rows as they were "
                        f"sent: {said}; nothing was loaded, the table was "
                        "left as it was: check its columns and triggers "
                        "(SHOW CREATE TABLE user_data)")


def blocks(source, size):
    """Yield the rows of the file ``source`` in blocks of whole rows.

    A block is ``size`` bytes and the rest of the row they end in.
    """
    while block := source.read(size):
        yield block + source.readline()


def values(rows, line):
    """Return escaped ``rows`` of a chunk file as an INSERT's VALUES.

    Their names and emails are escaped already (``as_rows``): each of
    the rows' separators becomes the end of a string literal and the
    start of the next. The line number is a value of its own if
    ``line``, else a comment.
    """
    return b"('" + rows[:-1].replace(b"\t", b"','").replace(
        b"\x02", b"','" if line else b"'/*").replace(
        b"\x03", b"','" if line else b"*/,'").replace(b"\n", b"'),('") + b"')"


def method(connection, escaper, local, packet):
    """Return how rows go to the server of ``connection``: a ``Method``.

    - ``local``: the server allows ``LOCAL INFILE``; ``LOAD DATA`` reads
      the chunk files.
    - Else multi-row ``INSERT``s, sent by ``run``. With the C extension
      the check thread escapes the rows with ``quote``, the driver's own
      escaping, on ``escaper``: a connection of its own, as a connection
      may not serve two threads at once; used only if it escapes as
      ``connection`` does and leaves the separators alone. An INSERT
      then holds about ``size`` bytes of rows, a quarter of the server's
      largest packet (``packet`` bytes) at most. Without it, parameter
      binding, ``rows`` rows an INSERT.

    ``line`` is how the rows give their line number (``as_rows``).
    """
    rows = max(1, min(BATCH, packet // 2 // WIDEST))
    size = max(4096, min(STATEMENT, packet // 4))
    if local:
        return Method(True, LOCAL_LINE, None, None, size, rows)
    mine = driver.quoter(connection)
    quote = escaper and driver.quoter(escaper)
    if quote and not (quote(PROBE) == mine(PROBE)
                      and quote(SEPARATORS) == b"'" + SEPARATORS + b"'"):
        quote = None
    return Method(False, INSERT_LINE, quote, connection.cmd_query, size,
                  rows)


def send(conf, make, folder, rejects):
    """Load the chunks of clean rows in one transaction: all, or none.

    ``make(how)`` returns the chunks (``write_chunks``), once ``how``
    is known (``method``). Return ``(total, inserted, repeats,
    method)``. ``IGNORE`` keeps the row already in the table, or the
    first of the file's rows with an id, so the table is right after
    the first pass. When some rows were not inserted (their id is
    present, or repeated in the file), the rows go to a staging table
    as well, to find the repeats and their lines for the rejects file;
    the rest were already present.
    """
    connection = db.connect(conf, allow_local_infile_in_path=folder)
    escaper = None
    try:
        cursor = connection.cursor()
        check_table(cursor)
        cursor.execute("SELECT @@GLOBAL.local_infile, "
                       "@@SESSION.max_allowed_packet")
        local, packet = cursor.fetchone()
        if not local and driver.fast(connection):
            try:  # the check thread's own, to the same server
                escaper = db.connect(conf,
                                     servers=[db.server_of(connection)])
            except db.SetupError:  # then by parameter binding
                pass
        how = method(connection, escaper, local, packet)
        chunks = ahead(make(how))
        try:
            connection.start_transaction()
            written, total, inserted, repeats = [], 0, 0, 0
            for path, rows in chunks:
                written.append((path, rows))
                total += rows
                inserted += put(cursor, "user_data", path, rows, how)
        finally:
            chunks.close()  # first, so that no thread writes or escapes
        if inserted < total:
            cursor.execute(STAGING)
            for path, rows in written:
                put(cursor, "load_staging", path, rows, how)
            cursor.execute(REPEATS)  # read row by row: never all at once
            repeats = rejects.add_repeats(cursor)
        connection.commit()
        cursor.close()
    finally:
        if escaper is not None:
            db.close_quietly(escaper)
        db.close_quietly(connection)
    name = "LOAD DATA LOCAL INFILE" if how.local else "multi-row INSERT"
    return total, inserted, repeats, name


def load(conf, path):
    """Load the CSV at ``path`` into user_data; report and return the counts.

    The load runs on a connection of its own, made with settings
    ``conf``, one that may read a single private folder
    holding nothing but the clean rows. The CSV is checked in a thread
    while the server loads the rows checked before. The one-line report
    goes to stderr, with the loader's notes: stdout stays the course's.
    """
    rejects = Rejects(path)  # before the CSV is opened: it may raise
    rows, width, where = read_header(path)
    folder = tempfile.mkdtemp(prefix="user-data-load-")
    done = False
    try:
        total, inserted, repeats, name = send(
            conf, lambda how: write_chunks(rows, width, where, rejects,
                                           folder, how), folder, rejects)
        done = True
    finally:
        rows.close()
        rejects.close(keep=done)  # a failed load leaves no rejects file
        shutil.rmtree(folder)
    counts = Counts(inserted, total - inserted - repeats, rejects.count,
                    name)
    print(f"{path}: {counts.loaded} loaded, {counts.present} already "
          f"present, {counts.rejected} rejected"
          + (f" (see {rejects.path})" if counts.rejected else "")
          + ("; nothing changed" if not counts.loaded else ""),
          file=sys.stderr)
    return counts
