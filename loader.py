#!/usr/bin/env python3
"""Load a users CSV into user_data: every record checked, none lost.

``seed.insert_data(connection, path)`` calls ``load(settings, path)``.
The load goes in six steps, and this file reads in the same order, top
to bottom:

1. read the CSV, a batch of records at a time (``read_header``,
   ``read_csv``). The columns may come in any order; extra columns
   are ignored. A byte-order mark and CRLF line ends are fine.
2. check the records against ``RULES``, one rule a field. A rule
   checks a whole column of a batch at once; a batch with a bad
   record is checked again in halves, down to a few records, each
   checked alone, so that each reject gets its reason
   (``checked_rows``). Rejects go to
   ``<path>.rejects.csv``: the line, the record, the reason.
3. write the clean rows to private chunk files, each sorted by id
   (``write_chunks``).
4. send them to the server in one transaction (``send``). The server
   reads them by ``LOAD DATA LOCAL INFILE`` when it allows that. Else
   they go by multi-row ``INSERT``s, escaped by the connector's own
   escaping for the session's ``sql_mode``.
5. if some rows were not inserted, find those that repeat an earlier
   row's id, by merging the sorted chunk files (``reject_repeats``).
   This happens before the commit.
6. report: one line on stderr, and the ``Counts``.

Steps 1 to 3 run in a thread, as far ahead of step 4 as they can
(``made_ahead``). While the server waits for a chunk, the chunks are
short, so that both cores stay busy to the end. On a terminal, a bar
shows the rows sent and the records read meanwhile, then the commit
(``Progress``), and gives way to the report.

Every record ends up loaded, already present or rejected. Already
present means its ``user_id`` is in the table; that row is left as it
is. The server finds the ids that are present. The merge holds one row
of each chunk file in memory. So memory stays flat, whatever the
file's size.
"""
import contextlib
import csv
import heapq
import os
import queue
import re
import shutil
import sys
import tempfile
import threading
import time
from collections import namedtuple
from hashlib import sha1
from itertools import count, islice, repeat
from operator import methodcaller
from uuid import NAMESPACE_URL

import mysql.connector

import db
import driver
import table

Counts = namedtuple("Counts", "loaded present rejected method")
# Rows in one chunk file, at most: the memory bound. Keep it below
# 65,536: a statement's warning count is 16 bits on the wire, so a
# chunk of 100,000 rows already present reports 65,535 warnings, and
# ``confirmed`` fails the load (seen on 2026-12-07, re-seeding 1M rows).
CHUNK_ROWS = 50000
FIRST_CHUNK_ROWS = 5000  # rows in the first one, and in any the server
#                          waits for: it starts soon, and ends soon after
#                          the file is read
CHECK_ROWS = 1000  # records read and checked at once
INSERT_BYTES = 1 << 20  # bytes of rows in one INSERT, at most


def load(conf, path):
    """Load the CSV at ``path`` into user_data; report and return the counts.

    The load runs on a connection of its own, made with settings
    ``conf``, one that may read a single private folder holding nothing
    but the chunk files. The one-line report goes to stderr, with the
    loader's notes and, on a terminal, the progress (``Progress``):
    stdout stays the course's.
    """
    rejects = Rejects(path)  # before the CSV is opened: it may raise
    progress, done = Progress(path), False
    with contextlib.ExitStack() as cleanup:  # in reverse, on every path
        # a failed load leaves no rejects file; the bar gives way to the
        # report
        cleanup.callback(lambda: rejects.close(keep=done))
        cleanup.callback(progress.close)
        records, layout = read_header(path, progress)
        cleanup.callback(records.close)
        rejects.key = "user_id" if "user_id" in layout.at else "email"
        folder = tempfile.mkdtemp(prefix="user-data-load-")
        cleanup.callback(shutil.rmtree, folder)
        total, inserted, repeats, method = send(
            conf, folder, lambda method, wanted: write_chunks(
                records, layout, method, rejects, folder, wanted), rejects,
            progress)
        done = True
    counts = Counts(inserted, total - inserted - repeats, rejects.count,
                    method.name)
    print(f"{path}: {counts.loaded} loaded, {counts.present} already "
          f"present, {counts.rejected} rejected"
          + (f" (see {rejects.path})" if counts.rejected else "")
          + ("; nothing changed" if not counts.loaded else ""),
          file=sys.stderr)
    return counts


