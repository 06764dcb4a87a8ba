#!/usr/bin/env python3
"""Load a users CSV into user_data: every record checked, none lost.

``seed.insert_data(connection, path)`` calls ``load(settings, path)``.
The pipeline:

1. ``records`` reads the CSV one record at a time (any column order, a
   byte-order mark and CRLF line ends are fine, extra columns ignored);
2. ``check`` turns each into a clean row, or into a reason to reject it;
3. clean rows go to a private file, rejects to ``<path>.rejects.csv``
   (its line, the record, the reason);
4. the file goes to the server in one transaction, by ``LOAD DATA LOCAL
   INFILE`` when the server allows it, else by multi-row ``INSERT``s.

Every record ends up loaded, already present (its ``user_id`` is in the
table: left untouched) or rejected. The server, not Python, finds ids
that are present or repeated, so memory stays flat in the file's size.
"""
import csv
import os
import re
import shutil
import sys
import tempfile
from collections import namedtuple
from hashlib import sha1
from concurrent.futures import ThreadPoolExecutor
from itertools import count, islice
from operator import itemgetter
from uuid import NAMESPACE_URL


import db

Counts = namedtuple("Counts", "loaded present rejected method")
REQUIRED = ("name", "email", "age")
BAD = r"\s\x00-\x1f\x7f"  # whitespace and control characters
EMAIL = re.compile(f"[^@{BAD}]+@[^@.{BAD}]+(?:\\.[^@.{BAD}]+)+")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
AGE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,2})?")  # fits DECIMAL(5,2), >= 0
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                  r"[0-9a-f]{12}")
LOAD = ("LOAD DATA LOCAL INFILE %s IGNORE INTO TABLE {table} CHARACTER SET "
        "utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '' "
        "LINES TERMINATED BY '\\n' ({columns})")
STAGING = """CREATE TEMPORARY TABLE load_staging (
    line BIGINT PRIMARY KEY, user_id CHAR(36) CHARACTER SET ascii NOT NULL,
    name VARCHAR(255) NOT NULL, email VARCHAR(255) NOT NULL,
    age DECIMAL(5,2) NOT NULL) DEFAULT CHARSET=utf8mb4"""
REPEATS = """SELECT s.line, s.user_id, s.name, s.email, s.age, d.first
    FROM (SELECT user_id, MIN(line) AS first FROM load_staging
          GROUP BY user_id HAVING COUNT(*) > 1) AS d
    JOIN load_staging AS s ON s.user_id = d.user_id AND s.line > d.first
    ORDER BY s.line"""
BATCH = 1000  # rows in one multi-row INSERT
CHUNK = 50000  # rows in one LOAD DATA file
MAILTO = NAMESPACE_URL.bytes + b"mailto:"
VARIANT = dict(zip("0123456789abcdef", "89ab" * 4))  # RFC 4122 bits 10xx


def user_id_for(email):
    """Return the id of a user without one: uuid5 of ``mailto:<email>``.

    The same as ``str(uuid.uuid5(uuid.NAMESPACE_URL, "mailto:" + email))``
    with the email trimmed and lower-cased, three times faster.

    >>> user_id_for("Ross.Reynolds21@hotmail.com")
    '98ed68d7-3fc0-55ca-bf0d-79b1332a8cf5'
    """
    digest = sha1(MAILTO + email.strip().lower().encode()).hexdigest()
    return (f"{digest[:8]}-{digest[8:12]}-5{digest[13:16]}-"
            f"{VARIANT[digest[16]]}{digest[17:20]}-{digest[20:32]}")


def records(path):
    """Yield ``(line, fields)`` for each CSV record after the header.

    The header comes first, as ``(1, names)``, lower-cased and trimmed.
    ``line`` is where the record starts (a quoted field may span lines).
    Raise ``SetupError`` for a file that cannot be read as UTF-8 text.
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as text:
            reader = csv.reader(text)
            line = 1
            for fields in reader:
                if fields:
                    yield line, fields
                line = reader.line_num + 1
    except UnicodeDecodeError:
        raise db.SetupError(f"{path}: line {first_bad_line(path)} is not "
                            "UTF-8 text: save the file as UTF-8 and load "
                            "it again") from None
    except csv.Error as err:
        if "NUL" in str(err):  # Python 3.10's csv cannot read a NUL byte
            raise db.SetupError(f"{path}: line {line} holds a NUL byte, "
                                "which Python 3.10 cannot read as CSV: "
                                "remove it, or load with Python 3.11+, "
                                "which rejects that record") from None
        raise db.SetupError(f"{path}: line {line}: {err}: is a quote "
                            "left open? fix that record and load the "
                            "file again") from None


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

    >>> check(["Zoë", " zoe@x.io ", "25.5"], 3, [None, 0, 1, 2])[1:]
    ('Zoë', 'zoe@x.io', '25.5')
    >>> check(["Zoë", "zoe@x.io", "1e3"], 3, [None, 0, 1, 2])
    "age '1e3' is not a number from 0 to 999.99 with at most 2 decimals"
    """
    if len(fields) != width:
        return f"has {len(fields)} fields, the header has {width}"
    at_id, at_name, at_email, at_age = where
    name, email = fields[at_name].strip(), fields[at_email].strip()
    age = fields[at_age].strip()
    if not name or len(name) > 255 or CONTROL.search(name):
        return f"name {name!r} is empty, too long or has control characters"
    if len(email) > 255 or not EMAIL.fullmatch(email):
        return f"email {email!r} is not a valid address"
    if not AGE.fullmatch(age):
        return (f"age {age!r} is not a number from 0 to 999.99 with at most "
                "2 decimals")
    if at_id is None:
        return user_id_for(email), name, email, age
    user_id = fields[at_id].strip().lower()
    if not UUID.fullmatch(user_id):
        return f"user_id {fields[at_id]!r} is not a UUID"
    return user_id, name, email, age


