"""The course's tasks on a real server: prototypes, output, order, close.

Each test runs the project's own functions or scripts against the
session's throwaway MariaDB server and checks what they give against SQL
run directly, or against the CSV file the rows were loaded from.
"""
import ast
import csv
import importlib
import inspect
import math
import os
import re
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from itertools import chain, islice
from uuid import NAMESPACE_URL, uuid5

import mysql.connector
import pytest
from mysql.connector.connection import MySQLConnection

from testlab import (PYTHON, ROOT, db, gated_table, run_piped, run_script,
                     seed, wait_for)

streaming = importlib.import_module("0-stream_users")
batching = importlib.import_module("1-batch_processing")
paging = importlib.import_module("2-lazy_paginate")
averaging = importlib.import_module("4-stream_ages")
keyset = importlib.import_module("keyset_paginate")

CSV_PATH = os.path.join(ROOT, "user_data.csv")
ROWS = 1000
SIZES = (1, 7, 100, 999, 1000, 1001)
SELECT = "SELECT user_id, name, email, age FROM user_data ORDER BY user_id"
CENT = Decimal("0.01")


@pytest.fixture
def prodev(course_db, configure):
    """ALX_prodev, seeded from user_data.csv, named by MYSQL_DATABASE."""
    configure(MYSQL_DATABASE="ALX_prodev")
    return course_db


def query(sql, params=()):
    """Run ``sql`` on a connection of its own; return all the rows."""
    connection = seed.connect()
    try:
        cursor = connection.cursor()
        cursor.execute(sql, params)
        rows = cursor.fetchall()
        cursor.close()
    finally:
        connection.close()
    return rows


def com_select(server):
    """Return how many SELECT statements the server has run so far."""
    return int(server.admin("SHOW GLOBAL STATUS LIKE 'Com_select'")
               .split()[1])


def expected_users():
    """Return the table's users as the course's dicts, read with SQL.

    A whole age is an int, any other a Decimal, as the tasks give them.
    """
    users = []
    for user_id, name, email, age in query(SELECT):
        if age == age.to_integral_value():
            age = int(age)
        users.append({"user_id": user_id, "name": name, "email": email,
                      "age": age})
    return users


def csv_records(path=CSV_PATH):
    """Return the records of a users CSV as dicts of its three columns."""
    with open(path, encoding="utf-8", newline="") as source:
        return list(csv.DictReader(source))


def write_users(path, users):
    """Write ``(name, email, age)`` records as a course-format CSV."""
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(["name", "email", "age"])
        writer.writerows(users)
    return str(path)


def exact_mean(ages):
    """Return the mean of the ages (strings), rounded half-up to cents."""
    values = [Decimal(age) for age in ages]
    return (sum(values) / len(values)).quantize(CENT, ROUND_HALF_UP)


def parse_user(line):
    """Read back a printed user dict; a ``Decimal('x')`` age is kept."""
    plain = re.sub(r"Decimal\('([0-9.]+)'\)", r"'#\1'", line)
    user = ast.literal_eval(plain)
    if isinstance(user["age"], str):
        user["age"] = Decimal(user["age"][1:])
    return user


# Prototypes

@pytest.mark.parametrize("name, params", [
    ("connect_db", []),
    ("create_database", ["connection"]),
    ("connect_to_prodev", []),
    ("create_table", ["connection"]),
    ("insert_data", ["connection", "data"]),
])
def test_seed_prototypes(name, params):
    """seed.py has the course's functions with the course's parameters."""
    assert list(inspect.signature(getattr(seed, name)).parameters) == params


@pytest.mark.parametrize("module, name, params", [
    (streaming, "stream_users", []),
    (batching, "stream_users_in_batches", ["batch_size"]),
    (batching, "batch_processing", ["batch_size"]),
    (paging, "paginate_users", ["page_size", "offset"]),
    (paging, "lazy_paginate", ["page_size"]),
    (paging, "lazy_pagination", ["page_size"]),
    (averaging, "stream_user_ages", []),
], ids=lambda value: value if isinstance(value, str) else None)
def test_task_prototypes(module, name, params):
    """Each task module has the course's functions and parameters."""
    function = getattr(module, name)
    assert list(inspect.signature(function).parameters) == params


