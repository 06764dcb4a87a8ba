"""A user_data made elsewhere that would skip, change or keep rows.

``IGNORE`` skips a row whose id is present with one warning; it skips a
row a CHECK constraint, a foreign key or a partitioning refuses the
same way, and the load would count it "already present". A BEFORE
INSERT trigger may change a row as it goes in; an engine without
transactions keeps the rows of a load that fails. ``table.check``
refuses each such table before a row is sent, naming it and the
statement that lifts it, which the tests then run: the same file
loads. A trigger's SIGNAL during a load fails it, the table as it was.
Each on both load paths (the server allows LOCAL INFILE or not).
"""
import os
from uuid import NAMESPACE_URL, uuid5

import pytest

from test_loader import (PRESENT, add_present, load, method,  # noqa: F401
                         quoted, seed, table, watch_puts, what_table_is,
                         write)

AGAIN = "or drop the table and run ./seed.py again"
SKIPPED = "a row it refuses would be skipped, and counted as present"
# Three good records by the loader's rules; the second is over 100.
RECORDS = [("Ada", "ada@example.com", "30"),
           ("Old Bob", "bob@example.com", "150"),
           ("Cy", "cy@example.com", "40.5")]
# A user_data made elsewhere (statements run on the project's table,
# which holds the PRESENT user), and the error the load must give,
# whose last part (after the last ": ") is the statement that lifts it.
TABLES = {
    "CHECK constraint": (
        ["ALTER TABLE user_data ADD CONSTRAINT adult CHECK (age < 100)"],
        f"user_data has the CHECK constraint `adult`: {SKIPPED}: ALTER "
        f"TABLE user_data DROP CONSTRAINT `adult`, {AGAIN}"),
    "CHECK in a column": (  # made so: MySQL 8 may not take it in ALTER
        ["DROP TABLE user_data",
         "CREATE TABLE user_data (user_id CHAR(36) PRIMARY KEY, name "
         "VARCHAR(255) NOT NULL, email VARCHAR(255) NOT NULL, age "
         "DECIMAL(5,2) NOT NULL CHECK (age < 100)) DEFAULT CHARSET=utf8mb4 "
         "COLLATE=utf8mb4_unicode_ci",
         "INSERT INTO user_data VALUES ('%s', '%s', '%s', %s)" % PRESENT],
        f"user_data has the CHECK constraint `age`: {SKIPPED}: ALTER "
        f"TABLE user_data MODIFY age decimal(5,2) NOT NULL, {AGAIN}"),
    "foreign key": (
        ["CREATE TABLE ages (age DECIMAL(5,2) PRIMARY KEY)",
         "INSERT INTO ages VALUES (30), (50), (150)",
         "ALTER TABLE user_data ADD CONSTRAINT known_age FOREIGN KEY "
         "(age) REFERENCES ages (age)"],
        f"user_data has the foreign key `known_age`: {SKIPPED}: ALTER "
        f"TABLE user_data DROP FOREIGN KEY `known_age`, {AGAIN}"),
    "LIST partitions": (
        ["ALTER TABLE user_data PARTITION BY LIST COLUMNS (user_id) ("
         f"PARTITION known VALUES IN ('{PRESENT[0]}'))"],
        f"user_data is partitioned by LIST COLUMNS, with no partition for "
        f"some values: {SKIPPED}: ALTER TABLE user_data REMOVE "
        f"PARTITIONING, {AGAIN}"),
    "MyISAM": (
        ["ALTER TABLE user_data ENGINE=MyISAM"],
        "user_data is a MyISAM table, without transactions: a load that "
        "fails midway would leave part of its rows in the table, not the "
        f"table as it was: ALTER TABLE user_data ENGINE=InnoDB, {AGAIN}"),
    "MEMORY": (
        ["ALTER TABLE user_data ENGINE=MEMORY"],
        "user_data is a MEMORY table, without transactions: a load that "
        "fails midway would leave part of its rows in the table, not the "
        f"table as it was: ALTER TABLE user_data ENGINE=InnoDB, {AGAIN}"),
    "BEFORE INSERT trigger": (
        ["CREATE TRIGGER shout BEFORE INSERT ON user_data FOR EACH ROW "
         "SET NEW.name = UPPER(NEW.name)"],
        "user_data has the BEFORE INSERT trigger `shout`, which may "
        "change a row as it goes in: the table would not hold the file's "
        f"records as loaded: DROP TRIGGER `shout`, {AGAIN}"),
}
SIGNAL = ("CREATE TRIGGER too_old AFTER INSERT ON user_data FOR EACH ROW "
          "IF NEW.age > 120 THEN SIGNAL SQLSTATE '45000' SET "
          "MESSAGE_TEXT = 'too old'; END IF")
