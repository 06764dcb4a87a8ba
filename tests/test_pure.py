"""Pure functions, tested without a database server.

``loader.check`` and ``loader.user_id_for`` (a CSV record's checks and
its id), ``loader.check_batch`` and ``loader.checked_rows`` (the same
rules, a column at a time), ``average_age`` of 4-stream_ages.py (exact,
half-up, streamed), seed's ``to_age``, ``as_users`` and ``check_int``,
and the check of a stream's key. No test here uses the ``server``
fixture or any other: each runs in milliseconds.
Expectations are derived independently, with ``uuid.uuid5`` and exact
``Decimal`` arithmetic.
"""
import importlib
import os
import random
import re
import uuid
import weakref
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext

import loader
import pytest

from testlab import localdb, seed

average_age = importlib.import_module("4-stream_ages").average_age

CENT = Decimal("0.01")
NAMES = ("name", "email", "age")  # the course's header
DEFAULT = loader.Layout(3, {"name": 0, "email": 1, "age": 2})  # for it
WITH_ID = loader.Layout(4, {"email": 0, "age": 1, "name": 2,
                            "user_id": 3})  # header: email,age,name,user_id


def course_id(email):
    """Return the README's id for ``email``, computed by the uuid module."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL,
                          "mailto:" + email.strip(" ").lower()))


def exact_average(values):
    """Return the exact mean of ``values`` rounded half-up to cents."""
    with localcontext() as context:
        context.prec = 100  # far more digits than any mean here needs
        mean = sum(map(Decimal, values)) / len(values)
        return mean.quantize(CENT, rounding=ROUND_HALF_UP)


# loader.check ------------------------------------------------------------

GOOD = [
    (["Ada Lovelace", "ada@example.com", "36"], "Ada Lovelace",
     "ada@example.com", "36"),
    ([" Grace Hopper ", " Grace@Example.com ", "85.5"], "Grace Hopper",
     "Grace@Example.com", "85.5"),
    (["Zoë Ōtani", "zoe@exämple.jp", " 0 "], "Zoë Ōtani", "zoe@exämple.jp",
     "0"),
    (["Þórr 😀", "thor+tag@mail.example.co.uk", "999.99"], "Þórr 😀",
     "thor+tag@mail.example.co.uk", "999.99"),
    (["  Spaced  ", "   spaced@example.com ", "  25.50 "], "Spaced",
     "spaced@example.com", "25.50"),
    (["\u00a0Kept\x85", "kept@example.com", "1"], "\u00a0Kept\x85",
     "kept@example.com", "1"),
    (["\u2028Kept\u3000", "kept@example.com", "1"], "\u2028Kept\u3000",
     "kept@example.com", "1"),
    (["N" * 255, "x" * 243 + "@example.com", "007"], "N" * 255,
     "x" * 243 + "@example.com", "007"),
    (["Dot", "first.last@a.b", "1.5"], "Dot", "first.last@a.b", "1.5"),
]


@pytest.mark.parametrize("fields, name, email, age", GOOD)
def test_check_good_record_without_id(fields, name, email, age):
    """A good record gives its name, email and age string as written,
    the spaces around them trimmed (nothing else: a no-break space, a
    line separator or U+0085 at the ends of a name stay), and the uuid5
    id of its email."""
    row = loader.check(fields, DEFAULT)
    assert row == (course_id(email), name, email, age)


@pytest.mark.parametrize("fields, name, email, age", GOOD)
def test_check_good_record_with_id_in_any_column_order(fields, name, email,
                                                       age):
    """With a user_id column, in another column order, the id is kept
    (trimmed, lower-cased) and the other fields are cleaned the same."""
    given = uuid.UUID(int=random.Random(email).getrandbits(128))
    record = [fields[1], fields[2], fields[0], f" {str(given).upper()} "]
    row = loader.check(record, WITH_ID)
    assert row == (str(given), name, email, age)


BAD = [
    # (name, email, age): the field the reason must name
    (("", "a@example.com", "30"), "name"),
    (("   ", "a@example.com", "30"), "name"),
    (("N" * 256, "a@example.com", "30"), "name"),
    (("Bell\x07", "a@example.com", "30"), "name"),
    (("Tab\tInside", "a@example.com", "30"), "name"),
    (("Line\nBreak", "a@example.com", "30"), "name"),
    (("Nul\x00", "a@example.com", "30"), "name"),
    (("Del\x7f", "a@example.com", "30"), "name"),
    (("\x1fBob", "a@example.com", "30"), "name"),
    (("Bob\x1c", "a@example.com", "30"), "name"),
    (("\tBob", "a@example.com", "30"), "name"),
    (("Bob\t ", "a@example.com", "30"), "name"),
    ((" \nBob", "a@example.com", "30"), "name"),
    (("Bob\r\n", "a@example.com", "30"), "name"),
    (("Ada", "", "30"), "email"),
    (("Ada", "ada.example.com", "30"), "email"),
    (("Ada", "a@b@example.com", "30"), "email"),
    (("Ada", "user@localhost", "30"), "email"),
    (("Ada", "us er@example.com", "30"), "email"),
    (("Ada", "multi\nline@example.com", "30"), "email"),
    (("Ada", "tab\t@example.com", "30"), "email"),
    (("Ada", "nbsp\u00a0in@example.com", "30"), "email"),
    (("Ada", "\ta@example.com", "30"), "email"),
    (("Ada", "a@example.com\n", "30"), "email"),
    (("Ada", "\u00a0a@example.com", "30"), "email"),
    (("Ada", "a@example.com\x85", "30"), "email"),
    (("Ada", "\u2028a@example.com", "30"), "email"),
    (("Ada", "a@example.com\x1f", "30"), "email"),
    (("Ada", "@example.com", "30"), "email"),
    (("Ada", "ada@", "30"), "email"),
    (("Ada", "ada@.example.com", "30"), "email"),
    (("Ada", "ada@example..com", "30"), "email"),
    (("Ada", "ada@example.com.", "30"), "email"),
    (("Ada", "x" * 244 + "@example.com", "30"), "email"),
    (("Ada", "a@example.com", ""), "age"),
    (("Ada", "a@example.com", "   "), "age"),
    (("Ada", "a@example.com", "abc"), "age"),
    (("Ada", "a@example.com", "-5"), "age"),
    (("Ada", "a@example.com", "+5"), "age"),
    (("Ada", "a@example.com", "1e3"), "age"),
    (("Ada", "a@example.com", "NaN"), "age"),
    (("Ada", "a@example.com", "Infinity"), "age"),
    (("Ada", "a@example.com", "12.345"), "age"),
    (("Ada", "a@example.com", "1000"), "age"),
    (("Ada", "a@example.com", "1."), "age"),
    (("Ada", "a@example.com", ".5"), "age"),
    (("Ada", "a@example.com", "1,5"), "age"),
    (("Ada", "a@example.com", "\u0663"), "age"),  # an Arabic-Indic 3
    (("Ada", "a@example.com", "2 5"), "age"),
    (("Ada", "a@example.com", "\t25"), "age"),
    (("Ada", "a@example.com", "25\u00a0"), "age"),
    (("Ada", "a@example.com", "25\x1c"), "age"),
]


@pytest.mark.parametrize("fields, field", BAD,
                         ids=[f"{field}-{index}"
                              for index, (_, field) in enumerate(BAD)])
def test_check_bad_field_gives_reason_naming_it(fields, field):
    """A bad name, email or age gives a reason string that names it, and
    names no other field."""
    reason = loader.check(list(fields), DEFAULT)
    assert isinstance(reason, str)
    named = {word for word in NAMES + ("user_id",)
             if re.search(rf"\b{word}\b", reason)}
    assert named == {field}, reason


@pytest.mark.parametrize("fields", [
    ["Ada", "ada@example.com"],
    ["Ada", "ada@example.com", "30", "extra"],
    ["Ada"],
    [],
])
def test_check_wrong_field_count_is_a_reason(fields):
    """A record with more or fewer fields than the header is rejected,
    the reason giving both counts."""
    reason = loader.check(fields, DEFAULT)
    assert isinstance(reason, str)
    assert "field" in reason
    assert str(len(fields)) in reason and "3" in reason


@pytest.mark.parametrize("user_id", [
    "",
    "not-a-uuid",
    "0025e5da3fcf57668c769588b7139eeb",  # no dashes
    "{0025e5da-3fcf-5766-8c76-9588b7139eeb}",
    "0025e5da-3fcf-5766-8c76-9588b7139ee",  # a digit short
    "0025e5da-3fcf-5766-8c76-9588b7139eebb",  # a digit long
    "0025e5da-3fcf-5766-8c76-9588b7139eeg",  # not hex
    "urn:uuid:0025e5da-3fcf-5766-8c76-9588b7139eeb",
    "\t0025e5da-3fcf-5766-8c76-9588b7139eeb",
    "0025e5da-3fcf-5766-8c76-9588b7139eeb\u00a0",
])
def test_check_bad_user_id_gives_reason_naming_it(user_id):
    """A user_id that is not a UUID is a reason naming user_id."""
    reason = loader.check(["ada@example.com", "30", "Ada", user_id],
                          WITH_ID)
    assert isinstance(reason, str)
    assert re.search(r"\buser_id\b", reason), reason


# loader.check_batch and loader.checked_rows: the column checks agree ----

SPACES = ["", " ", "  "]  # trimmed from around a value
ENDS = ["\t", "\n", "\r", "\x1c", "\x1f", "\x7f", "\x85", "\u2028",
        "\u00a0", "\u3000"]  # kept there: bad but in a name
VALUES = {
    "name": ["Ada", "Zoë Ōtani", "Line\u2028Next\x85Row", "N" * 255,
             "N" * 256, "", "Tab\tIn", "O'Brien", 'Say "hi"', "Back\\",
             "Line\nBreak"],  # could pass for two, joined by newlines
    "email": ["ada@example.com", "Zoe@Exämple.jp", "a b@example.com",
              "o'brien\\@example.com", "a@b.co\nc@d.co",
              "x" * 243 + "@example.com", "x" * 244 + "@example.com",
              "plain"],
    "age": ["0", "36", "999.99", "12.345", "-5", "1e3"],
}
# Each way rows are made: unescaped for LOAD DATA, escaped for INSERTs in
# each mode.
METHODS = {
    "LOAD DATA": loader.Method("LOAD DATA LOCAL INFILE", True, "", 4096),
    "INSERT": loader.Method("multi-row INSERT", False, "STRICT_ALL_TABLES",
                            4096),
    "INSERT, NO_BACKSLASH_ESCAPES": loader.Method(
        "multi-row INSERT", False, "NO_BACKSLASH_ESCAPES", 4096),
}
LOCAL_ROWS = METHODS["LOAD DATA"]


def random_records(rng, count, where):
    """Return ``count`` random records laid out as ``where`` says.

    Each value is good or bad, with spaces or something else before
    and after it; ids, if any, are padded the same way.
    """
    def end():
        """Return spaces, or (one time in five) another end."""
        return rng.choice(ENDS if rng.random() < 0.2 else SPACES)

    records = []
    for _ in range(count):
        fields = [None] * where.width
        for column in NAMES:
            fields[where.at[column]] = (end() + rng.choice(VALUES[column])
                                        + end())
        if "user_id" in where.at:
            fields[where.at["user_id"]] = end() + str(uuid.UUID(
                int=rng.getrandbits(128))).upper() + end()
        records.append(fields)
    return records


def rows_by_check(records, lines, where, method=LOCAL_ROWS):
    """Return the rows ``check`` makes of the good ``records``, and the
    ``(line, record, reason)`` of the others."""
    rows, rejected = [], []
    for line, fields in zip(lines, records):
        row = loader.check(fields, where)
        if isinstance(row, str):
            rejected.append((line, loader.as_csv(fields), row))
        else:
            rows += loader.as_rows(method, [line], *zip(row))
    return rows, rejected


class Collected(list):
    """Rejects kept in a list, as ``loader.Rejects.add`` would write them."""

    def add(self, line, record, reason):
        """Keep one reject."""
        self.append((line, record, reason))


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("where", [DEFAULT, WITH_ID], ids=["no id", "id"])
def test_check_batch_agrees_with_check(where, method):
    """For 5,000 random records, one at a time, the column checks accept
    exactly the records ``check`` accepts, and make the same rows: the
    same values trimmed the same way, the same ids, escaped the same
    way for INSERTs in either mode."""
    rng = random.Random(f"agree-{where.width}")
    records = random_records(rng, 5_000, where)
    accepted = 0
    for line, fields in enumerate(records, 2):
        rows, _ = rows_by_check([fields], [line], where, METHODS[method])
        made = loader.check_batch([line], [fields], where, METHODS[method])
        assert made == (rows or None), fields
        accepted += bool(rows)
    assert 100 < accepted < 4_900  # both kinds, many of each


@pytest.mark.parametrize("bad", ["\x1fBob", "Bob\x1c", "\tBob", "Bob\n",
                                 "Bob\x7f"])
def test_checked_rows_rejects_one_bad_name_in_a_thousand(bad):
    """1,000 good records (their names with spaces, U+0085, U+2028 or a
    no-break space around them) and one whose name has a control
    character at an end: the batch fails the column checks, is halved
    down to ``check``, and gives exactly the rows and the reject that
    ``check`` gives record by record."""
    rng = random.Random(bad)
    records = [[rng.choice(["  ", "\x85", "\u2028", "\u00a0", ""])
                + f"User {number}" + rng.choice([" ", "\u2028", ""]),
                f" user{number}@example.com ", str(number % 90)]
               for number in range(1_000)]
    records.insert(rng.randrange(1_000), [bad, "bob@example.com", "7"])
    lines = list(range(2, 1_003))
    rows, rejected = rows_by_check(records, lines, DEFAULT)
    assert len(rows) == 1_000 and len(rejected) == 1
    assert rejected[0][1] == loader.as_csv([bad, "bob@example.com", "7"])
    assert loader.check_batch(lines, records, DEFAULT, LOCAL_ROWS) is None
    found = Collected()
    assert loader.checked_rows(lines, records, DEFAULT, LOCAL_ROWS,
                               found) == rows
    assert found == rejected


# loader.user_id_for ------------------------------------------------------

LOCAL = ("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
         ".+_-" "éüßÇΩжİıŁ漢字😀")
SPACE = ("", " ", "  ", "\t", "\n", "\u00a0", "\u3000", " \t ")


def random_emails(count, seed_value=1234):
    """Return ``count`` varied emails: mixed case, non-ASCII, padded."""
    rng = random.Random(seed_value)

    def word(length):
        """Return ``length`` random characters of LOCAL."""
        return "".join(rng.choice(LOCAL) for _ in range(length))

    return [rng.choice(SPACE) + word(rng.randint(1, 30)) + "@"
            + word(rng.randint(1, 12)) + "." + word(rng.randint(2, 6))
            + rng.choice(SPACE)
            for _ in range(count)]


def test_user_id_for_equals_uuid5_of_mailto():
    """For 400 varied emails the fast id equals uuid5 of mailto:<email>."""
    emails = random_emails(400)
    assert len(set(emails)) > 390  # varied indeed
    assert any(not email.isascii() for email in emails)
    assert any(email != email.strip() for email in emails)
    assert any(email != email.lower() for email in emails)
    ids = list(map(loader.user_id_for, emails))
    assert ids == list(map(course_id, emails))


def test_user_id_for_ignores_case_and_surrounding_spaces():
    """The same address, padded with spaces or with its ASCII letters in
    another case, has the same id (Unicode upper-casing is not undone by
    lower(): "ß" becomes "SS", so only ASCII letters are changed here).
    Spaces alone are trimmed: with a tab, a newline or a no-break space
    around it, it is another id (and ``check`` rejects that email)."""
    emails = random_emails(100, seed_value=99)
    for email in emails:
        swapped = "".join(char.swapcase() if char.isascii() else char
                          for char in email.strip(" "))
        variant = "  " + swapped + " "
        assert variant != email
        assert loader.user_id_for(variant) == loader.user_id_for(email)
        for pad in "\t", "\n", "\u00a0":
            assert loader.user_id_for(pad + email) != loader.user_id_for(
                email)


def test_user_id_for_is_a_version_5_rfc_4122_uuid():
    """Every id parses as a version 5 UUID of the RFC 4122 variant."""
    for email in random_emails(200, seed_value=7):
        parsed = uuid.UUID(loader.user_id_for(email))
        assert parsed.version == 5
        assert parsed.variant == uuid.RFC_4122


# average_age -------------------------------------------------------------

def random_ages(rng, kind):
    """Return a random list of ages: ints, 2-decimal Decimals, or both."""
    length = rng.randint(1, 300)
    ints = [rng.randint(0, 999) for _ in range(length)]
    decimals = [Decimal(rng.randint(0, 99999)).scaleb(-2)
                for _ in range(length)]
    if kind == "int":
        return ints
    if kind == "decimal":
        return decimals
    return [rng.choice(pair) for pair in zip(ints, decimals)]


@pytest.mark.parametrize("kind", ["int", "decimal", "mixed"])
def test_average_age_is_the_exact_mean_rounded_half_up(kind):
    """For 200 random lists the average is the exact Decimal mean,
    rounded half-up to cents, written with two decimals."""
    rng = random.Random(f"average-{kind}")
    for _ in range(200):
        ages = random_ages(rng, kind)
        expected = exact_average(ages)
        average = average_age(ages)
        assert isinstance(average, Decimal)
        assert str(average) == str(expected), ages


def test_average_age_small_means():
    """Means well below one and whole means keep their two decimals."""
    cases = [[0], [0, 0, 0], [1, 2], [Decimal("0.01"), 0, 0],
             [Decimal("0.02"), 0, 0], [999, Decimal("999.99")], [7] * 9]
    for ages in cases:
        assert str(average_age(ages)) == str(exact_average(ages))
    assert str(average_age([0])) == "0.00"
    assert str(average_age([1, 2])) == "1.50"


def test_average_age_rounds_halves_up():
    """A mean of exactly x.xx5 rounds up, also where half-even would not."""
    rng = random.Random("halves")
    seen_even = 0
    for _ in range(300):
        cents = rng.randint(0, 99998)
        low, high = Decimal(cents).scaleb(-2), Decimal(cents + 1).scaleb(-2)
        count = rng.randint(1, 5)
        ages = [low] * count + [high] * count  # mean: low + 0.005
        assert str(average_age(ages)) == str(high)
        even = (low + high) / 2
        seen_even += even.quantize(CENT, rounding=ROUND_HALF_EVEN) != high
    assert seen_even > 100  # many of these would fail a half-even mean
    ages = [Decimal("0.05"), 0]  # 0.025: half-up 0.03, half-even 0.02
    assert str(average_age(ages)) == "0.03"
    ages = [1] * 199 + [2]  # ints alone: 201 / 200 = 1.005
    assert str(average_age(ages)) == "1.01"
    ages = [0] * 199 + [1]  # 1 / 200 = 0.005
    assert str(average_age(ages)) == "0.01"


@pytest.mark.parametrize("empty", [
    [], (), iter([]), (age for age in [])], ids=["list", "tuple", "iterator",
                                                 "generator"])
def test_average_age_of_nothing_is_none(empty):
    """No ages at all: there is no average."""
    assert average_age(empty) is None


class Age(Decimal):
    """A Decimal that can be weakly referenced, to see when it is freed."""


def test_average_age_streams_a_one_shot_generator():
    """A generator is read once, and no more than two ages it made are
    alive at any time: the ages are not held in a list."""
    rng = random.Random("stream")
    values = [Decimal(rng.randint(0, 99999)).scaleb(-2) for _ in range(3000)]
    refs, most_alive, made = [], [], []

    def ages():
        """Yield each value as a fresh Age; note how many still live."""
        for value in values:
            refs[:] = [ref for ref in refs if ref() is not None]
            most_alive.append(len(refs))
            age = Age(value)
            refs.append(weakref.ref(age))
            made.append(1)
            yield age
            del age

    stream = ages()
    assert str(average_age(stream)) == str(exact_average(values))
    assert len(made) == len(values)  # every age read, once
    assert next(stream, None) is None  # and the generator is spent
    assert len(most_alive) == len(values)
    assert max(most_alive) <= 2


# seed.to_age, seed.as_users, seed.check_int ------------------------------

def stored_ages(count=300):
    """Return ``count`` random ages as a DECIMAL(5,2) column stores them."""
    rng = random.Random("stored")
    cents = [rng.randint(0, 99999) for _ in range(count)]
    cents += [0, 100, 99999, 99900, 50, 5]
    return [f"{value // 100}.{value % 100:02d}" for value in cents]


@pytest.mark.parametrize("as_bytes", [True, False], ids=["bytes", "str"])
def test_to_age_int_when_whole_decimal_otherwise(as_bytes):
    """A whole age is an int, any other a Decimal as stored; bytes and
    str give the same."""
    for text in stored_ages():
        whole, fraction = text.split(".")
        age = seed.to_age(text.encode() if as_bytes else text)
        if fraction == "00":
            assert type(age) is int and age == int(whole)
        else:
            assert type(age) is Decimal and str(age) == text


@pytest.mark.parametrize("raw, expected", [
    (b"67.00", 67), ("67", 67), (b"0.00", 0), (b"25.50", Decimal("25.50")),
    ("0.5", Decimal("0.5")), (b"999.99", Decimal("999.99")),
])
def test_to_age_examples(raw, expected):
    """Known examples: the value, its type and, for Decimals, its scale."""
    age = seed.to_age(raw)
    assert type(age) is type(expected)
    assert str(age) == str(expected)


def test_as_users_turns_raw_rows_into_dicts():
    """Raw byte tuples become dicts with text fields (UTF-8 names) and
    ages as to_age makes them, in the given order."""
    people = [("0025e5da-3fcf-5766-8c76-9588b7139eeb", "Zoë Ōtani",
               "zoe@example.jp", "25.50"),
              ("006d4f98-bcfb-55d1-9406-9781e58142eb", "Þórr 😀",
               "thor@example.is", "67.00"),
              ("0a", "漢字 Kanji", "k@example.cn", "0.00"),
              ("0b", "Renée Kuhn-Mayer", "renee@example.com", "17.05")]
    rows = [tuple(field.encode("utf-8") for field in person)
            for person in people]
    users = seed.as_users(iter(rows))
    assert users == [{"user_id": user_id, "name": name, "email": email,
                      "age": (int(Decimal(age)) if age.endswith(".00")
                              else Decimal(age))}
                     for user_id, name, email, age in people]
    assert [list(user) for user in users] == [
        ["user_id", "name", "email", "age"]] * len(people)
    assert [type(user["age"]) for user in users] == [Decimal, int, int,
                                                     Decimal]
    assert seed.as_users([]) == []


@pytest.mark.parametrize("value", [True, False, 1.0, 5.5, "5", b"5", None,
                                   Decimal(5), [5]])
def test_check_int_refuses_non_ints_with_type_error(value):
    """bool, float, str, bytes, None, Decimal and lists are not ints."""
    with pytest.raises(TypeError, match="batch_size"):
        seed.check_int(value, "batch_size")


@pytest.mark.parametrize("value, minimum", [
    (0, 1), (-1, 1), (-1, 0), (4, 5), (-10 ** 20, 1)])
def test_check_int_refuses_too_small_with_value_error(value, minimum):
    """An int below the minimum raises ValueError naming the argument."""
    with pytest.raises(ValueError, match="page_size"):
        seed.check_int(value, "page_size", minimum=minimum)


@pytest.mark.parametrize("value, minimum", [
    (1, 1), (0, 0), (5, 5), (10 ** 20, 1), (50, 1)])
def test_check_int_returns_a_good_value(value, minimum):
    """An int at or above the minimum comes back unchanged."""
    assert seed.check_int(value, "offset", minimum=minimum) is value


def test_check_int_default_minimum_is_one():
    """Without a minimum, 1 passes and 0 does not."""
    assert seed.check_int(1, "size") == 1
    with pytest.raises(ValueError):
        seed.check_int(0, "size")


@pytest.mark.parametrize("key", ["user_id; DROP TABLE user_data", "1d",
                                 "user id", "`user_id`", ""])
def test_stream_key_must_be_a_plain_column_name(key):
    """A stream's ``key`` goes into its SQL: anything but a plain column
    name is refused before any connection (port 9 answers nothing)."""
    conf = seed.db.Settings(port=9, connect_timeout=1)
    with pytest.raises(ValueError, match="plain column name"):
        next(seed.db.stream_rows(conf, "SELECT user_id FROM t", key=key))


def test_db_reads_the_markers_the_scripts_write():
    """db.py cannot import scripts/ (the layers), so it spells the .env
    markers again: they must be the very lines localdb.py writes, or the
    advice for a server that does not answer goes wrong."""
    assert seed.db.MARKERS == {localdb.MARKER: "server",
                               localdb.CLUSTER_MARKER: "cluster"}


def test_alive_takes_a_thread_ending_as_it_is_read(monkeypatch):
    """A thread that ends while its stat is read fails the read with
    ESRCH (seen killing a cluster node): that thread is no longer alive,
    and ``localdb.alive`` says so instead of raising."""
    def ended(path, *args, **kwargs):
        """Fail as reading the stat of a thread that has just ended."""
        raise ProcessLookupError(3, "No such process")
    monkeypatch.setattr(localdb, "open", ended, raising=False)
    assert localdb.alive(os.getpid()) is False
