"""The CSV loader (seed.insert_data -> loader.load) on a real server.

Every record ends in user_data or in ``<input>.rejects.csv``; the load is
one transaction; a file that cannot be loaded fails at once with a
message naming it and saying what to do; the loader's connection may
read its own private folder and nothing else.
"""
import csv
import os
import re
import secrets
import shutil
import stat
import sys
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from uuid import NAMESPACE_URL, uuid5

import loader
import mysql.connector
import pytest

from testlab import DEADLINE, GATE, ROOT, Gate, make_csv, run_script, seed

HEADER = '"name","email","age"'
PRESENT = (str(uuid5(NAMESPACE_URL, "mailto:present@example.com")),
           "Original Name", "present@example.com", "50.00")

# A dirty file: each record, and what must become of it (None: loaded,
# "present": its id is in the table already, else part of the reason).
DIRTY = [
    ('"Ada Lovelace","ada@example.com","36"', None),
    ('"","empty@example.com","30"', "name"),
    ('"   ","blank@example.com","30"', "name"),
    ('"No At","ada.example.com","30"', "email"),
    ('"Two At","a@b@example.com","30"', "email"),
    ('"No Dot","user@localhost","30"', "email"),
    ('"Space","us er@example.com","30"', "email"),
    ('"Newline","multi\nline@example.com","30"', "email"),
    ('"Age Word","word@example.com","abc"', "age"),
    ('"Age Empty","none@example.com",""', "age"),
    ('"Age Negative","neg@example.com","-5"', "age"),
    ('"Age Exponent","exp@example.com","1e3"', "age"),
    ('"Age NaN","nan@example.com","NaN"', "age"),
    ('"Age Cents","cents@example.com","12.345"', "age"),
    ('"Age Big","big@example.com","1000"', "age"),
    ('"Too Few","few@example.com"', "fields"),
    ('"Too Many","many@example.com","30","x"', "fields"),
    ('" Grace Hopper "," Grace@Example.com ","85.5"', None),
    ('"Grace Again","grace@example.com","86"', "repeats the email"),
    ('"Present Person","present@example.com","50"', "present"),
    ('"Alan Turing","alan@example.com","41"', None),
]


def write(path, text, encoding="utf-8"):
    """Write ``text`` to ``path`` byte for byte; return the path as str."""
    path.write_bytes(text.encode(encoding))
    return str(path)


def dirty_text(records):
    """Return the CSV text of ``records`` and the line each starts on.

    A blank line after the header is not a record, but it is a line.
    """
    lines, starts, line = [HEADER, ""], [], 3
    for text in records:
        lines.append(text)
        starts.append(line)
        line += text.count("\n") + 1
    return "\n".join(lines) + "\n", starts


def load(connection, path, capsys):
    """Run insert_data; return its counts, summary line and its notes.

    Nothing goes to stdout. The last line on stderr is the summary,
    which must be, whole, the line for the counts it returns; the notes
    are the lines before it.
    """
    capsys.readouterr()
    counts = seed.insert_data(connection, path)
    out, err = capsys.readouterr()
    assert out == ""
    *notes, summary = err.splitlines(keepends=True)
    loaded, present, rejected = counts[:3]
    assert summary == (
        f"{path}: {loaded} loaded, {present} already present, {rejected} "
        "rejected" + (f" (see {path}.rejects.csv)" if rejected else "")
        + ("" if loaded else "; nothing changed") + "\n")
    return counts, summary.strip(), "".join(notes)


def table(connection):
    """Return user_data as sorted ``(user_id, name, email, age)`` tuples."""
    cursor = connection.cursor()
    cursor.execute("SELECT user_id, name, email, CAST(age AS CHAR) "
                   "FROM user_data ORDER BY user_id")
    rows = cursor.fetchall()
    cursor.close()
    return rows


def rejects(path):
    """Return the rows of ``<path>.rejects.csv`` as dicts."""
    with open(str(path) + ".rejects.csv", encoding="utf-8",
              newline="") as text:
        reader = csv.DictReader(text)
        assert reader.fieldnames == ["line", "record", "reason"]
        return list(reader)


def reject_rows(path):
    """Return the rejects file of ``path`` as ``(line, fields, reason)``.

    ``fields`` is the record as a CSV reader reads it back.
    """
    return [(int(row["line"]), next(csv.reader([row["record"]])),
             row["reason"]) for row in rejects(path)]


def opened(path):
    """Return the file descriptors of this process open on ``path``."""
    found, path = [], os.path.realpath(path)
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == path:
                found.append(int(fd))
        except FileNotFoundError:  # the listing's own, closed since
            pass
    return found


def add_present(connection):
    """Put the PRESENT user in the table, as if loaded before."""
    cursor = connection.cursor()
    cursor.execute("INSERT INTO user_data VALUES (%s, %s, %s, %s)", PRESENT)
    cursor.close()


@pytest.fixture(params=["LOAD DATA LOCAL INFILE", "multi-row INSERT"])
def method(request, server):
    """Each way of sending rows: the server allows LOCAL INFILE or not."""
    allowed = int(request.param.startswith("LOAD"))
    server.admin(f"SET GLOBAL local_infile = {allowed:d}")
    yield request.param
    server.admin("SET GLOBAL local_infile = 1")


def test_dirty_file_every_record_accounted_for(database, tmp_path, capsys,
                                               method):
    """Each record of a dirty file is loaded, already present or rejected.

    The counts add up to the records in the file, the table holds the
    good ones (the present one untouched), and the rejects file gives
    each bad record's first line and a reason.
    """
    add_present(database)
    text, starts = dirty_text([record for record, _ in DIRTY])
    path = write(tmp_path / "dirty.csv", text)
    counts, summary, _ = load(database, path, capsys)
    assert counts.method == method
    assert sum(counts[:3]) == len(DIRTY)
    assert summary == (f"{path}: 3 loaded, 1 already present, 17 rejected "
                       f"(see {path}.rejects.csv)")
    assert len(DIRTY) == 3 + 1 + 17
    grace = next(start for start, (record, _) in zip(starts, DIRTY)
                 if "Grace Hopper" in record)
    expected = {str(start): outcome for start, (_, outcome)
                in zip(starts, DIRTY) if outcome not in (None, "present")}
    found = {row["line"]: row for row in rejects(path)}
    assert sorted(found) == sorted(expected)
    for line, outcome in expected.items():
        assert outcome in found[line]["reason"], found[line]
    assert found[str(grace + 1)]["reason"].endswith(f"line {grace}")
    assert "Grace Again" in found[str(grace + 1)]["record"]
    newline = starts[[record for record, _ in DIRTY].index(
        '"Newline","multi\nline@example.com","30"')]
    assert "multi\nline@example.com" in found[str(newline)]["record"]
    emails = {row[2]: row for row in table(database)}
    assert sorted(emails) == sorted([
        "ada@example.com", "alan@example.com", "Grace@Example.com",
        "present@example.com"])
    assert emails["Grace@Example.com"][1:] == (
        "Grace Hopper", "Grace@Example.com", "85.50")
    assert emails["present@example.com"] == PRESENT