SIGNALLED = ("user_data refused a row: too old (a trigger's SIGNAL, error "
             "1644); nothing was loaded, the table was left as it was: "
             "check its triggers (SHOW TRIGGERS LIKE 'user_data')")


def write_records(folder):
    """Write RECORDS as the course's CSV in ``folder``; return its path."""
    return write(folder / "users.csv", '"name","email","age"\n' + "\n".join(
        map(quoted, RECORDS)) + "\n")


def loaded_rows():
    """Return PRESENT and RECORDS as user_data holds them, by id."""
    return sorted([PRESENT] + [
        (str(uuid5(NAMESPACE_URL, "mailto:" + email)), name, email,
         f"{float(age):.2f}") for name, email, age in RECORDS])


def run(connection, statements):
    """Run each of ``statements`` on ``connection``."""
    cursor = connection.cursor()
    for sql in statements:
        cursor.execute(sql)
    cursor.close()


def lifting(message):
    """Return the statement an error's ``message`` says lifts it."""
    return message.rsplit(": ", 1)[1].removesuffix(", " + AGAIN)


@pytest.mark.parametrize("kind", TABLES)
def test_table_that_would_skip_or_change_rows_refused(
        database, tmp_path, capsys, monkeypatch, method, kind):
    """Such a user_data stops the load before a row is sent.

    The one-line error names what is in the way and the statement that
    lifts it; the table is as it was (its SHOW CREATE TABLE and rows),
    and no rejects file is left. Once the statement has run, the same
    file loads: every record, the PRESENT user untouched.
    """
    statements, error = TABLES[kind]
    add_present(database)
    run(database, statements)
    before = what_table_is(database)
    seen = watch_puts(monkeypatch)
    path = write_records(tmp_path)
    with pytest.raises(seed.SetupError) as raised:
        seed.insert_data(database, path)
    assert str(raised.value) == error
    assert seen == []
    assert what_table_is(database) == before
    assert not os.path.exists(path + ".rejects.csv")
    run(database, [lifting(error)])
    counts, summary, _ = load(database, path, capsys)
    assert (counts.loaded, counts.present, counts.rejected) == (3, 0, 0)
    assert counts.method == method
    assert table(database) == loaded_rows()


def test_signal_in_a_trigger_fails_the_load(database, tmp_path, method):
    """An AFTER INSERT trigger's SIGNAL fails the load with one line
    that quotes it; the table is as it was, no rejects file is left.

    (tests/test_loader.py's ``test_failed_load_leaves_table_as_before``
    signals in a later chunk, the first one in the transaction.)
    """
    add_present(database)
    run(database, [SIGNAL])
    before = what_table_is(database)
    path = write_records(tmp_path)
    with pytest.raises(seed.SetupError) as raised:
        seed.insert_data(database, path)
    assert str(raised.value) == SIGNALLED
    assert what_table_is(database) == before
    assert not os.path.exists(path + ".rejects.csv")


def test_after_insert_trigger_loads(database, tmp_path, capsys, method):
    """An AFTER INSERT trigger cannot change the row: the load goes on,
    and the trigger sees every row loaded, once."""
    add_present(database)
    run(database, [
        "CREATE TABLE seen (user_id CHAR(36) PRIMARY KEY)",
        "CREATE TRIGGER note AFTER INSERT ON user_data FOR EACH ROW "
        "INSERT INTO seen VALUES (NEW.user_id)"])
    path = write_records(tmp_path)
    counts, summary, _ = load(database, path, capsys)
    assert summary == f"{path}: 3 loaded, 0 already present, 0 rejected"
    assert table(database) == loaded_rows()
    cursor = database.cursor()
    cursor.execute("SELECT user_id FROM seen ORDER BY user_id")
    assert cursor.fetchall() == [
        (row[0],) for row in loaded_rows() if row != PRESENT]
    cursor.close()


def test_partitions_for_every_value_load(database, tmp_path, capsys):
    """A user_data partitioned by RANGE with a MAXVALUE partition takes
    every row: it loads, every record."""
    add_present(database)
    run(database, ["ALTER TABLE user_data PARTITION BY RANGE COLUMNS "
                   "(user_id) (PARTITION low VALUES LESS THAN ('8'), "
                   "PARTITION high VALUES LESS THAN (MAXVALUE))"])
    path = write_records(tmp_path)
    counts, summary, _ = load(database, path, capsys)
    assert summary == f"{path}: 3 loaded, 0 already present, 0 rejected"
    assert table(database) == loaded_rows()
