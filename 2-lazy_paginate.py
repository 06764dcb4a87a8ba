#!/usr/bin/env python3
"""Task 2: fetch pages of users with LIMIT/OFFSET, only when asked."""
from itertools import chain

seed = __import__("seed")


def paginate_users(page_size, offset):
    """Return one page of ``page_size`` users from ``offset``, as dicts."""
    seed.check_int(page_size, "page_size")
    seed.check_int(offset, "offset", minimum=0)
    sql = ("SELECT user_id, name, email, age FROM user_data ORDER BY user_id"
           f" LIMIT {page_size:d} OFFSET {offset:d}")
    rows = seed.stream_rows(sql, page_size)  # the page in one batch
    return list(chain.from_iterable(map(seed.as_users, rows)))


def lazy_paginate(page_size):
    """Yield pages of ``page_size`` users, fetching each only when asked.

    It stops after the last page: a short page is the last one.
    """
    seed.check_int(page_size, "page_size")
    offset = 0
    while True:
        page = paginate_users(page_size, offset)
        if page:
            yield page
        if len(page) < page_size:
            return
        offset += page_size


lazy_pagination = lazy_paginate