def test_lazy_pagination_is_lazy_paginate():
    """3-main.py's name for the paginator is the same function."""
    assert paging.lazy_pagination is paging.lazy_paginate


@pytest.mark.parametrize("function", [
    streaming.stream_users, batching.stream_users_in_batches,
    paging.lazy_paginate, averaging.stream_user_ages,
], ids=lambda function: function.__name__)
def test_streams_are_generator_functions(function):
    """The four streams are generators, as the course asks."""
    assert inspect.isgeneratorfunction(function)


# The main scripts, on the committed CSV

def test_table_holds_the_csv(prodev):
    """user_data holds every CSV record once, with its uuid5 user_id."""
    rows = query(SELECT)
    from_csv = sorted(
        (str(uuid5(NAMESPACE_URL, "mailto:" + record["email"].lower())),
         record["name"], record["email"], Decimal(record["age"]))
        for record in csv_records())
    assert len(from_csv) == ROWS
    assert sorted(rows) == from_csv


def test_0_main_output(prodev):
    """0-main.py prints the course's four lines, the rows in key order.

    The load's report goes to stderr, alone there.
    """
    first_five = query("SELECT * FROM user_data ORDER BY user_id LIMIT 5")
    assert prodev.stdout.splitlines() == [
        "connection successful", "Table user_data created successfully",
        "Database ALX_prodev is present ", repr(first_five)]
    assert prodev.stderr == (
        f"user_data.csv: {ROWS} loaded, 0 already present, 0 rejected\n")
    ids = [row[0] for row in query("SELECT user_id FROM user_data")]
    assert [row[0] for row in first_five] == sorted(ids)[:5]


def test_1_main_prints_first_six(prodev):
    """1-main.py prints the first six users of stream_users()."""
    done = run_script("1-main.py")
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    expected = expected_users()[:6]
    assert [parse_user(line) for line in lines] == expected
    assert lines == [str(user) for user in expected]
    assert lines == [str(user) for user in islice(streaming.stream_users(),
                                                  6)]


def test_2_main_prints_users_over_25(prodev):
    """2-main.py prints exactly the users over 25, in stream order."""
    done = run_script("2-main.py")
    assert (done.returncode, done.stderr) == (0, "")
    expected = [user for user in expected_users() if user["age"] > 25]
    assert 0 < len(expected) < ROWS
    lines = done.stdout.splitlines()
    assert lines == [str(user) for user in expected]
    assert [parse_user(line) for line in lines] == expected


def test_3_main_prints_every_user(prodev):
    """3-main.py prints all the users, in primary-key order."""
    done = run_script("3-main.py")
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    assert len(lines) == ROWS
    assert lines == [str(user) for user in expected_users()]


@pytest.mark.parametrize("script", ["2-main.py", "3-main.py"])
def test_main_piped_to_head(prodev, server, script):
    """``| head -n 5`` gets five lines; the script exits 0, silently.

    The exit code and stderr are the script's own, not ``head``'s; no
    connection is left behind.
    """
    before = server.ids()
    code, out, err = run_piped([PYTHON, os.path.join(ROOT, script)], 5)
    assert (code, err) == (0, "")
    users = expected_users()
    if script == "2-main.py":
        users = [user for user in users if user["age"] > 25]
    assert out.splitlines() == [str(user) for user in users[:5]]
    server.wait_settled(before)


