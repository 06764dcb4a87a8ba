"""Many streams at once, and many streams closed early, on a real server."""
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import ROUND_HALF_UP, Decimal
from itertools import islice

import pytest

stream_users = __import__("0-stream_users").stream_users
ages = __import__("4-stream_ages")

ROWS = 20_000
CONSUMERS = 16


@pytest.fixture
def users(server, database):
    """Fill the test's database with ROWS users; return count and average.

    The average is worked out from the server's exact SUM, rounded half
    up to cents.
    """
    name = os.environ["MYSQL_DATABASE"]
    server.admin(
        f"INSERT INTO `{name}`.user_data SELECT UUID(), "
        "CONCAT('User ', seq), CONCAT('user', seq, '@example.com'), "
        f"(seq * 7919 % 12000) / 100 FROM mysql.seq_1_to_{ROWS:d}")
    count, total = server.admin(
        f"SELECT COUNT(*), SUM(age) FROM `{name}`.user_data").split()
    average = (Decimal(total) / int(count)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP)
    return int(count), average


def test_concurrent_consumers_all_get_everything(server, users):
    """16 threads, each streaming the whole table, all get every row.

    All 16 streams are open at once; each gets the rows in key order,
    then the right average from its own stream of ages. Afterwards the
    server's connections are back where they were.
    """
    rows, average = users
    before = server.ids()
    open_at_once = []
    barrier = threading.Barrier(
        CONSUMERS, action=lambda: open_at_once.append(server.ids() - before))

    def consume(_):
        """Stream every user, then every age; return what was seen."""
        stream = stream_users()
        ids = [next(stream)["user_id"]]
        barrier.wait(timeout=60)
        ids.extend(user["user_id"] for user in stream)
        ordered = all(a < b for a, b in zip(ids, islice(ids, 1, None)))
        return len(ids), ordered, ages.average_age(ages.stream_user_ages())

    with ThreadPoolExecutor(CONSUMERS) as pool:
        results = list(pool.map(consume, range(CONSUMERS)))
    assert results == [(rows, True, average)] * CONSUMERS
    assert len(open_at_once[0]) == CONSUMERS
    server.wait_settled(before)


def test_thousand_streams_closed_early_leave_no_connection(server, users):
    """1,000 streams closed after their first user leave no connection.

    Neither does a stream dropped without a close, nor a query left
    running on the server.
    """
    before = server.ids()
    for _ in range(1000):
        stream = stream_users()
        assert len(list(islice(stream, 1))) == 1
        stream.close()
    for _ in range(50):
        next(stream_users())
    server.wait_settled(before)
    assert not server.ids("USER = 'alx' AND COMMAND = 'Query'")