# 1. Read the CSV ---------------------------------------------------------

# Where each field is in a record: ``at`` maps a field's name to its
# column; ``width`` is the number of columns.
Layout = namedtuple("Layout", "width at")
REQUIRED = ("name", "email", "age")
TRIM = methodcaller("strip", " ")  # only spaces: a control character rejects


def read_header(path, progress=None):
    """Open the CSV at ``path``; return its records and their ``Layout``.

    The records are ``read_csv``'s, past the header, counted by
    ``progress``. Raise ``SetupError`` at once for a missing or empty
    file or a header without the needed columns, before anything is
    sent to the server.
    """
    check_file(path)
    records = read_csv(path, progress)
    try:
        header = next(records)
        if header is None:
            raise db.SetupError(f"{path}: the file is empty: it needs a "
                                'header "name","email","age" and rows')
        return records, layout_of(path, [TRIM(name).lower()
                                         for name in header])
    except BaseException:
        records.close()  # and its file
        raise


def check_file(path):
    """Raise ``SetupError`` unless ``path`` names a file; say where it
    looked, and what to do.

    A relative path is looked for in the current folder: run from
    another one, a main that loads ``user_data.csv`` is told to run from
    the project's folder, where that file is.
    """
    if os.path.isfile(path):
        return
    if os.path.isdir(path):
        raise db.SetupError(f"{path} is a folder, not a file: name a CSV "
                            'file with the header "name","email","age"')
    where, beside = os.path.abspath(path), os.path.join(db.HERE, path)
    if not os.path.isabs(path) and os.path.isfile(beside):
        raise db.SetupError(f"{path}: no such file at {where}: run the "
                            f"script from {db.HERE}, where {path} is")
    raise db.SetupError(f"{path}: no such file at {where}: name a CSV file "
                        'with the header "name","email","age"')