def test_unwritable_rejects_file_fails_clearly(database, tmp_path):
    """A rejects file that cannot be written stops the load, saying so.

    A folder stands where the file should go. Nothing is loaded, and
    the CSV is not left open, even while the error is held.
    """
    text, _ = dirty_text(['"Bo","bo@example.com","40"',
                          '"","a@example.com","30"'])
    path = write(tmp_path / "bad.csv", text)
    os.mkdir(path + ".rejects.csv")
    with pytest.raises(seed.SetupError,
                       match=r"bad.csv.rejects.csv: cannot write the "
                       r"rejects file here \(.+\): load a copy") as raised:
        seed.insert_data(database, path)
    assert opened(path) == [], raised.traceback
    assert table(database) == []
    assert os.listdir(path + ".rejects.csv") == []


def test_no_temporary_folder_leaves_the_csv_closed(
        database, tmp_path, monkeypatch):
    """A temporary folder that cannot be made stops the load, and the
    CSV is not left open, even while the error is held."""
    path = make_csv(tmp_path / "users.csv", 10)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError) as raised:
        seed.insert_data(database, path)
    assert opened(path) == [], raised.traceback
    assert table(database) == []


def test_rejects_file_rewritten_then_removed(database, tmp_path, capsys):
    """Each load rewrites the rejects file; a clean load removes it."""
    path = tmp_path / "users.csv"
    text, _ = dirty_text([record for record, _ in DIRTY[:6]])
    load(database, write(path, text), capsys)
    assert len(rejects(path)) == 5
    text, _ = dirty_text(['"Bob","bob@example.com","x"',
                          '"Cy","cy@example.com","7"'])
    counts, _, _ = load(database, write(path, text), capsys)
    assert counts[:3] == (1, 0, 1)
    assert [row["line"] for row in rejects(path)] == ["3"]
    text, _ = dirty_text(['"Di","di@example.com","8"'])
    counts, summary, _ = load(database, write(path, text), capsys)
    assert counts[:3] == (1, 0, 0)
    assert not os.path.exists(str(path) + ".rejects.csv")
    assert ".rejects.csv" not in summary


BAD = [
    ("", "a@example.com", "30"),
    (" \t ", "a@example.com", "30"),
    ("N" * 256, "a@example.com", "30"),
    ("Bad\x01Name", "a@example.com", "30"),
    ("Ann", "", "30"),
    ("Ann", "a" * 244 + "@example.com", "30"),
    ("Ann", "plain", "30"),
    ("Ann", "a@@example.com", "30"),
    ("Ann", "a@b@example.com", "30"),
    ("Ann", "a@example", "30"),
    ("Ann", "a@example.", "30"),
    ("Ann", "a b@example.com", "30"),
    ("Ann", "a@exa\tmple.com", "30"),
    ("Ann", "a@example.com\r\nX", "30"),
    ("Ann", "a\x7f@example.com", "30"),
    ("Ann", "a\u00a0b@example.com", "30"),
    ("Ann", "a@example.com", "abc"),
    ("Ann", "a@example.com", ""),
    ("Ann", "a@example.com", "-5"),
    ("Ann", "a@example.com", "-0.5"),
    ("Ann", "a@example.com", "1e3"),
    ("Ann", "a@example.com", "NaN"),
    ("Ann", "a@example.com", "inf"),
    ("Ann", "a@example.com", "12.345"),
    ("Ann", "a@example.com", "1000"),
    ("Ann", "a@example.com", "1,5"),
    ("Ann", "a@example.com", "0x1F"),
    ("Ann", "a@example.com", "\u0663"),
]


def quoted(fields):
    """Return ``fields`` as one CSV record, every field quoted."""
    return ",".join('"%s"' % field.replace('"', '""') for field in fields)


@pytest.mark.parametrize("fields", BAD, ids=[repr(bad)[:40] for bad in BAD])
def test_bad_value_rejected(database, tmp_path, capsys, fields):
    """A record with a bad name, email or age is rejected, alone.

    The good record after it is loaded, so the line numbers still hold.
    """
    text, _ = dirty_text([quoted(fields), '"Bo","bo@example.com","40"'])
    path = write(tmp_path / "bad.csv", text)
    counts, _, _ = load(database, path, capsys)
    assert counts[:3] == (1, 0, 1)
    (row,) = rejects(path)
    assert row["line"] == "3"
    assert next(csv.reader([row["record"]])) == list(fields)
    assert [user[2] for user in table(database)] == ["bo@example.com"]


TRIMMED = [
    ("  Bob  ", "Bob"),
    ("Bob\x85", "Bob\x85"),
    ("\u2028Bob", "\u2028Bob"),
    ("\u00a0Bob\u3000", "\u00a0Bob\u3000"),
    ("\x1fBob", None),
    ("Bob\x1c", None),
    ("\tBob", None),
    ("Bob \r", None),
]


@pytest.mark.parametrize("name, stored", TRIMMED,
                         ids=[ascii(name) for name, _ in TRIMMED])
def test_only_spaces_trimmed_among_a_thousand(database, tmp_path, capsys,
                                              method, name, stored):
    """Spaces around a value are trimmed; nothing else vanishes.

    One record among 1,000 good ones, in a batch checked a column at a
    time: a name with a control character at an end is rejected (the
    batch is halved down to ``check``, which gives the reason), one
    with U+0085, U+2028 or other spaces at an end is stored as it is.
    """
    good = [(f"User {n}", f"user{n}@example.com", str(n % 90))
            for n in range(1_000)]
    records = good[:500] + [(name, " bob@example.com ", " 7 ")] + good[500:]
    path = write(tmp_path / "names.csv", HEADER + "\n" + "".join(
        quoted(fields) + "\n" for fields in records))
    counts, _, _ = load(database, path, capsys)
    expected = [(str(uuid5(NAMESPACE_URL, "mailto:" + email)), name,
                 email, f"{age}.00") for name, email, age in good]
    if stored is None:
        assert counts[:3] == (1_000, 0, 1)
        assert reject_rows(path) == [(502, list(records[500]), (
            f"name {name.strip(' ')!r} is empty, too long or has control "
            "characters"))]
    else:
        assert counts[:3] == (1_001, 0, 0)
        assert not os.path.exists(path + ".rejects.csv")
        expected.append((str(uuid5(NAMESPACE_URL, "mailto:bob@example.com")),
                         stored, "bob@example.com", "7.00"))
    assert sorted(table(database)) == sorted(expected)


