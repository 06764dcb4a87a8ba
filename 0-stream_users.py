#!/usr/bin/env python3
"""Task 0: stream the rows of user_data one by one with a generator."""
from itertools import chain

seed = __import__("seed")

SQL = "SELECT user_id, name, email, age FROM user_data ORDER BY user_id"


def stream_users():
    """Yield each user as a dict, in primary-key order, as it is read.

    >>> next(stream_users())  # doctest: +SKIP
    {'user_id': '00af05c9-...', 'name': 'Brad Dach', 'email': ..., 'age': 73}
    """
    yield from chain.from_iterable(map(seed.as_users, seed.stream_rows(SQL)))