def read_csv(path, progress=None):
    """Read the CSV at ``path``: its header, then its records in batches.

    A generator. It yields the header's fields first (None if the file
    holds no record); then, each time it is sent a number, at most that
    many records, as two lists: the line where each starts (a quoted
    field may span lines) and its fields. It stops after the last one.
    A blank line is no record. Each batch is counted by ``progress``,
    if given, with the bytes of the file read so far (a ``Progress``).
    Raise ``SetupError`` for a file that cannot be read as UTF-8 text
    or as CSV.
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
                if progress:
                    progress.read(len(batch), text.buffer.tell())
                size = yield lines, batch
            if progress:
                progress.finished()
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


def tqdm_on_terminal():
    """Return tqdm's progress bar class if stderr is a terminal, else None.

    None, too, without tqdm: it is optional (requirements.txt), and
    imported here only, once stderr is found to be a terminal.
    """
    if not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


class Progress:
    """A CSV's rows sent to the server so far, shown on a terminal alone.

    A bar on stderr (``tqdm_on_terminal``): the share of the file's
    records sent to the server, the rows sent, the records read (ahead
    of them: the chunks made ahead wait on disk), the rate and the time
    left. The total
    is the records the whole file holds, at the bytes per record of
    those read so far (no first pass counts them), exact once the file
    is read. Once every row is sent, the bar says "committing" until
    the report takes its place: 100% means the rows are in the table.
    The bar is drawn once the first records are read, past the header's
    checks, and erased by ``close``.

    The thread that reads calls ``read`` and ``finished``; the one that
    sends, ``sent`` and ``committing``, and only it changes the count.
    """

    FORMAT = ("{desc}: {percentage:3.0f}%|{bar}| {n:,} rows sent"
              "{postfix}, {rate_fmt}, {remaining} left")
    EVERY = 0.1  # seconds between two bars drawn as the records are read

    def __init__(self, path):
        """Show the load of the CSV at ``path``, if on a terminal."""
        self.path, self.tqdm, self.bar = path, tqdm_on_terminal(), None
        self.records, self.drawn = 0, 0.0

    def read(self, records, position):
        """Count ``records`` more, read up to byte ``position`` of the file.

        The total is the records the whole file holds at the rate of
        those read so far.
        """
        if self.tqdm is None:
            return
        if self.bar is None:
            self.size = os.path.getsize(self.path)
            self.bar = self.tqdm(total=1, desc=os.path.basename(self.path),
                                 bar_format=self.FORMAT,
                                 unit=" rows", unit_scale=True,
                                 dynamic_ncols=True, leave=False,
                                 file=sys.stderr)
        self.records += records
        self.bar.total = max(1, round(self.records * self.size
                                      / max(1, position)))
        self._say(f"{self.records:,} read", now=False)

    def finished(self):
        """Make the total exact: the file is read to its end."""
        if self.bar is not None:
            self.bar.total = max(1, self.records)
            self._say(f"{self.records:,} read")

    def sent(self, rows):
        """Count ``rows`` more sent to the server."""
        if self.bar is not None:
            self.bar.update(rows)
            self.bar.refresh()

    def committing(self):
        """Show that every row is sent, and the commit is on its way."""
        if self.bar is not None:
            self.bar.total = max(1, self.bar.n)  # the rest were rejected
            self._say(f"{self.records:,} read, committing")

    def close(self):
        """Erase the bar, if one was drawn."""
        if self.bar is not None:
            self.bar.close()

    def _say(self, postfix, now=True):
        """Show ``postfix`` after the rows sent: at once if ``now``, else
        if the bar was last drawn ``EVERY`` seconds ago or more."""
        self.bar.set_postfix_str(postfix, refresh=False)
        if now or time.monotonic() - self.drawn >= self.EVERY:
            self.drawn = time.monotonic()
            self.bar.refresh()


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


def layout_of(path, header):
    """Return the ``Layout`` of the fields used; say if some are ignored."""
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
    return Layout(len(header), {name: header.index(name) for name in used
                                if name in header})


def each_record(path):
    """Yield each record of the CSV at ``path`` with its line.

    ``read_csv`` reads them, ``CHECK_ROWS`` at a time: the lines are its
    own.
    """
    records = read_csv(path)
    try:
        next(records)
        while True:
            try:
                lines, batch = records.send(CHECK_ROWS)
            except StopIteration:
                return
            yield from zip(lines, batch)
    finally:
        records.close()


# 2. Check the records ----------------------------------------------------

class Rule:
    """What a field's value must be, once trimmed of spaces, and why.

    One pattern and one length check both a single value (``fits``)
    and a whole column at once (``all_fit``): a rule changed here
    changes both.
    """

    def __init__(self, field, pattern, longest, reason):
        """Compile ``pattern`` for one value and for values joined by
        newlines; ``longest`` is the most characters a value may have."""
        self.field, self.longest, self.reason = field, longest, reason
        self.one = re.compile(pattern)
        self.column = re.compile(f"(?:{pattern})(?:\n(?:{pattern}))*")

    def fits(self, value):
        """Return True if ``value`` keeps the rule."""
        return (len(value) <= self.longest
                and self.one.fullmatch(value) is not None)

    def all_fit(self, values):
        """Return True if each of ``values`` keeps the rule.

        The pattern runs once, on the values joined by newlines; a value
        holding a newline could pass for two: the count catches it.
        """
        text = "\n".join(values)
        return (max(map(len, values)) <= self.longest
                and text.count("\n") == len(values) - 1
                and self.column.fullmatch(text) is not None)


CONTROLS = r"\x00-\x1f\x7f"  # control characters, for a [] class
NOT_IN_EMAIL = r"@\s" + CONTROLS  # nor whitespace, nor a second @
# The rules, in the order a record is checked. Every value they let
# through fits its column, and holds no tab, newline or other control
# character: the chunk files' separators.
RULES = (
    Rule("name", f"[^{CONTROLS}]+", 255,
         "is empty, too long or has control characters"),
    Rule("email", f"[^{NOT_IN_EMAIL}]+@[^.{NOT_IN_EMAIL}]+"
         f"(?:\\.[^.{NOT_IN_EMAIL}]+)+", 255, "is not a valid address"),
    Rule("age", r"[0-9]{1,3}(?:\.[0-9]{1,2})?", 6,  # fits DECIMAL(5,2)
         "is not a number from 0 to 999.99 with at most 2 decimals"),
    Rule("user_id", r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
         r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", 36, "is not a UUID"),
)


def check(fields, layout):
    """Return a clean ``(user_id, name, email, age)`` or a reason (str).

    Spaces around a value are trimmed (``TRIM``), nothing else: a tab
    or another control character there rejects the record. The reason
    is that of the first rule a value breaks.

    >>> at = Layout(3, {"name": 0, "email": 1, "age": 2})
    >>> check(["Zoë", " zoe@x.io ", "25.5"], at)[1:]
    ('Zoë', 'zoe@x.io', '25.5')
    >>> check(["Zoë", "zoe@x.io", "1e3"], at)
    "age '1e3' is not a number from 0 to 999.99 with at most 2 decimals"
    """
    if len(fields) != layout.width:
        return f"has {len(fields)} fields, the header has {layout.width}"
    values = {}
    for rule in RULES:
        if rule.field in layout.at:
            value = values[rule.field] = TRIM(fields[layout.at[rule.field]])
            if not rule.fits(value):
                return f"{rule.field} {value!r} {rule.reason}"
    user_id = values.get("user_id")
    return (user_id.lower() if user_id else user_id_for(values["email"]),
            values["name"], values["email"], values["age"])


def check_batch(lines, batch, layout, method):
    """Return the records of ``batch`` as rows if all are good, else None.

    Good as ``check`` says, by the same ``RULES``, but a column at a
    time (``Rule.all_fit``); ids are made together (``user_ids_for``).
    Rows are made by ``as_rows``, as ``method`` says.
    """
    if len(set(map(len, batch))) != 1 or len(batch[0]) != layout.width:
        return None
    columns = list(zip(*batch))
    values = {}
    for rule in RULES:
        if rule.field in layout.at:
            values[rule.field] = column = trimmed(
                columns[layout.at[rule.field]])
            if not rule.all_fit(column):
                return None
    ids = values.get("user_id")
    ids = list(map(str.lower, ids)) if ids else user_ids_for(values["email"])
    return as_rows(method, lines, ids, values["name"], values["email"],
                   values["age"])


def trimmed(values):
    """Return ``values`` each trimmed of spaces (``TRIM``).

    If none has a space at either end, the usual case, ``values``
    itself: one search of them joined finds that, in a third of the
    time trimming each takes.

    >>> trimmed(("a", " b ")), trimmed(("a", "b c"))
    (['a', 'b'], ('a', 'b c'))
    """
    text = "\t".join(values)  # a tab beside a space: maybe one at an end
    if text[:1] == " " or text[-1:] == " " or " \t" in text \
            or "\t " in text:
        return list(map(TRIM, values))
    return values


def checked_rows(lines, batch, layout, method, rejects):
    """Return the good records of ``batch`` as rows; reject the others.

    A batch that is not all good (``check_batch``) is halved, and the
    halves checked again, down to a few records, each checked by
    ``check``: a bad one goes to ``rejects`` with its line and reason.
    """
    rows = check_batch(lines, batch, layout, method) if batch else []
    if rows is not None:
        return rows
    if len(batch) > 8:
        half = len(batch) // 2
        return (checked_rows(lines[:half], batch[:half], layout, method,
                             rejects)
                + checked_rows(lines[half:], batch[half:], layout, method,
                               rejects))
    rows = []
    for line, fields in zip(lines, batch):
        row = check(fields, layout)
        if isinstance(row, str):
            rejects.add(line, as_csv(fields), row)
        else:
            rows += as_rows(method, [line], *zip(row))
    return rows


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

    Faster on many: each email is hashed in turn, but the ids are laid
    out all at once, one column of characters at a time (``uuid.uuid5``
    for each makes a load 1.6 times as long: docs/loading.md).

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


class Rejects:
    """The ``<path>.rejects.csv`` file, written only if something is.

    Each reject is the record as the CSV at ``path`` (``source``) has
    it, whatever the reason, so that the file can be fixed and loaded.
    A repeat is said to repeat the ``key`` of an earlier record: its
    ``user_id``, or, in a CSV without that column, its ``email`` (of
    which the id is made).
    """

    def __init__(self, path):
        """Remove the rejects of an earlier load of ``path``."""
        self.source, self.path = path, path + ".rejects.csv"
        self.count, self.file, self.key = 0, None, "user_id"
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
        again from the CSV, by ``read_csv`` as before, so that it is the
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
                         f"repeats the {self.key} of line {first}")
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


# 3. Write the clean rows to chunk files ----------------------------------

# How the rows of a chunk file go to the server (``choose_method``): its
# ``name`` as the Counts say it, whether by LOAD DATA LOCAL INFILE, the
# session's ``sql_mode`` (how strings are escaped), and the bytes of rows
# an INSERT holds at most.
Method = namedtuple("Method", "name local_infile sql_mode insert_bytes")
# A row's line number in a chunk file, which names a repeat
# (``repeats_by_id``). LOAD DATA reads it into a variable; an INSERT
# makes it a comment (``as_values``).
LINE_FIELD = {True: b"\t%012d\t", False: b"\x02%012d\x03"}


def write_chunks(records, layout, method, rejects, folder, wanted):
    """Write the good records to chunk files; yield each one's path and rows.

    ``records`` and ``layout`` are what ``read_header`` returns. A file
    holds ``CHUNK_ROWS`` rows (the last, what is left), or, when the
    server waits for rows (the event ``wanted`` is set), as soon as it
    holds ``FIRST_CHUNK_ROWS``: the first one, so that the server
    starts soon, and the last ones, so that it ends soon after the
    file is read. Each is sorted by user_id, then line (the file's
    first record of an id stays first): the server inserts a sorted
    run into the primary key faster than a random one. A row is a line
    of the file, its values separated by tabs (``as_rows``).

    It gives up the GIL often (``time.sleep(0)``: ``os.sched_yield`` is
    no good, the thread takes the GIL back at once), and never holds it
    long: the thread that sends the rows, back from the server, takes
    it at once, not after the switch interval (5 ms) while the server
    waits.
    """
    for number in count():
        chunk = []
        while len(chunk) < CHUNK_ROWS and not (
                len(chunk) >= FIRST_CHUNK_ROWS and wanted.is_set()):
            try:
                lines, batch = records.send(min(CHECK_ROWS,
                                                CHUNK_ROWS - len(chunk)))
            except StopIteration:
                break
            chunk += checked_rows(lines, batch, layout, method, rejects)
            time.sleep(0)  # gives up the GIL (see above)
        if not chunk:
            return
        chunk.sort()
        path = os.path.join(folder, "rows-%d.tsv" % number)
        with open(path, "wb") as out:  # in pieces: no copy of the chunk
            for start in range(0, len(chunk), CHECK_ROWS):
                out.write(b"".join(chunk[start:start + CHECK_ROWS]))
        size, chunk = len(chunk), None  # freed before the next is read
        time.sleep(0)
        yield path, size


def as_rows(method, lines, ids, names, emails, ages):
    """Return the rows of a chunk file, in bytes, each ending in a newline.

    The values in the order of ``COLUMNS``, tabs between them but
    around the line number (``LINE_FIELD``). It has 12 digits or more,
    so that sorting the rows sorts them by id, then by line. For an
    INSERT (not ``method.local_infile``), names and emails are escaped
    for ``method.sql_mode``; ids (hex digits and dashes), line numbers
    and ages (decimals) need no escaping.
    """
    sql_mode = None if method.local_infile else method.sql_mode
    return list(map(b"".join, zip(
        as_bytes(ids), map(LINE_FIELD[method.local_infile].__mod__, lines),
        as_bytes(names, sql_mode), repeat(b"\t"), as_bytes(emails, sql_mode),
        repeat(b"\t"), as_bytes(ages), repeat(b"\n"))))


def as_bytes(values, sql_mode=None):
    """Return the strings ``values`` in UTF-8, escaped for ``sql_mode``.

    Unescaped without it. All are encoded and escaped together, as one
    string (``driver.escaped``): tabs between them, which no value holds
    and the escaping leaves as they are.
    """
    data = "\t".join(values).encode()
    if sql_mode is not None:
        data = driver.escaped(data, sql_mode)
    return data.split(b"\t")


def made_ahead(chunks, wanted):
    """Yield the items of ``chunks``, made ahead in a thread of their own.

    The thread makes the chunks (reads, checks and writes them) as fast
    as it can, while the caller sends the first ones to the server: it
    never waits for the caller, who finds the files made meanwhile in a
    queue. ``wanted`` is set while the caller waits for the next one,
    from the start (``write_chunks`` then ends a chunk soon), and
    cleared as soon as one is there. An error in the thread is raised
    here; the thread is done when this generator is.
    """
    made, stop = queue.SimpleQueue(), threading.Event()

    def make():
        """Put each item of ``chunks`` in the queue, then what ended it."""
        try:
            for item in chunks:
                made.put(item)
                wanted.clear()  # the caller has one now
                if stop.is_set():
                    break
            made.put(None)
        except BaseException as err:  # raised in the caller's thread
            made.put(err)

    maker = threading.Thread(target=make, daemon=True)
    wanted.set()  # for the first chunk
    maker.start()
    try:
        while True:
            try:
                item = made.get_nowait()
            except queue.Empty:
                wanted.set()
                item = made.get()
                wanted.clear()
            if isinstance(item, BaseException):
                raise item
            if item is None:
                return
            yield item
    finally:
        stop.set()
        maker.join()


# 4. Send the chunks in one transaction -----------------------------------

SIGNALLED = 1644  # a trigger's SIGNAL SQLSTATE '45000', unhandled


def send(conf, folder, chunks_for, rejects, progress):
    """Load the chunks into user_data in one transaction: all, or none.

    On a connection of its own, that may read the files of ``folder``:
    the table is checked (``table.check``), the method chosen
    (``choose_method``), and ``chunks_for(method, wanted)`` gives the
    chunk files (``write_chunks``), made ahead in a thread
    (``made_ahead``, which sets the event ``wanted`` while the server
    waits for one), each sent as soon as it is made. Rows
    that were not inserted had their id in the table already, or
    repeat an earlier row's id: ``reject_repeats`` finds the repeats,
    before the commit. ``progress`` counts the rows sent, and shows the
    commit (a ``Progress``). Return ``(total, inserted, repeats,
    method)``. A trigger's SIGNAL (an AFTER INSERT one: ``table.check``
    refuses a BEFORE INSERT one) fails the load with ``SetupError``.
    """
    connection = db.connect(conf, allow_local_infile_in_path=folder)
    try:
        table.check(connection)
        method = choose_method(connection)
        connection.start_transaction()
        wanted = threading.Event()
        sent, inserted = send_chunks(connection, made_ahead(
            chunks_for(method, wanted), wanted), method, progress)
        progress.committing()
        total = sum(rows for _, rows in sent)
        repeats = 0
        if inserted < total:  # else no row repeats another
            repeats = reject_repeats([path for path, _ in sent], folder,
                                     rejects)
        connection.commit()
    except mysql.connector.Error as err:
        if err.errno != SIGNALLED and err.sqlstate != "45000":
            raise
        raise db.SetupError(
            f"user_data refused a row: {' '.join(err.msg.split())} (a "
            f"trigger's SIGNAL, error {err.errno}); nothing was loaded, the "
            "table was left as it was: check its triggers (SHOW TRIGGERS "
            "LIKE 'user_data')") from None
    finally:
        db.close_quietly(connection)
    return total, inserted, repeats, method


def choose_method(connection):
    """Return how rows go to the server of ``connection``: a ``Method``.

    ``LOAD DATA LOCAL INFILE`` when the server allows it: it reads the
    chunk files itself. Else multi-row ``INSERT``s, their strings
    escaped for the session's ``sql_mode`` (read here, once), each
    holding ``INSERT_BYTES`` of rows, a quarter of the server's largest
    packet at most.
    """
    (local_infile, packet, sql_mode), = db.fetched(
        connection, "SELECT @@GLOBAL.local_infile, "
        "@@SESSION.max_allowed_packet, @@SESSION.sql_mode")
    name = "LOAD DATA LOCAL INFILE" if local_infile else "multi-row INSERT"
    return Method(name, bool(local_infile), sql_mode,
                  max(4096, min(INSERT_BYTES, packet // 4)))


def send_chunks(connection, chunks, method, progress):
    """Send each chunk of ``chunks`` to user_data, as soon as it is made,
    and count its rows sent in ``progress``.

    Return the chunks sent, as ``(path, rows)`` pairs, and how many rows
    were inserted. ``chunks`` is ``made_ahead``'s, closed here: its
    thread is done when this returns, or raises, and no file is written
    after.
    """
    sent, inserted = [], 0
    try:
        for path, rows in chunks:
            sent.append((path, rows))
            inserted += send_chunk(connection, path, rows, method)
            progress.sent(rows)
    finally:
        chunks.close()
    return sent, inserted


COLUMNS = ("user_id", "@line", "name", "email", "age")  # a row's fields
LOAD_DATA = (" IGNORE INTO TABLE user_data CHARACTER SET utf8mb4 "
             "FIELDS TERMINATED BY X'09' ESCAPED BY '' "  # tab, newline: as
             "LINES TERMINATED BY X'0A' ("  # NO_BACKSLASH_ESCAPES
             + ", ".join(COLUMNS) + ")")
INSERT = ("INSERT IGNORE INTO user_data (" + ", ".join(
    name for name in COLUMNS if name != "@line") + ") VALUES ").encode()


def send_chunk(connection, path, rows, method):
    """Send the ``rows`` rows of the chunk file at ``path`` to user_data.

    Rows whose id the table has are skipped, and so are rows whose id
    an earlier row of the load gave it. By ``LOAD DATA LOCAL INFILE``
    the server reads the file itself (the line number into a variable,
    unused); else ``INSERT``s of about ``method.insert_bytes`` of whole
    rows each carry its rows, escaped already (``as_values``). Each
    statement must warn of nothing but the ids it skipped
    (``confirmed``). Return how many rows were inserted.
    """
    if method.local_infile:
        sql = (b"LOAD DATA LOCAL INFILE "
               + driver.literal(os.fsencode(path), method.sql_mode)
               + LOAD_DATA.encode())
        return confirmed(connection, rows, connection.cmd_query(sql))
    inserted = 0
    with open(path, "rb") as chunk:
        while block := chunk.read(method.insert_bytes):
            block += chunk.readline()  # the rest of the last row
            done = connection.cmd_query(INSERT + as_values(block))
            inserted += confirmed(connection, block.count(b"\n"), done)
    return inserted


def as_values(rows):
    """Return escaped ``rows`` of a chunk file as an INSERT's VALUES.

    Their names and emails are escaped already (``as_rows``): each of
    the rows' separators becomes the end of a string literal and the
    start of the next, and the line number a comment (taking it out
    instead costs about 5% of a load by INSERTs: docs/loading.md).
    """
    return b"('" + rows[:-1].replace(b"\t", b"','").replace(
        b"\x02", b"'/*").replace(b"\x03", b"*/,'").replace(
        b"\n", b"'),('") + b"')"


def confirmed(connection, sent, done):
    """Return the rows a statement inserted of ``sent``, if it warned of
    nothing else than the ids it skipped; else fail the load.

    ``done`` is what ``cmd_query`` returned for it. ``IGNORE`` skips a
    row whose id the table has, with one warning (1062, duplicate
    entry) each. A CHECK constraint, a foreign key or a partitioning
    would skip a row with one warning too, which the count cannot tell
    from a 1062: ``table.check`` refuses such a table before anything
    is sent. ``IGNORE`` also turns what would be an error into a
    warning, and goes on: a value cut short, a character the column
    cannot hold. Such a warning makes the count larger than the rows
    skipped. The error quotes the first warning that is not 1062
    (``SHOW WARNINGS`` keeps the first ``max_error_count`` only).
    """
    affected, warnings = done["affected_rows"], done["warning_count"]
    if warnings == sent - affected:
        return affected
    said = next((f"{message} ({level} {code})" for level, code, message
                 in db.fetched(connection, "SHOW WARNINGS") if code != 1062),
                f"{warnings} warnings for {sent - affected} rows skipped")
    raise db.SetupError(f"user_data did not take the rows as they were "
                        f"sent: {said}; nothing was loaded, the table was "
                        "left as it was: check its columns and triggers "
                        "(SHOW CREATE TABLE user_data)")


# 5. Find the rows that repeat an earlier row's id -------------------------

ID_END = 36  # a row of a chunk file starts with its id, then its line
LINE = re.compile(rb"[0-9]+")


def reject_repeats(paths, folder, rejects):
    """Reject the rows that repeat an earlier row's id; return how many.

    ``IGNORE`` kept the row already in the table, or the file's first
    row with an id, so the table is right already; a row not inserted
    is a repeat (``repeats_by_id``) or else its id was present. The
    repeats are put in line order (``by_line``) for ``rejects`` to
    write them (``Rejects.add_repeats``), reading the CSV once more.
    """
    with contextlib.closing(repeats_by_id(paths)) as found, \
            contextlib.closing(by_line(found, folder)) as ordered:
        return rejects.add_repeats(ordered)


def repeats_by_id(paths):
    """Yield ``(line, first)`` for each row that repeats an earlier id.

    ``first`` is the line of the first row with that id. The chunk
    files at ``paths`` are each sorted by id, then line: merged, they
    give each id's rows together, the first one first. Memory holds a
    row of each file. Yielded by id.
    """
    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(open(path, "rb")) for path in paths]
        user_id = first = None
        for row in heapq.merge(*files):
            if row[:ID_END] != user_id:
                user_id, first = row[:ID_END], row
            else:
                yield line_of(row), line_of(first)


def line_of(row):
    """Return the line number in a chunk file's ``row``, after its id."""
    return int(LINE.match(row, ID_END + 1).group())


def by_line(repeats, folder):
    """Yield the ``(line, first)`` pairs of ``repeats`` in line order.

    At most ``CHUNK_ROWS`` at a time are sorted in memory; when there
    are more (a file that holds its records twice repeats every one),
    each sorted run goes to a file in ``folder``, and the runs are
    merged.
    """
    runs = []
    while run := sorted(islice(repeats, CHUNK_ROWS)):
        if not runs and len(run) < CHUNK_ROWS:
            yield from run
            return
        path = os.path.join(folder, "repeats-%d.txt" % len(runs))
        with open(path, "wb") as out:
            out.writelines(b"%020d %020d\n" % pair for pair in run)
        runs.append(path)
    with contextlib.ExitStack() as stack:
        for text in heapq.merge(*[stack.enter_context(open(path, "rb"))
                                  for path in runs]):
            line, first = text.split()
            yield int(line), int(first)