def test_nul_byte_rejected_or_named(database, tmp_path, capsys):
    """A NUL byte in a name: the record is rejected where csv can read it.

    Python 3.10's csv module cannot read (or write) a NUL byte at all;
    there the load stops before it starts, naming the line.
    """
    fields = ("Nul\x00Name", "a@example.com", "30")
    text, _ = dirty_text([quoted(fields), '"Bo","bo@example.com","40"'])
    path = write(tmp_path / "nul.csv", text)
    if sys.version_info >= (3, 11):
        counts, _, _ = load(database, path, capsys)
        assert counts[:3] == (1, 0, 1)
        (row,) = rejects(path)
        assert row["line"] == "3"
        assert next(csv.reader([row["record"]])) == list(fields)
    else:
        with pytest.raises(seed.SetupError, match="line 3 holds a NUL byte"):
            seed.insert_data(database, path)
        assert table(database) == []


GOOD = [
    (("N" * 255, "n@example.com", "1"), ("N" * 255, "n@example.com", "1.00")),
    (("Ann", "a" * 243 + "@example.com", "0"),
     ("Ann", "a" * 243 + "@example.com", "0.00")),
    (("NULL", "null@example.com", "999.99"),
     ("NULL", "null@example.com", "999.99")),
    (("\\N", "backslash-n@example.com", "7.5"),
     ("\\N", "backslash-n@example.com", "7.50")),
    (('O\'Brien "Ob" \\ Jr.', "ob@example.com", " 42 "),
     ('O\'Brien "Ob" \\ Jr.', "ob@example.com", "42.00")),
    (("Zoë 🐍 Ōtani", "zoe+tag@sub.example.co.uk", "007"),
     ("Zoë 🐍 Ōtani", "zoe+tag@sub.example.co.uk", "7.00")),
    (("Line\u2028Next\x85Row", "o'brien\\x@example.com", "5"),
     ("Line\u2028Next\x85Row", "o'brien\\x@example.com", "5.00")),
]


@pytest.mark.parametrize("fields, stored", GOOD,
                         ids=[repr(good[0])[:40] for good in GOOD])
def test_edge_values_stored_exactly(database, tmp_path, capsys, method,
                                    fields, stored):
    """Values at the limits or with quotes, backslashes, NULL load as is."""
    path = write(tmp_path / "edge.csv", HEADER + "\n" + quoted(fields))
    counts, _, _ = load(database, path, capsys)
    assert counts[:3] == (1, 0, 0)
    assert [row[1:] for row in table(database)] == [stored]


def test_user_id_checked_and_repeats_rejected(database, tmp_path, capsys):
    """A user_id must be a UUID; a repeated id is rejected, the first wins.

    Ids are compared without regard to case, and stored in lower case.
    """
    first = "0f8fad5b-d9cb-469f-a165-70867728950e"
    other = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
    text = "\n".join([
        '"user_id","name","email","age"',
        f'"{first}","First","first@example.com","20"',
        '"not-a-uuid","Bad Id","bad@example.com","20"',
        '"","No Id","noid@example.com","20"',
        f'"{first}0","Long Id","long@example.com","20"',
        f'"{first.upper()}","Second","second@example.com","21"',
        f'"{other.upper()}","Upper","upper@example.com","22"',
    ]) + "\n"
    path = write(tmp_path / "ids.csv", text)
    counts, _, _ = load(database, path, capsys)
    assert counts[:3] == (2, 0, 4)
    assert table(database) == [
        (first, "First", "first@example.com", "20.00"),
        (other, "Upper", "upper@example.com", "22.00")]
    reasons = {row["line"]: row["reason"] for row in rejects(path)}
    assert sorted(reasons) == ["3", "4", "5", "6"]
    assert all("UUID" in reasons[line] for line in "345")
    assert reasons["6"] == "repeats the user_id of line 2"


def test_repeated_email_without_ids_is_a_repeat(database, tmp_path, capsys):
    """Without user_id, the same email (any case) twice is a repeat."""
    text, _ = dirty_text(['"One","same@example.com","1"',
                          '"Two","SAME@example.com","2"',
                          '"Three","Same@Example.COM","3"'])
    path = write(tmp_path / "same.csv", text)
    counts, _, _ = load(database, path, capsys)
    assert counts[:3] == (1, 0, 2)
    assert [row[1] for row in table(database)] == ["One"]
    assert [row["reason"] for row in rejects(path)] == [
        "repeats the email of line 3"] * 2


def test_first_repeat_wins_across_chunks(database, tmp_path, capsys,
                                         monkeypatch, method):
    """The file's first record of an id wins, whichever chunk holds it.

    Chunks of two rows, each sorted by id: repeats fall in the same chunk
    and in later ones, and one id is also in the table already.
    """
    monkeypatch.setattr(loader, "CHUNK_ROWS", 2)
    add_present(database)
    text, _ = dirty_text(['"A1","a@example.com","1"',
                          '"A2","a@example.com","2"',
                          '"B1","b@example.com","3"',
                          '"P1","present@example.com","4"',
                          '"B2","B@example.com","5"',
                          '"A3","a@example.com","6"',
                          '"P2","present@example.com","7"'])
    path = write(tmp_path / "repeats.csv", text)
    counts, _, _ = load(database, path, capsys)
    assert counts[:3] == (2, 1, 4)
    assert sorted(row[1] for row in table(database)) == [
        "A1", "B1", PRESENT[1]]
    assert {row["line"]: row["reason"] for row in rejects(path)} == {
        "4": "repeats the email of line 3",
        "7": "repeats the email of line 5",
        "8": "repeats the email of line 3",
        "9": "repeats the email of line 6"}


ID_A = "0f8fad5b-d9cb-469f-a165-70867728950e"
ID_B = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


def test_repeats_rejected_as_the_file_has_them(database, tmp_path, capsys,
                                               method):
    """A repeated id goes to the rejects file as the file has the record.

    Not as the loader stores the row: the file's column order (user_id
    neither first nor last), the spaces around values and the id's
    case, the extra column, ``0`` for ``0.00``. The file has a
    byte-order mark and CRLF line ends, a blank line and quoted fields
    spanning lines (one in a loaded record, before the repeats, and one
    in a rejected one), so the lines of the repeats must be counted as
    the first read counted them.
    """
    lines = [
        '\ufeff"Age","notes","EMAIL","user_id","Name"',
        f'"0.00","a note","first@example.com","{ID_A}","First"',
        f'"7","two\r\nlines","multi@example.com","{ID_B}","Multi"',
        f'"0"," again ","  FIRST@example.com ","  {ID_A.upper()} ",'
        '"  First Again  "',
        "",
        f'"30","","bad\r\nmail@example.com","{ID_A}","Bad"',
        f'7,,multi@example.com,{ID_B},"Multi, Again"',
    ]
    path = write(tmp_path / "repeats.csv", "\r\n".join(lines) + "\r\n")
    counts, _, _ = load(database, path, capsys)
    assert counts[:3] == (2, 0, 3)
    assert table(database) == [
        (ID_A, "First", "first@example.com", "0.00"),
        (ID_B, "Multi", "multi@example.com", "7.00")]
    assert reject_rows(path) == [
        (7, ["30", "", "bad\r\nmail@example.com", ID_A, "Bad"],
         "email 'bad\\r\\nmail@example.com' is not a valid address"),
        (5, ["0", " again ", "  FIRST@example.com ", f"  {ID_A.upper()} ",
             "  First Again  "], "repeats the user_id of line 2"),
        (9, ["7", "", "multi@example.com", ID_B, "Multi, Again"],
         "repeats the user_id of line 3")]