class Rejects:
    """The ``<path>.rejects.csv`` file, written only if something is."""

    def __init__(self, path):
        """Remove the rejects of an earlier load of ``path``."""
        self.path, self.count, self.file = path + ".rejects.csv", 0, None
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
    _, header = next(rows, (1, None))
    if header is None:
        raise db.SetupError(f"{path}: the file is empty: it needs a "
                            'header "name","email","age" and rows')
    header = [name.strip().lower() for name in header]
    return rows, len(header), layout(path, header)


def clean_rows(rows, width, where, rejects):
    """Yield ``(line, user_id, name, email, age)`` for each good record.

    Each bad one goes to ``rejects`` with its reason.
    """
    for line, fields in rows:
        row = check(fields, width, where)
        if isinstance(row, str):
            rejects.add(line, as_csv(fields), row)
        else:
            yield (line,) + row


def write_chunks(rows, folder):
    """Write ``rows`` to TSV files of ``CHUNK`` rows; yield (path, count).

    Each file is sorted by user_id: the server inserts a sorted run into
    the primary key faster than a random one. ``check`` lets no tab,
    newline or other control character through: no field needs quoting.
    """
    for number in count():
        chunk = sorted(islice(rows, CHUNK), key=itemgetter(1))
        if not chunk:
            return
        path = os.path.join(folder, "rows-%d.tsv" % number)
        with open(path, "w", encoding="utf-8", newline="") as out:
            out.writelines(map("%d\t%s\t%s\t%s\t%s\n".__mod__, chunk))
        size, chunk = len(chunk), None  # freed before the next is read
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


def put(cursor, table, clean, local):
    """Send the clean rows to ``table``, skipping ids it already has.

    Only the staging table keeps the line numbers. Return how many rows
    were inserted.
    """
    fields = ["line", "user_id", "name", "email", "age"]
    if table == "user_data":
        fields[0] = "@line"
    if local:
        cursor.execute(LOAD.format(table=table, columns=", ".join(fields)),
                       (clean,))
        return cursor.rowcount
    kept = [name for name in fields if name != "@line"]
    sql = (f"INSERT IGNORE INTO {table} ({', '.join(kept)}) "
           f"VALUES ({', '.join(['%s'] * len(kept))})")
    skip = len(fields) - len(kept)
    inserted = 0
    with open(clean, encoding="utf-8", newline="") as rows:
        reader = csv.reader(rows, delimiter="\t", quoting=csv.QUOTE_NONE)
        batches = iter(lambda: [row[skip:] for row in islice(reader, BATCH)],
                       [])
        for batch in batches:
            cursor.executemany(sql, batch)
            inserted += cursor.rowcount
    return inserted


def send(conf, chunks, folder, rejects):
    """Load the chunks of clean rows in one transaction: all, or none.

    Return ``(total, inserted, repeats, method)``. ``IGNORE`` keeps the
    row already in the table, or the first of the file's rows with an
    id, so the table is right after the first pass. When some rows were
    not inserted (their id is present, or repeated in the file), the
    rows go to a staging table as well, to find the repeats and their
    lines for the rejects file; the rest were already present.
    """
    connection = db.connect(conf, allow_local_infile_in_path=folder)
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT @@GLOBAL.local_infile")
        local = bool(cursor.fetchone()[0])
        connection.start_transaction()
        written, total, inserted, repeats = [], 0, 0, 0
        for path, rows in chunks:
            written.append(path)
            total += rows
            inserted += put(cursor, "user_data", path, local)
        if inserted < total:
            cursor.execute(STAGING)
            for path in written:
                put(cursor, "load_staging", path, local)
            cursor.execute(REPEATS)  # read row by row: never all at once
            for line, user_id, name, email, age, first in cursor:
                rejects.add(line, as_csv([user_id, name, email, str(age)]),
                            f"repeats the user_id of line {first}")
                repeats += 1
        connection.commit()
        cursor.close()
    finally:
        db.close_quietly(connection)
    method = "LOAD DATA LOCAL INFILE" if local else "multi-row INSERT"
    return total, inserted, repeats, method


def load(conf, path):
    """Load the CSV at ``path`` into user_data; report and return the counts.

    The load runs on a connection of its own, made with settings
    ``conf``, one that may read a single private folder
    holding nothing but the clean rows. The CSV is checked in a thread
    while the server loads the rows checked before. The one-line report
    goes to stderr, with the loader's notes: stdout stays the course's.
    """
    rows, width, where = read_header(path)
    rejects = Rejects(path)
    folder = tempfile.mkdtemp(prefix="user-data-load-")
    chunks = ahead(write_chunks(clean_rows(rows, width, where, rejects),
                                folder))
    done = False
    try:
        total, inserted, repeats, method = send(conf, chunks, folder,
                                                rejects)
        done = True
    finally:
        chunks.close()  # first, so that no thread writes in the folder
        rejects.close(keep=done)  # a failed load leaves no rejects file
        shutil.rmtree(folder)
    counts = Counts(inserted, total - inserted - repeats, rejects.count,
                    method)
    print(f"{path}: {counts.loaded} loaded, {counts.present} already "
          f"present, {counts.rejected} rejected"
          + (f" (see {rejects.path})" if counts.rejected else "")
          + ("; nothing changed" if not counts.loaded else ""),
          file=sys.stderr)
    return counts
