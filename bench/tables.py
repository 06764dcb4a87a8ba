"""The benchmark's data: the CSVs, and a user_data table of each size.

The CSVs are made by ``scripts/make_users_csv.py`` in ``bench/data/``
(kept between runs). The tables of 10k, 100k and 1M rows are in the
databases ``ALX_prodev_bench_10k``, ``_100k`` and ``_1m`` on the
project-local server; a table that already has the right row count is
reused. The 200k-row CSV is only loaded by the seeding cases; the
re-seeding cases load the 1M-row one over rows loaded from a copy with
its ids (``with_ids``). The sizes and their labels are in sizes.py.
"""
import csv
import os
import subprocess
import sys
from itertools import islice

import launch
import server
from sizes import CSVS, SIZES, database_of

DATA = os.path.join(launch.BENCH, "data")


def make_csvs():
    """Write the CSVs of each size into bench/data, unless already there.

    Return the path of each, by label.
    """
    os.makedirs(DATA, exist_ok=True)
    paths = {}
    for label, rows in CSVS.items():
        path = os.path.join(DATA, f"users_{label}.csv")
        if not os.path.exists(path):
            with launch.step(f"writing {rows:,} rows to "
                             f"{os.path.relpath(path)}"):
                subprocess.run(
                    [sys.executable,
                     os.path.join(server.ROOT, "scripts", "make_users_csv.py"),
                     path + ".part", "--rows", str(rows)], check=True)
            os.replace(path + ".part", path)
        paths[label] = path
    return paths


def with_ids(path):
    """Return a copy of the CSV at ``path`` with its ids, made once.

    ``<name>_ids.csv`` beside it: ``user_id`` first, the id
    ``seed.insert_data`` gives each record (``loader.user_ids_for``),
    then the record, every field quoted, for ``LOAD DATA`` of the same
    rows with the same ids.
    """
    copy = path[:-len(".csv")] + "_ids.csv"
    if os.path.exists(copy):
        return copy
    with launch.step(f"writing {os.path.relpath(copy)}"):
        with open(path, encoding="utf-8", newline="") as text, \
                open(copy + ".part", "w", encoding="utf-8",
                     newline="") as out:
            records, writer = csv.reader(text), csv.writer(
                out, quoting=csv.QUOTE_ALL, lineterminator="\n")
            at = {name: column for column, name in enumerate(next(records))}
            writer.writerow(["user_id", "name", "email", "age"])
            while batch := list(islice(records, 10_000)):
                fields = [[record[at[name]] for record in batch]
                          for name in ("name", "email", "age")]
                writer.writerows(zip(server.loader.user_ids_for(fields[1]),
                                     *fields))
        os.replace(copy + ".part", copy)
    return copy


def fresh_table(database, host=None):
    """Create ``database`` if needed and an empty user_data in it.

    On the project-local server, or on the first of ``host``'s servers.
    """
    server.query(None, f"CREATE DATABASE IF NOT EXISTS `{database}` "
                 f"CHARACTER SET {server.db.CHARSET} "
                 f"COLLATE {server.db.COLLATION}", host=host)
    server.query(database, "DROP TABLE IF EXISTS user_data", host=host)
    server.query(database, server.seed.TABLE, host=host)


def row_count(database, host=None):
    """Return the rows in user_data of ``database``, None if it has none.

    On the project-local server, or on the first of ``host``'s servers.
    """
    exists = server.query(None, "SELECT COUNT(*) FROM information_schema."
                          "tables WHERE table_schema = %s AND table_name = "
                          "'user_data'", (database,), host)[0][0]
    if not exists:
        return None
    return server.query(database, "SELECT COUNT(*) FROM user_data",
                        host=host)[0][0]


def drop(database):
    """Drop ``database``, if it exists."""
    server.query(None, f"DROP DATABASE IF EXISTS `{database}`")


def prepare_tables(paths):
    """Load each size's table, unless it already has its rows.

    Each load is seed.insert_data, run as the ``insert_data`` case.
    Return the load path taken by each load done (empty: all reused).
    """
    methods = {}
    for label, rows in SIZES:
        database = database_of(label)
        if row_count(database) == rows:
            launch.note(f"{database}: {rows:,} rows, reused")
            continue
        fresh_table(database)
        counts = launch.run_case(f"loading {rows:,} rows into {database}",
                                 "insert_data", database,
                                 {"path": paths[label]},
                                 shows_load=True)["value"]
        if row_count(database) != rows:
            sys.exit(f"error: {database} has {row_count(database)} rows "
                     f"after the load, not {rows}: {counts}")
        methods[label] = counts["method"]
        launch.note(f"{database}: {rows:,} rows loaded by {counts['method']}")
    return methods