def test_repeats_as_the_file_has_them_across_chunks(database, tmp_path,
                                                    capsys, monkeypatch,
                                                    method):
    """Repeats in the same chunk and in later ones keep the file's records.

    Chunks of 3 rows, then 4, and the file read again 2 records at a
    time: repeats fall in every chunk and across the batches of the
    second read. Quoted fields of an extra column span lines, before
    most of the repeats and in one,
    blank lines are no records, one id is in the table already (not a
    repeat) and one record is rejected for its age.
    """
    monkeypatch.setattr(loader, "FIRST_CHUNK_ROWS", 3)
    monkeypatch.setattr(loader, "CHUNK_ROWS", 4)
    monkeypatch.setattr(loader, "CHECK_ROWS", 2)
    add_present(database)
    records = [
        ["A1", "a@example.com", "1", ""],
        ["B1", "b@example.com", "2.5", ""],
        ["A2", " A@EXAMPLE.COM", "1.00", "x"],
        ["M1", "m@example.com", "3", "a note\non two lines"],
        ["B2", "b@example.com ", "02.50", ""],
        ["Bad Age", "a@example.com", "x", ""],
        ["P1", "present@example.com", "4", ""],
        ["C1", "c@example.com", "5", ""],
        ["A3", "a@Example.com", "0", "\n"],
        ["M2", "M@example.com", "6", ""],
        ["C2", "  c@example.com  ", "5", ""],
        ["D1", "d@example.com", "7", ""],
        ["A4", "A@example.com", "8", ""],
    ]
    text, starts, line = HEADER + ',"note"\n\n', [], 3
    for number, fields in enumerate(records):
        text += quoted(fields) + "\n" + "\n" * (number % 3 == 2)
        starts.append(line)
        line += 1 + fields[3].count("\n") + (number % 3 == 2)
    path = write(tmp_path / "chunks.csv", text)
    counts, _, _ = load(database, path, capsys)
    first, expected = {}, []
    for start, fields in zip(starts, records):
        key = fields[1].strip(" ").lower()
        if fields[2] == "x":
            bad = (start, fields, "age 'x' is not a number from 0 to "
                   "999.99 with at most 2 decimals")
        elif key in first:
            expected.append((start, fields,
                             f"repeats the email of line {first[key]}"))
        else:
            first[key] = start
    assert counts[:3] == (len(first) - 1, 1, len(expected) + 1)
    assert reject_rows(path) == [bad] + expected
    assert len(expected) == 6
    assert sorted(row[1] for row in table(database)) == [
        "A1", "B1", "C1", "D1", "M1", PRESENT[1]]


