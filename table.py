#!/usr/bin/env python3
"""The user_data table: how it is made, and what a table there must hold.

``CREATE`` makes the table as the course's seed does, in utf8mb4. It
leaves out the course's second index on ``user_id``: the primary key
already indexes that column.

``check(connection)`` runs before a load sends anything. ``CREATE
TABLE IF NOT EXISTS`` keeps a ``user_data`` made elsewhere, whatever
its shape, so ``check`` refuses such a table when:

- it could not hold every value the loader's checks let through
  (``COLUMN_NEEDS``), or ``user_id`` is not its only unique key;
- it would skip a good row as if its id were there already, change a
  row as it goes in, or keep part of a failed load (``check_rules``,
  ``TABLE_RULES``).

Each refusal is a ``SetupError`` that names the problem and the
statement that fixes it.

>>> "PRIMARY KEY" in CREATE
True
"""
from collections import namedtuple

import db

CREATE = f"""CREATE TABLE IF NOT EXISTS user_data (
    user_id CHAR(36) PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    email VARCHAR(255) NOT NULL,
    age DECIMAL(5,2) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET={db.CHARSET} COLLATE={db.COLLATION}"""

TABLE_COLUMNS = """SELECT COLUMN_NAME, COLUMN_TYPE, DATA_TYPE,
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
# What else in a table made elsewhere breaks the loader's promises, in
# one row. ``IGNORE`` skips a row that a CHECK constraint, a foreign key
# or a partitioning by RANGE or LIST (with no MAXVALUE or DEFAULT
# partition) refuses, with one warning, as it skips a row whose id is
# present: the load would count it "already present". A BEFORE INSERT
# trigger may change a row as it goes in. An engine without
# transactions keeps the rows of a load that fails midway. Each column
# is the first such thing, by name, or NULL (partitioned or not: see
# PARTITIONING); the subqueries compare only to constants and
# CONVERTed values: information_schema's columns may differ in
# collation on MySQL 8.
TABLE_RULES = """SELECT t.ENGINE,
        (SELECT e.TRANSACTIONS FROM information_schema.ENGINES AS e
            WHERE CONVERT(e.ENGINE USING utf8mb4)
                = CONVERT(t.ENGINE USING utf8mb4)),
        t.CREATE_OPTIONS LIKE '%partitioned%',
        (SELECT MIN(CONSTRAINT_NAME)
            FROM information_schema.TABLE_CONSTRAINTS
            WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'user_data'
                AND CONSTRAINT_TYPE = 'CHECK'),
        (SELECT MIN(CONSTRAINT_NAME)
            FROM information_schema.TABLE_CONSTRAINTS
            WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'user_data'
                AND CONSTRAINT_TYPE = 'FOREIGN KEY'),
        (SELECT MIN(TRIGGER_NAME) FROM information_schema.TRIGGERS
            WHERE EVENT_OBJECT_SCHEMA = DATABASE()
                AND EVENT_OBJECT_TABLE = 'user_data'
                AND EVENT_MANIPULATION = 'INSERT'
                AND ACTION_TIMING = 'BEFORE')
    FROM information_schema.TABLES AS t
    WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_NAME = 'user_data'"""
# How a partitioned user_data is partitioned, if a row can fit none of
# its partitions; else no row. Read only for a partitioned table: it
# costs a load 4 ms on MariaDB.
PARTITIONING = """SELECT MIN(PARTITION_METHOD)
    FROM information_schema.PARTITIONS
    WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'user_data'
        AND PARTITION_METHOD REGEXP '^(RANGE|LIST)'
    HAVING MAX(PARTITION_DESCRIPTION REGEXP '^(MAXVALUE|DEFAULT)') = 0"""
Column = namedtuple("Column", "type kind characters octets digits scale "
                    "charset free")  # a row of TABLE_COLUMNS, but the name
TEXT = ("char", "varchar", "tinytext", "text", "mediumtext", "longtext")


def holds_any_text(column):
    """Return True if ``column`` holds 255 characters of 4 bytes each."""
    return (column.kind in TEXT and column.characters >= 255
            and column.octets >= 4 * 255 and column.charset == "utf8mb4")


# What user_data needs to hold every value loader.py's ``RULES`` let
# through: for each column, a test of its ``Column``, what it needs, and
# a definition that has it. Any other column (None) gets no value from
# the loader.
COLUMN_NEEDS = {
    "user_id": (lambda column: column.kind in ("char", "varchar")
                and column.characters >= 36,
                "a CHAR or VARCHAR of 36 characters or more",
                "CHAR(36) NOT NULL"),
    "name": (holds_any_text, "a VARCHAR(255) or longer in utf8mb4",
             "VARCHAR(255) CHARACTER SET utf8mb4 NOT NULL"),
    "email": (holds_any_text, "a VARCHAR(255) or longer in utf8mb4",
              "VARCHAR(255) CHARACTER SET utf8mb4 NOT NULL"),
    "age": (lambda column: column.kind == "decimal" and column.digits >= 3
            and column.scale >= 2,
            "a DECIMAL with 3 digits before the point and 2 after, or more",
            "DECIMAL(5,2) NOT NULL"),
    None: (lambda column: column.free, "to be nullable or have a default",
           "{type} NULL"),
}


def check(connection):
    """Refuse a user_data that cannot hold every value loader.RULES allow.

    It may be a table made elsewhere, of another shape (``CREATE TABLE
    IF NOT EXISTS`` keeps it). Its columns (``COLUMN_NEEDS``) and unique
    keys are read from information_schema, before anything is sent:
    user_id alone must be a unique key (the server finds the ids
    present by it), and no other (it would skip a row with a new id).
    Raise ``SetupError`` naming the column, what it is, what it needs
    and the ``ALTER TABLE`` that gives it; then ``check_rules``.
    """
    columns = {name: Column(*rest)
               for name, *rest in db.fetched(connection, TABLE_COLUMNS)}
    if not columns:
        raise db.SetupError("there is no table user_data in this database: "
                            "create it (./seed.py, or seed.create_table)")
    again = "or drop the table and run ./seed.py again"
    others = [name for name in columns if name not in COLUMN_NEEDS]
    for name in [*COLUMN_NEEDS][:-1] + others:
        fits, needs, definition = COLUMN_NEEDS.get(name, COLUMN_NEEDS[None])
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
    keys = db.fetched(connection, UNIQUE_KEYS)
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
    check_rules(connection, columns, again)


def check_rules(connection, columns, again):
    """Refuse a user_data that would skip, change or keep rows wrongly.

    What it has is read in one query (``TABLE_RULES``; a second for a
    partitioned table, ``PARTITIONING``); ``columns`` are
    its ``Column``s by name; ``again`` ends each message. Raise
    ``SetupError`` naming what is in the way, why, and the statement
    that takes it away.
    """
    (engine, transactions, partitioned, check, foreign, trigger), = \
        db.fetched(connection, TABLE_RULES)
    if partitioned:
        (partitioned,), = db.fetched(connection, PARTITIONING) or [(None,)]
    skipped = "a row it refuses would be skipped, and counted as present"
    if transactions != "YES":
        raise db.SetupError(
            f"user_data is a {engine} table, without transactions: a load "
            "that fails midway would leave part of its rows in the table, "
            f"not the table as it was: ALTER TABLE user_data ENGINE=InnoDB, "
            f"{again}")
    if check is not None:
        column = columns.get(check)
        if column and "MariaDB" in connection.server_info:
            # MariaDB names a CHECK in a column's definition after the
            # column; a new definition drops it
            lift = (f"ALTER TABLE user_data MODIFY {check} {column.type}"
                    + (f" CHARACTER SET {column.charset}" if column.charset
                       else "")
                    + (" NOT NULL" if check in COLUMN_NEEDS else " NULL"))
        else:
            lift = f"ALTER TABLE user_data DROP CONSTRAINT `{check}`"
        raise db.SetupError(f"user_data has the CHECK constraint `{check}`: "
                            f"{skipped}: {lift}, {again}")
    if foreign is not None:
        raise db.SetupError(
            f"user_data has the foreign key `{foreign}`: {skipped}: ALTER "
            f"TABLE user_data DROP FOREIGN KEY `{foreign}`, {again}")
    if partitioned:
        raise db.SetupError(
            f"user_data is partitioned by {partitioned}, with no partition "
            f"for some values: {skipped}: ALTER TABLE user_data REMOVE "
            f"PARTITIONING, {again}")
    if trigger is not None:
        raise db.SetupError(
            f"user_data has the BEFORE INSERT trigger `{trigger}`, which "
            "may change a row as it goes in: the table would not hold the "
            f"file's records as loaded: DROP TRIGGER `{trigger}`, {again}")