@pytest.mark.parametrize("script", ["2-main.py", "3-main.py"])
def test_main_reader_stops_early(prodev, server, script):
    """The script itself exits 0, silently, when its reader goes away."""
    before = server.ids()
    process = subprocess.Popen([PYTHON, os.path.join(ROOT, script)],
                               cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        lines = [process.stdout.readline() for _ in range(5)]
        process.stdout.close()
        errors = process.stderr.read()
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert all(line.startswith("{'user_id': ") for line in lines)
    assert (code, errors) == (0, "")
    server.wait_settled(before)


def test_4_stream_ages_prints_exact_average(prodev):
    """4-stream_ages.py prints the CSV's exact mean age, rounded half-up."""
    expected = exact_mean(record["age"] for record in csv_records())
    done = run_script("4-stream_ages.py")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"Average age of users: {expected}\n"
    assert query("SELECT ROUND(AVG(age), 2) FROM user_data") == [(expected,)]
    average = averaging.average_age(averaging.stream_user_ages())
    assert (average, str(average)) == (expected, str(expected))


@pytest.mark.parametrize("ages, mean", [
    (["0.00", "0.01"], "0.01"),
    (["25.50", "30", "20"], "25.17"),
    (["1", "2", "2"], "1.67"),
    (["999.99", "999.99", "0"], "666.66"),
    (["40"], "40.00"),
])
def test_4_stream_ages_rounds_half_up(database, tmp_path, capsys, ages,
                                      mean):
    """Ages with cents average exactly, rounded half-up as SQL does."""
    path = write_users(tmp_path / "ages.csv", [
        (f"User {number}", f"user{number}@example.com", age)
        for number, age in enumerate(ages)])
    seed.insert_data(database, path)
    assert str(exact_mean(ages)) == mean
    done = run_script("4-stream_ages.py")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"Average age of users: {mean}\n"
    assert query("SELECT ROUND(AVG(age), 2) FROM user_data") == [
        (Decimal(mean),)]


def test_4_stream_ages_empty_table(database):
    """With no users there is no average: the script says so, exits 0."""
    done = run_script("4-stream_ages.py")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("No users in user_data")
    assert averaging.average_age(averaging.stream_user_ages()) is None


PEER_NAMES = ["average_age", "calculate_average_age", "compute_average_age"]


@pytest.mark.parametrize("name", PEER_NAMES)
def test_average_by_any_peer_name_without_argument(prodev, name):
    """Called with no argument, each name other learners' mains use
    averages every user's age: the CSV's exact mean, as a Decimal."""
    expected = exact_mean(record["age"] for record in csv_records())
    average = getattr(averaging, name)()
    assert (average, str(average)) == (expected, str(expected))


@pytest.mark.parametrize("name", PEER_NAMES)
def test_average_by_any_peer_name_on_empty_table(database, name):
    """On an empty table each name gives None, as ``average_age`` does."""
    assert getattr(averaging, name)() is None
    assert getattr(averaging, name)([]) is None


# The task files run as scripts

def first_three(users):
    """Return the first three users, one per line, as the scripts print."""
    return [str(user) for user in users[:3]]


def pages_of_two(users):
    """Return the first two pages of two users, as the scripts print them."""
    return [str(users[0:2]), str(users[2:4])]


@pytest.mark.parametrize("script, shown", [
    ("0-stream_users.py", first_three),
    ("1-batch_processing.py", first_three),
    ("2-lazy_paginate.py", pages_of_two),
    ("keyset_paginate.py", pages_of_two),
], ids=lambda value: value if isinstance(value, str) else None)
def test_task_file_run_alone_shows_its_first_users(prodev, server, script,
                                                   shown):
    """``./0-stream_users.py`` and the like show the first users they
    give, exit 0 and leave no connection behind."""
    before = server.ids()
    done = run_script(script)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == shown(expected_users())
    server.wait_settled(before)


# Order and completeness

def test_stream_users_complete_in_key_order(prodev):
    """stream_users() yields every user once, in user_id order."""
    users = list(streaming.stream_users())
    ids = [user["user_id"] for user in users]
    table_ids = {row[0] for row in query("SELECT user_id FROM user_data")}
    assert len(ids) == len(set(ids)) == len(table_ids) == ROWS
    assert set(ids) == table_ids
    assert ids == sorted(ids)
    assert users == expected_users()


@pytest.mark.parametrize("size", SIZES)
def test_batches_match_stream(prodev, size):
    """Batches of ``size`` users flatten to stream_users(), in order."""
    stream = list(streaming.stream_users())
    batches = list(batching.stream_users_in_batches(size))
    assert all(0 < len(batch) <= size for batch in batches)
    assert all(len(batch) == size for batch in batches[:-1])
    assert len(batches) == math.ceil(ROWS / size)
    assert list(chain.from_iterable(batches)) == stream


@pytest.mark.parametrize("size", SIZES)
def test_pages_match_stream_with_no_extra_query(prodev, server, size):
    """Pages flatten to stream_users(); no query after a short page.

    A full last page needs one more query, which finds nothing; a short
    one ends the pagination at once.
    """
    stream = list(streaming.stream_users())
    before = com_select(server)
    pages = list(paging.lazy_paginate(size))
    queries = com_select(server) - before
    assert all(0 < len(page) <= size for page in pages)
    assert all(len(page) == size for page in pages[:-1])
    assert len(pages) == math.ceil(ROWS / size)
    assert queries == ROWS // size + 1
    assert list(chain.from_iterable(pages)) == stream


@pytest.mark.parametrize("size", SIZES)
def test_keyset_pages_are_the_offset_pages(prodev, server, size):
    """keyset_paginate yields lazy_paginate's pages, one query each."""
    offset_pages = list(paging.lazy_paginate(size))
    before = com_select(server)
    pages = keyset.keyset_paginate(size)
    assert com_select(server) == before
    assert list(pages) == offset_pages
    assert com_select(server) - before == ROWS // size + 1


def test_lazy_paginate_fetches_only_when_asked(prodev, server):
    """Making the generator queries nothing; each next() one page."""
    before = com_select(server)
    pages = paging.lazy_paginate(100)
    assert com_select(server) == before
    first = next(pages)
    assert com_select(server) == before + 1
    second = next(pages)
    assert com_select(server) == before + 2
    pages.close()
    assert first + second == expected_users()[:200]


@pytest.mark.parametrize("size, offset", [
    (7, 0), (7, 3), (10, 995), (10, 1000), (1001, 0)])
def test_paginate_users_slices(prodev, size, offset):
    """paginate_users returns the users from ``offset``, ``size`` of them."""
    expected = expected_users()[offset:offset + size]
    assert paging.paginate_users(size, offset) == expected


@pytest.mark.parametrize("value, error", [
    (0, ValueError), (-1, ValueError), ("10", TypeError),
    (1.5, TypeError), (True, TypeError), (None, TypeError)])
@pytest.mark.parametrize("function", [
    batching.stream_users_in_batches, paging.lazy_paginate,
], ids=lambda function: function.__name__)
def test_bad_size_rejected_without_connecting(server, own_user, function,
                                              value, error):
    """A size that is not a whole number of at least 1 is refused.

    No connection is opened: the server counts none for the test's own
    user.
    """
    with pytest.raises(error):
        next(function(value))
    assert server.user_stats(own_user)["connections"] == 0


def test_whole_ages_int_others_decimal(database, tmp_path, capsys):
    """A whole age is an int; an age with cents is its exact Decimal."""
    path = write_users(tmp_path / "ages.csv", [
        ("Half Age", "half@example.com", "25.50"),
        ("Whole Age", "whole@example.com", "30"),
        ("Whole Cents", "cents@example.com", "41.00"),
        ("Tiny Age", "tiny@example.com", "0.01"),
        ("Exactly", "exactly@example.com", "25")])
    assert seed.insert_data(database, path).loaded == 5
    capsys.readouterr()
    users = list(streaming.stream_users())
    ages = {user["email"].split("@")[0]: user["age"] for user in users}
    assert ages == {"half": Decimal("25.50"), "whole": 30, "cents": 41,
                    "tiny": Decimal("0.01"), "exactly": 25}
    assert [type(ages[key]) for key in ("half", "whole", "cents", "tiny")
            ] == [Decimal, int, int, Decimal]
    assert (str(ages["half"]), str(ages["tiny"])) == ("25.50", "0.01")
    assert list(chain.from_iterable(
        batching.stream_users_in_batches(2))) == users
    assert list(chain.from_iterable(paging.lazy_paginate(2))) == users
    assert sorted(averaging.stream_user_ages()) == sorted(ages.values())
    batching.batch_processing(2)
    printed = capsys.readouterr().out.splitlines()
    assert printed == [str(user) for user in users if user["age"] > 25]
    assert {parse_user(line)["name"] for line in printed} == {
        "Half Age", "Whole Age", "Whole Cents"}


# Names beyond ASCII

def test_non_ascii_names_round_trip(database, tmp_path, capsys):
    """Names with accents, runes and emoji come back as they went in."""
    names = ["Zoë Ōtani", "Þórr 😀"]
    path = write_users(tmp_path / "names.csv", [
        (names[0], "zoe@example.com", "33"),
        (names[1], "thor@example.com", "99")])
    assert seed.insert_data(database, path).loaded == 2
    by_email = {user["email"]: user["name"]
                for user in streaming.stream_users()}
    assert by_email == {"zoe@example.com": names[0],
                        "thor@example.com": names[1]}
    pages = list(chain.from_iterable(paging.lazy_paginate(1)))
    batches = list(chain.from_iterable(batching.stream_users_in_batches(1)))
    assert sorted(user["name"] for user in pages) == sorted(names)
    assert sorted(user["name"] for user in batches) == sorted(names)
    stored = dict(query("SELECT HEX(name), CHAR_LENGTH(name) FROM user_data"))
    assert stored == {name.encode().hex().upper(): len(name)
                      for name in names}


# Seeding again

def test_reseed_changes_nothing(prodev):
    """0-main.py again: the same rows, and 0 loaded, 1000 present."""
    before = query("SELECT * FROM user_data ORDER BY user_id")
    done = run_script("0-main.py")
    assert done.returncode == 0, done.stderr
    after = query("SELECT * FROM user_data ORDER BY user_id")
    assert len(after) == ROWS
    assert after == before
    assert done.stderr == (f"user_data.csv: 0 loaded, {ROWS} already "
                           "present, 0 rejected; nothing changed\n")
    assert done.stdout == prodev.stdout


# Closing a stream early

def take_with_islice():
    """Take three users through islice, as 1-main.py does."""
    assert len(list(islice(streaming.stream_users(), 3))) == 3


def take_with_break():
    """Leave a for loop over the stream with break."""
    for number, _ in enumerate(streaming.stream_users()):
        if number == 2:
            break
    assert number == 2


def close_batches():
    """Take one batch of ten, then close the generator."""
    batches = batching.stream_users_in_batches(10)
    assert len(next(batches)) == 10
    batches.close()
    assert next(batches, None) is None


def close_ages():
    """Take one age, then close the generator."""
    ages = averaging.stream_user_ages()
    assert isinstance(next(ages), (int, Decimal))
    ages.close()
    assert next(ages, None) is None


@pytest.mark.parametrize("stop", [take_with_islice, take_with_break,
                                  close_batches, close_ages],
                         ids=lambda stop: stop.__name__)
def test_early_close_gives_the_connection_back(prodev, server, own_user,
                                               stop):
    """Stopping a stream early leaves no connection behind.

    The server counts exactly two for the test's own user: the
    stream's, and the one that cancels its query; neither is left.
    """
    stop()
    wait_for(lambda: not server.ids(f"USER = '{own_user}'"),
             "the stream's connections to end")
    assert server.user_stats(own_user)["connections"] == 2


def test_open_stream_holds_one_connection(prodev, server):
    """While a stream is open it holds one connection; close ends it."""
    before = server.ids()
    users = streaming.stream_users()
    next(users)
    opened = server.ids() - before
    assert len(opened) == 1
    users.close()
    server.wait_gone(opened)


ISLICE_PROGRAMS = {
    "list": ("from itertools import islice\n"
             "stream_users = __import__('0-stream_users').stream_users\n"
             "for user in list(islice(stream_users(), 3)):\n"
             "    print(user)\n"),
    "loop": ("from itertools import islice\n"
             "stream_users = __import__('0-stream_users').stream_users\n"
             "for user in islice(stream_users(), 3):\n"
             "    print(user)\n"),
    "left_open": ("from itertools import islice\n"
                  "stream_users = __import__('0-stream_users').stream_users\n"
                  "users = islice(stream_users(), 5)\n"
                  "for _ in range(3):\n"
                  "    print(next(users))\n"),
}


@pytest.mark.parametrize("program", sorted(ISLICE_PROGRAMS))
def test_islice_program_is_quiet(prodev, server, program):
    """A program that stops a stream with islice writes no stderr.

    ``left_open`` leaves the stream open until the interpreter exits.
    """
    before = server.ids()
    done = subprocess.run([PYTHON, "-c", ISLICE_PROGRAMS[program]],
                          cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stderr) == (0, "")
    lines = done.stdout.splitlines()
    assert lines == [str(user) for user in expected_users()[:3]]
    server.wait_settled(before)


def test_close_of_million_row_stream_cancels_the_query(
        big_db, server, own_user, configure):
    """Closing after 10 of 1,000,000 rows cancels the query on the server.

    The close opens one more connection, which cancels the query (KILL
    QUERY); both end; the server has sent a small part of the table,
    not the rest of it (what a close that drains the result would cost;
    the benchmark times it). All is counted for the test's own user
    alone: another client's traffic meanwhile changes nothing.
    """
    configure(MYSQL_DATABASE=big_db)
    table_bytes = int(server.admin(
        "SELECT SUM(LENGTH(user_id) + LENGTH(name) + LENGTH(email) + 10) "
        f"FROM `{big_db}`.user_data"))
    mine = f"USER = '{own_user}'"
    for _ in range(3):
        before = server.user_stats(own_user)
        users = streaming.stream_users()
        first = [next(users) for _ in range(10)]
        assert len({user["user_id"] for user in first}) == 10
        assert len(server.ids(mine)) == 1
        users.close()
        wait_for(lambda: not server.ids(mine), "the stream's connections "
                 "to end")
        after = server.user_stats(own_user)
        assert after["connections"] - before["connections"] == 2
        sent = after["rows_sent"] - before["rows_sent"]
        assert 10 <= sent < 250_000
        assert after["bytes_sent"] - before["bytes_sent"] < table_bytes // 4
        assert not server.ids("INFO LIKE 'SELECT % FROM user_data%'")


def use_pure_driver(monkeypatch):
    """Make every connection use the connector's pure-Python protocol."""
    connect = db.connect

    def pure(conf, database=True, **options):
        """Open a pure-Python connection with settings ``conf``."""
        return connect(conf, database, use_pure=True, **options)

    monkeypatch.setattr(db, "connect", pure)


@pytest.fixture(scope="module")
def gated(server):
    """A database of 20,000 users whose row 5,000 waits at the gate."""
    name = "ALX_prodev_gated_course"
    gated_table(server, name, 20_000, 5_000)
    yield name
    server.admin(f"DROP DATABASE `{name}`")


@pytest.mark.parametrize("driver", ["c_extension", "pure_python"])
def test_query_killed_on_server_raises(gated, gate, server, monkeypatch,
                                       configure, driver):
    """A query killed mid-stream raises an error, never a short stream.

    The stream has rows; its query waits at the gate (row 5,000) when
    it is killed there. No row past the gate arrives, then the error.
    """
    configure(MYSQL_DATABASE=gated)
    if driver == "pure_python":
        use_pure_driver(monkeypatch)
    before = server.ids()
    users = streaming.stream_users()
    next(users)
    victim = gate.waiting()
    server.admin(f"KILL QUERY {victim:d}")
    count = 1
    with pytest.raises(mysql.connector.DatabaseError, match="1317"):
        for _ in users:
            count += 1
    assert count < 5_000
    server.wait_settled(before)


def test_pure_python_driver_streams_the_same(prodev, server, monkeypatch):
    """Without the C extension the streams give the same users.

    seed.connect is made to ask for the connector's pure-Python
    protocol, on the same real server, to run the fallback path.
    """
    expected = expected_users()
    use_pure_driver(monkeypatch)
    connection = seed.connect()
    assert isinstance(connection, MySQLConnection)
    connection.close()
    assert list(streaming.stream_users()) == expected
    assert list(chain.from_iterable(
        batching.stream_users_in_batches(7))) == expected
    before = server.ids()
    users = streaming.stream_users()
    next(users)
    opened = server.ids() - before
    users.close()
    assert len(opened) == 1
    server.wait_gone(opened)