def test_repeats_as_the_file_has_them_in_a_large_file(database, tmp_path,
                                                      capsys, method):
    """With the loader's own sizes, repeats keep the file's own records.

    12,000 records: two chunks, the file read again 1,000 records at a
    time. Every 997th record repeats an earlier email in another case,
    with spaces, its age written otherwise and a note in an extra column
    that spans two lines.
    """
    records = []
    for number in range(12_000):
        if number % 997 == 996:
            earlier = number - 990
            records.append([f"  Again {number}  ",
                            f" USER{earlier}@Example.com ",
                            f"{earlier % 90}.0", f"note\n{number}"])
        else:
            records.append([f"User {number}", f"user{number}@example.com",
                            f"{number % 90}", ""])
    text = '"name","email","age","note"\n' + "".join(
        quoted(fields) + "\n" for fields in records)
    path = write(tmp_path / "large.csv", text)
    counts, _, _ = load(database, path, capsys)
    lines = [2 + number + number // 997 for number in range(12_000)]
    expected = [(line, fields, "repeats the email of line "
                 f"{lines[number - 990]}")
                for number, (line, fields) in enumerate(zip(lines, records))
                if number % 997 == 996]
    assert counts[:3] == (12_000 - 12, 0, 12)
    assert reject_rows(path) == expected


def test_file_changed_before_repeats_are_read_fails(database, tmp_path,
                                                    monkeypatch):
    """A CSV changed during the load fails it when its repeats are read.

    The file gets a line more at its top as the repeats are found in
    the chunk files, after the first read and before the repeats are
    read again: the repeat's line no longer starts a record. Nothing is
    loaded and no rejects file is left.
    """
    add_present(database)
    text, _ = dirty_text(['"Multi","m@example.com","1"',
                          '"Again","M@example.com","2"'])
    path = write(tmp_path / "changed.csv", text)
    repeats_by_id = loader.repeats_by_id

    def changing(paths):
        """Put a line before the records, then find the repeats."""
        write(tmp_path / "changed.csv",
              text.replace("\n", '\n"Longer","\nstart","3"\n', 1))
        return repeats_by_id(paths)

    monkeypatch.setattr(loader, "repeats_by_id", changing)
    with pytest.raises(seed.SetupError, match=re.escape(
            f"{path}: line 4 is not where a record starts any more: was the "
            "file changed while it was loaded? load it again")):
        seed.insert_data(database, path)
    assert table(database) == [PRESENT]
    assert not os.path.exists(path + ".rejects.csv")


NEEDS = "needs the columns name, email and age"
FILE_PROBLEMS = [
    ("missing", None, "no such file at "),
    ("empty", "", "the file is empty: it needs a header"),
    ("blank", "\ufeff\n\r\n\n", "the file is empty: it needs a header"),
    ("no header", '"Ada","ada@example.com","36"\n', NEEDS),
    ("no age", '"name","email"\n"Ada","ada@example.com"\n', NEEDS),
    ("twice", '"name","email","age","Name"\n"A","a@b.co","1","B"\n',
     NEEDS),
]


@pytest.mark.parametrize("kind, text, says", FILE_PROBLEMS,
                         ids=[problem[0] for problem in FILE_PROBLEMS])
def test_file_problem_fails_fast(server, database, tmp_path, capsys, kind,
                                 text, says):
    """A file that cannot be loaded raises SetupError before any SQL.

    The message names the file and what to do; the table is as before,
    no rejects file is left, no connection is made and the file is not
    left open, even while the error (and its traceback) is held.
    """
    add_present(database)
    path = str(tmp_path / "users.csv")
    if text is not None:
        write(tmp_path / "users.csv", text)
    before = int(server.admin("SHOW GLOBAL STATUS LIKE 'Connections'")
                 .split()[1])
    with pytest.raises(seed.SetupError) as raised:
        seed.insert_data(database, path)
    after = int(server.admin("SHOW GLOBAL STATUS LIKE 'Connections'")
                .split()[1])
    message = str(raised.value)
    assert message.startswith(path + ":") and says in message
    assert opened(path) == []
    assert after - before == 1  # the second admin query, and nothing else
    assert table(database) == [PRESENT]
    assert not os.path.exists(path + ".rejects.csv")
    assert capsys.readouterr().out == ""


def test_file_problem_from_seed_script(database, tmp_path):
    """./seed.py on a missing file exits 1 with one line and no traceback."""
    path = str(tmp_path / "nowhere.csv")
    done = run_script("seed.py", path)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and path in done.stderr
    assert "Traceback" not in done.stderr


ROWS = [("Ada", "ada@example.com", "36"), ("Bo", "bo@example.com", "4.5")]
STORED = [("Ada", "ada@example.com", "36.00"),
          ("Bo", "bo@example.com", "4.50")]
LAYOUTS = [
    ("other order", "age,email,name", lambda n, e, a: f"{a},{e},{n}", "\n",
     ""),
    ("extra columns", "Phone,name,email,age,notes",
     lambda n, e, a: f"555,{n},{e},{a},hi", "\n", "'phone', 'notes'"),
    ("trailing commas", "name,email,age,,",
     lambda n, e, a: f"{n},{e},{a},,", "\n", "ignoring"),
    ("byte-order mark", "\ufeffname,email,age",
     lambda n, e, a: f"{n},{e},{a}", "\n", ""),
    ("CRLF", "name,email,age", lambda n, e, a: f"{n},{e},{a}", "\r\n", ""),
    ("mark, CRLF, spaces", "\ufeff Name , EMAIL,Age ",
     lambda n, e, a: f'"{n}","{e}","{a}"', "\r\n", ""),
]


@pytest.mark.parametrize("kind, header, record, end, note", LAYOUTS,
                         ids=[layout[0] for layout in LAYOUTS])
def test_file_layouts_accepted(database, tmp_path, capsys, kind, header,
                               record, end, note):
    """Other column orders, extra columns, a BOM and CRLF all load.

    Ignored columns are named in a note on stderr; else stderr is quiet.
    """
    text = end.join([header] + [record(*row) for row in ROWS]) + end
    path = write(tmp_path / "layout.csv", text)
    counts, _, err = load(database, path, capsys)
    assert counts[:3] == (2, 0, 0)
    assert [row[1:] for row in table(database)] == STORED
    if note:
        assert err.startswith("note: ") and note in err
        assert err.count("\n") == 1
    else:
        assert err == ""


def test_non_utf8_bytes_name_the_line(database, tmp_path, capsys,
                                      monkeypatch):
    """A file with a byte that is not UTF-8 fails, naming the line.

    Chunks of 1,000 rows: the 29 full ones before the bad byte are
    sent first. Nothing is loaded, and no rejects file is left.
    """
    add_present(database)
    monkeypatch.setattr(loader, "CHUNK_ROWS", 1_000)
    seen = watch_puts(monkeypatch)
    path = tmp_path / "latin1.csv"
    good = [f'"User {n}","user{n}@example.com","{n % 90}"'
            for n in range(30_000)]
    lines = [HEADER, '"Bad","bad","1"'] + good + ['"José","jose@x.es","3"']
    path.write_bytes("\n".join(lines).encode("latin-1") + b"\n")
    with pytest.raises(seed.SetupError) as raised:
        seed.insert_data(database, str(path))
    message = str(raised.value)
    assert message.startswith(str(path) + ":")
    assert f"line {len(lines)}" in message and "UTF-8" in message
    assert len(seen) == 29
    assert table(database) == [PRESENT]
    assert not os.path.exists(str(path) + ".rejects.csv")


def test_oversized_field_fails_naming_the_line(database, tmp_path,
                                               monkeypatch):
    """A field too large to be a record fails the load, naming the line.

    The message says what to do; nothing is loaded, though 30 chunks of
    1,000 rows before it were sent to the server already.
    """
    add_present(database)
    monkeypatch.setattr(loader, "CHUNK_ROWS", 1_000)
    seen = watch_puts(monkeypatch)
    path = tmp_path / "huge.csv"
    good = [f'"User {n}","user{n}@example.com","{n % 90}"'
            for n in range(30_000)]
    lines = [HEADER] + good + ['"' + "N" * 200_000 + '","n@x.io","1"']
    path.write_text("\n".join(lines + good[:1]) + "\n")
    with pytest.raises(seed.SetupError) as raised:
        seed.insert_data(database, str(path))
    message = str(raised.value)
    assert message.startswith(f"{path}: line {len(lines)}: ")
    assert "load the file again" in message
    assert len(seen) == 30
    assert table(database) == [PRESENT]


def test_reseeding_changes_nothing(database, tmp_path):
    """./seed.py twice on the same file: the second run changes nothing."""
    path = str(tmp_path / "user_data.csv")
    shutil.copy(os.path.join(ROOT, "user_data.csv"), path)
    first = run_script("seed.py", path)
    assert first.returncode == 0, first.stderr
    assert first.stderr == (
        f"{path}: 1000 loaded, 0 already present, 0 rejected\n")
    assert first.stdout == "Table user_data created successfully\n"
    before = table(database)
    second = run_script("seed.py", path)
    assert second.returncode == 0, second.stderr
    assert second.stderr == (
        f"{path}: 0 loaded, 1000 already present, 0 rejected; "
        "nothing changed\n")
    assert table(database) == before and len(before) == 1000
    assert not os.path.exists(path + ".rejects.csv")


def test_reseeding_dirty_file_changes_nothing(database, tmp_path, capsys):
    """A dirty file loaded twice: the same rejects, nothing changed."""
    text, _ = dirty_text([record for record, _ in DIRTY])
    path = write(tmp_path / "dirty.csv", text)
    _, summary, _ = load(database, path, capsys)
    assert summary == (f"{path}: 4 loaded, 0 already present, 17 rejected "
                       f"(see {path}.rejects.csv)")
    rows, bad = table(database), rejects(path)
    _, summary, _ = load(database, path, capsys)
    assert summary == (f"{path}: 0 loaded, 4 already present, 17 rejected "
                       f"(see {path}.rejects.csv); nothing changed")
    assert table(database) == rows
    assert rejects(path) == bad


FAULTS = {
    "signal": "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'test fault'",
    "kill": f"SET @held = GET_LOCK('{GATE}', 3600)",
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_failed_load_leaves_table_as_before(server, database, tmp_path,
                                            monkeypatch, method, fault):
    """A load that fails midway raises and leaves the table as before.

    Chunks of 1,000 rows; a trigger acts after the 2,500th row inserted,
    so two chunks are in the transaction by then: it raises an error
    there (``signal``: one line that quotes it), or waits at the gate
    there while the test kills the loader's connection (``kill``). No
    rejects file is left. (An AFTER INSERT trigger: the loader refuses
    a BEFORE INSERT one, which could change the rows.)
    """
    shutil.copy(os.path.join(ROOT, "user_data.csv"), tmp_path / "small.csv")
    seed.insert_data(database, str(tmp_path / "small.csv"))
    before = table(database)
    big = make_csv(tmp_path / "big.csv", 5_000, seed_value=7)
    monkeypatch.setattr(loader, "CHUNK_ROWS", 1_000)
    cursor = database.cursor()
    cursor.execute(
        "CREATE TRIGGER fault AFTER INSERT ON user_data FOR EACH ROW IF "
        f"(@fault_rows := IFNULL(@fault_rows, 0) + 1) = 2500 THEN "
        f"{FAULTS[fault]}; END IF")
    cursor.close()
    gate = Gate(server)
    try:
        with ThreadPoolExecutor(1) as pool:
            loading = pool.submit(seed.insert_data, database, big)
            if fault == "kill":
                victim = gate.waiting()
                inserted = server.admin(
                    "SELECT trx_rows_modified FROM information_schema."
                    f"INNODB_TRX WHERE trx_mysql_thread_id = {victim:d}")
                assert int(inserted) >= 2_000
                server.admin(f"KILL {victim:d}")
            with pytest.raises((mysql.connector.Error, seed.SetupError)) \
                    as raised:
                loading.result(timeout=DEADLINE)
    finally:
        gate.close()
    if fault == "signal":
        assert str(raised.value) == (
            "user_data refused a row: test fault (a trigger's SIGNAL, error "
            "1644); nothing was loaded, the table was left as it was: "
            "check its triggers (SHOW TRIGGERS LIKE 'user_data')")
    else:
        assert isinstance(raised.value, mysql.connector.Error)
    assert table(database) == before and len(before) == 1000
    assert not os.path.exists(big + ".rejects.csv")


def test_local_infile_only_from_the_private_folder(database, tmp_path):
    """A connection for a private folder refuses LOCAL files elsewhere.

    A file in the folder loads (so the refusals are not for any other
    reason); /etc/passwd, a path climbing out and a link out are refused.
    """
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (private / "rows.tsv").write_text(
        "0f8fad5b-d9cb-469f-a165-70867728950e\tAda\tada@example.com\t36\n")
    (private / "link.tsv").symlink_to("/etc/passwd")
    sql = ("LOAD DATA LOCAL INFILE %s INTO TABLE user_data FIELDS "
           "TERMINATED BY '\\t' (user_id, name, email, age)")
    connection = seed.connect(allow_local_infile_in_path=str(private))
    try:
        cursor = connection.cursor()
        cursor.execute(sql, (str(private / "rows.tsv"),))
        assert cursor.rowcount == 1
        for path in ["/etc/passwd", f"{private}/../../../../etc/passwd",
                     str(private / "link.tsv")]:
            with pytest.raises(mysql.connector.Error):
                cursor.execute(sql, (path,))
    finally:
        seed.close_quietly(connection)
    assert len(table(database)) == 1


def watch_puts(monkeypatch):
    """Record each chunk ``loader.send_chunk`` sends: its folder's mode
    and files.

    Return the list the records go to.
    """
    seen = []
    send_chunk = loader.send_chunk

    def watching(connection, path, *rest):
        """Note the chunk's folder as the server is sent the chunk."""
        folder = os.path.dirname(path)
        seen.append((folder, stat.S_IMODE(os.stat(folder).st_mode),
                     sorted(os.listdir(folder))))
        return send_chunk(connection, path, *rest)

    monkeypatch.setattr(loader, "send_chunk", watching)
    return seen


def test_loader_folder_is_private_and_removed(database, tmp_path, capsys,
                                              monkeypatch, configure):
    """The loader's folder is mode 0700, holds only its rows, then goes.

    It is looked at each time a chunk is sent; it is removed after a load
    that works and after one that fails.
    """
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(temp))
    monkeypatch.setattr(loader, "CHUNK_ROWS", 1_000)
    seen = watch_puts(monkeypatch)
    path = make_csv(tmp_path / "users.csv", 3_500)
    counts, _, _ = load(database, path, capsys)
    assert counts.loaded == 3_500
    assert len(seen) == 4
    assert {(folder, mode) for folder, mode, _ in seen} == {
        (seen[0][0], 0o700)}
    assert os.path.dirname(seen[0][0]) == str(temp)
    names = set().union(*(names for _, _, names in seen))
    assert names == {f"rows-{number}.tsv" for number in range(4)}
    assert os.listdir(temp) == []
    configure(MYSQL_PASSWORD="not-the-password")
    with pytest.raises(seed.SetupError):
        seed.insert_data(database, path)
    assert os.listdir(temp) == []


# The table the load goes to: another shape, or warnings --------------------

COLUMNS = {"user_id": "user_id CHAR(36) PRIMARY KEY",
           "name": "name VARCHAR(255) NOT NULL",
           "email": "email VARCHAR(255) NOT NULL",
           "age": "age DECIMAL(5,2) NOT NULL"}
# A user_data of another shape (the definitions that differ from
# seed.TABLE's, and its character set), and the column the error names.
SHAPES = [
    ("name VARCHAR(50)", {"name": "name VARCHAR(50) NOT NULL"}, "utf8mb4",
     "name"),
    ("latin1 table", {}, "latin1", "name"),
    ("utf8mb3 table", {}, "utf8mb3", "name"),
    ("name TINYTEXT", {"name": "name TINYTEXT NOT NULL"}, "utf8mb4", "name"),
    ("email VARCHAR(100)", {"email": "email VARCHAR(100) NOT NULL"},
     "utf8mb4", "email"),
    ("age INT", {"age": "age INT NOT NULL"}, "utf8mb4", "age"),
    ("age DECIMAL(4,2)", {"age": "age DECIMAL(4,2) NOT NULL"}, "utf8mb4",
     "age"),
    ("age DECIMAL(5,1)", {"age": "age DECIMAL(5,1) NOT NULL"}, "utf8mb4",
     "age"),
    ("no age", {"age": None}, "utf8mb4", "age"),
    ("user_id not a key", {"user_id": "user_id CHAR(36) NOT NULL"},
     "utf8mb4", "user_id"),
    ("user_id a prefix key", {"user_id": "user_id CHAR(36) NOT NULL, "
                              "UNIQUE KEY id8 (user_id(8))"},
     "utf8mb4", "user_id"),
    ("email unique", {"email": "email VARCHAR(255) NOT NULL UNIQUE"},
     "utf8mb4", "email"),
    ("extra NOT NULL column", {"course": "course VARCHAR(20) NOT NULL"},
     "utf8mb4", "course"),
]
NEW_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
# Values the wrong shapes would cut short, mangle, round or take twice:
# 255 characters, emoji, 25.5 and 999.99, an email present under a new
# id, and the present id with other values.
TESTING = [("7c9e6679-7425-40de-944b-e07fc1f90ae7", "N" * 255,
            "a" * 243 + "@example.com", "25.5"),
           ("9b2f6c1e-3a4d-4e5f-8a7b-0c1d2e3f4a5b", "Zoë 😀 Ōtani",
            "zoe@example.com", "999.99"),
           (NEW_ID, "Same Email", PRESENT[2], "1"),
           (PRESENT[0], "Changed", "changed@example.com", "7")]


def make_table(connection, columns, charset):
    """Put a user_data of ``columns`` (definitions) and ``charset`` in the
    place of seed.TABLE's, holding the PRESENT user; return what it is.

    What it is: its SHOW CREATE TABLE and its rows. The row goes in with
    a lax sql_mode, so that a column without a default gets none.
    """
    cursor = connection.cursor()
    cursor.execute("DROP TABLE user_data")
    cursor.execute("CREATE TABLE user_data ("
                   + ", ".join(filter(None, columns.values()))
                   + f") DEFAULT CHARSET={charset}")
    cursor.execute("SET SESSION sql_mode = ''")
    cursor.execute("INSERT INTO user_data (user_id, name, email"
                   + (", age" if columns.get("age") else "")
                   + ") VALUES (%s, %s, %s" + (", %s)" if columns.get("age")
                                               else ")"),
                   PRESENT if columns.get("age") else PRESENT[:3])
    cursor.execute("SET SESSION sql_mode = DEFAULT")
    cursor.close()
    return what_table_is(connection)


def what_table_is(connection):
    """Return user_data's SHOW CREATE TABLE and all its rows, sorted."""
    cursor = connection.cursor()
    cursor.execute("SHOW CREATE TABLE user_data")
    ((_, created),) = cursor.fetchall()
    cursor.execute("SELECT * FROM user_data ORDER BY user_id")
    rows = cursor.fetchall()
    cursor.close()
    return created, rows


def write_testing(path):
    """Write TESTING as a CSV with a user_id column; return its path."""
    return write(path, '"user_id","name","email","age"\n' + "\n".join(
        map(quoted, TESTING)) + "\n")


@pytest.mark.parametrize("kind, changes, charset, column", SHAPES,
                         ids=[shape[0] for shape in SHAPES])
def test_table_of_another_shape_refused(database, tmp_path, monkeypatch,
                                        kind, changes, charset, column):
    """A user_data that cannot hold every value the checks allow stops
    the load before a row is sent.

    The one-line error names the column, says what it is and what it
    needs, and how to fix it; the table is exactly as before: its rows
    and its SHOW CREATE TABLE.
    """
    before = make_table(database, {**COLUMNS, **changes}, charset)
    seen = watch_puts(monkeypatch)
    path = write_testing(tmp_path / "users.csv")
    with pytest.raises(seed.SetupError) as raised:
        seed.insert_data(database, path)
    message = str(raised.value)
    assert "\n" not in message
    assert re.search(rf"user_data(\.{column} is| has no column {column}"
                     rf"| has the unique key `\w+` on \({column}\))",
                     message), message
    assert " needs " in message and "run ./seed.py again" in message
    assert seen == []
    assert what_table_is(database) == before
    assert not os.path.exists(path + ".rejects.csv")


def test_wider_table_accepted(database, tmp_path, capsys, method):
    """A user_data wider than seed.TABLE's takes the same rows, exactly.

    Its other columns get a value of their own (a default, NULL, an
    AUTO_INCREMENT number in a unique key of its own: a new row's
    number clashes with no row, or a generated value).
    """
    make_table(database, {
        "user_id": "user_id VARCHAR(64) CHARACTER SET ascii PRIMARY KEY",
        "name": "name TEXT NOT NULL", "email": "email VARCHAR(320)",
        "age": "age DECIMAL(8,3) NOT NULL",
        "serial": "serial INT NOT NULL AUTO_INCREMENT UNIQUE",
        "note": "note VARCHAR(10)",
        "since": "since DATE NOT NULL DEFAULT '2025-01-01'",
        "id_age": "id_age VARCHAR(80) AS (CONCAT(user_id, age))"},
        "utf8mb4")
    path = write_testing(tmp_path / "users.csv")
    counts, summary, _ = load(database, path, capsys)
    assert summary == f"{path}: 3 loaded, 1 already present, 0 rejected"
    cursor = database.cursor()
    cursor.execute("SELECT user_id, name, email, CAST(age AS CHAR) "
                   "FROM user_data ORDER BY user_id")
    assert cursor.fetchall() == sorted(
        [PRESENT[:3] + ("50.000",)]
        + [row[:3] + (f"{float(row[3]):.3f}",) for row in TESTING[:3]])
    cursor.close()


WARN = "warn@example.com"
# Rows with explicit ids, sorted: two present (each skipped with a 1062
# warning), then one for which the table warns, then one more.
WARNING = [("00000000-0000-4000-8000-000000000001", "Old One",
            "one@example.com", "1"),
           ("00000000-0000-4000-8000-000000000002", "Old Two",
            "two@example.com", "2"),
           ("00000000-0000-4000-8000-000000000003", "Warn Me", WARN, "3"),
           ("00000000-0000-4000-8000-000000000004", "After", "a@b.co", "4")]


@pytest.mark.parametrize("kept", [64, 1], ids=["shown", "beyond kept"])
def test_statement_warning_fails_the_load(server, database, tmp_path,
                                          method, kept):
    """A statement that warns of anything but a present id fails the load.

    The table passes the shape check, but a stored generated column
    casts the name to a number for one email: that row, in a statement
    with two present ids, gives warning 1292 besides their two 1062s.
    A trigger's warnings do not reach the statement on MariaDB: this
    is a way to make the load's own statement warn at a chosen row.
    The error quotes the warning, or, when the server keeps fewer
    warnings (``max_error_count``) than the present ids before it, says
    how many there were; either way the table is left as it was.
    """
    cursor = database.cursor()
    cursor.execute("ALTER TABLE user_data ADD COLUMN flag INT AS "
                   f"(IF(email = '{WARN}', CAST(name AS INT), 0)) STORED")
    cursor.executemany("INSERT INTO user_data (user_id, name, email, age) "
                       "VALUES (%s, %s, %s, %s)", WARNING[:2])
    cursor.close()
    before = what_table_is(database)
    path = write(tmp_path / "warn.csv", '"user_id","name","email","age"\n'
                 + "\n".join(map(quoted, WARNING)) + "\n")
    server.admin(f"SET GLOBAL max_error_count = {kept:d}")
    try:
        with pytest.raises(seed.SetupError) as raised:
            seed.insert_data(database, path)
    finally:
        server.admin("SET GLOBAL max_error_count = DEFAULT")
    said = ("Truncated incorrect INTEGER value: 'Warn Me' (Warning 1292)"
            if kept > 1 else "3 warnings for 2 rows skipped")
    assert str(raised.value) == (
        f"user_data did not take the rows as they were sent: {said}; "
        "nothing was loaded, the table was left as it was: check its "
        "columns and triggers (SHOW CREATE TABLE user_data)")
    assert what_table_is(database) == before
    assert not os.path.exists(path + ".rejects.csv")


def test_present_and_repeats_counted_exactly(database, tmp_path, capsys,
                                             method):
    """Present ids and repeats, across the real chunks, counted exactly.

    8,000 generated records: a first chunk of 5,000, a second of 3,000
    and more. The table holds 7 of their ids already, with other names,
    emails and ages: those rows are left as they were, and counted
    already present. The file ends with repeats of records of each
    chunk, one of a present id too, under other names: rejected as
    repeats of the first. ``already present`` is derived from the
    other counts: this pins it to what the table holds.
    """
    path = make_csv(tmp_path / "users.csv", 8_000, seed_value=11)
    with open(path, encoding="utf-8", newline="") as text:
        records = list(csv.DictReader(text))
    ids = [str(uuid5(NAMESPACE_URL, "mailto:" + record["email"].lower()))
           for record in records]
    present = {ids[at]: (f"Earlier {at}", f"earlier{at}@example.com",
                         f"{at % 100}.25")
               for at in (0, 1, 4_999, 5_000, 5_001, 7_000, 7_999)}
    cursor = database.cursor()
    cursor.executemany("INSERT INTO user_data VALUES (%s, %s, %s, %s)",
                       [(key, *values) for key, values in present.items()])
    cursor.close()
    again = (2, 3, 4_999, 6_000, 7_998, 2)  # 4,999 is present, 2 twice
    with open(path, "a", encoding="utf-8", newline="") as text:
        csv.writer(text, quoting=csv.QUOTE_ALL).writerows(
            [f"Again {at}", records[at]["email"].upper(), "1"]
            for at in again)
    counts, summary, _ = load(database, path, capsys)
    assert counts.method == method
    assert summary == (f"{path}: 7993 loaded, 7 already present, 6 "
                       f"rejected (see {path}.rejects.csv)")
    expected = {key: (record["name"], record["email"],
                      f"{Decimal(record['age']):.2f}")
                for key, record in zip(ids, records)}
    expected.update(present)
    assert {row[0]: row[1:] for row in table(database)} == expected
    assert {row["line"]: row["reason"] for row in rejects(path)} == {
        str(8_002 + number): f"repeats the email of line {at + 2}"
        for number, at in enumerate(again)}


def test_insert_data_loads_where_the_connection_points(
        server, spare_server, database, tmp_path, capsys, configure):
    """insert_data loads into the connection's database, on its server,
    wherever the default settings point.

    The settings name another database with a user_data of its own,
    then another server too (the spare one): each time the rows land
    in the connection's database, and the other stays empty.
    """
    here = os.environ["MYSQL_DATABASE"]
    other = "ALX_prodev_t" + secrets.token_hex(4)
    server.admin(f"CREATE DATABASE `{other}`; USE `{other}`; {seed.TABLE}")
    try:
        configure(MYSQL_DATABASE=other)
        path = write(tmp_path / "one.csv", HEADER + "\n" + quoted(ROWS[0]))
        _, summary, _ = load(database, path, capsys)
        assert summary == f"{path}: 1 loaded, 0 already present, 0 rejected"
        assert [row[1:] for row in table(database)] == STORED[:1]
        assert server.admin(
            f"SELECT COUNT(*) FROM `{other}`.user_data").split() == ["0"]
        spare_server.ensure_running()
        configure(MYSQL_DATABASE=here, MYSQL_PORT=str(spare_server.port))
        path = write(tmp_path / "two.csv", HEADER + "\n" + quoted(ROWS[1]))
        _, summary, _ = load(database, path, capsys)
        assert summary == f"{path}: 1 loaded, 0 already present, 0 rejected"
        assert [row[1:] for row in table(database)] == STORED
        assert here not in spare_server.admin("SHOW DATABASES").split()
    finally:
        server.admin(f"DROP DATABASE `{other}`")


def test_file_doubled_in_full(database, tmp_path, capsys, monkeypatch,
                              method):
    """A file that holds its records twice: each second one a repeat.

    30 records, then the same 30 again, some as other text (an email in
    capitals, spaces around it): chunks of 3 rows, then 7, so that the
    repeats fall in the same chunk as their first and in later ones;
    at most 7 repeats are sorted in memory at a time (a chunk's rows),
    so that the 30 are put in line order by merging 5 sorted runs. Four
    of the ids are in the table already, with other names, emails and
    ages: left as they were, counted present, and their second records
    are repeats.
    The rejects file and the summary are compared whole.
    """
    monkeypatch.setattr(loader, "FIRST_CHUNK_ROWS", 3)
    monkeypatch.setattr(loader, "CHUNK_ROWS", 7)
    records = [[f"User {number}", f"user{number}@example.com", f"{number}"]
               for number in range(30)]
    again = [[f"Again {number}", f" USER{number}@Example.com ", "1"]
             if number % 4 == 1 else fields
             for number, fields in enumerate(records)]
    path = write(tmp_path / "twice.csv", "".join(
        quoted(fields) + "\n" for fields in [["name", "email", "age"]]
        + records + again))
    ids = [str(uuid5(NAMESPACE_URL, f"mailto:user{number}@example.com"))
           for number in range(30)]
    present = {ids[at]: (f"Earlier {at}", f"earlier{at}@example.com",
                         f"{at}.25") for at in (0, 9, 10, 29)}
    cursor = database.cursor()
    cursor.executemany("INSERT INTO user_data VALUES (%s, %s, %s, %s)",
                       [(key, *values) for key, values in present.items()])
    cursor.close()
    counts, summary, _ = load(database, path, capsys)
    assert counts.method == method
    assert summary == (f"{path}: 26 loaded, 4 already present, 30 "
                       f"rejected (see {path}.rejects.csv)")
    assert reject_rows(path) == [
        (32 + number, fields, f"repeats the email of line {2 + number}")
        for number, fields in enumerate(again)]
    expected = {key: (name, email, f"{Decimal(age):.2f}")
                for key, (name, email, age) in zip(ids, records)}
    expected.update(present)
    assert {row[0]: row[1:] for row in table(database)} == expected
