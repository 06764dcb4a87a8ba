#!/usr/bin/env python3
"""Task 2: fetch pages of users with LIMIT and OFFSET, only when asked.

``lazy_paginate`` is a generator: it runs the query for a page only
when the caller asks for that page with ``next()`` or a ``for`` loop.
Run alone, this file shows the first two pages of two users; 3-main.py
prints every user, 100 to a page.
"""
from itertools import islice

seed = __import__("seed")


def paginate_users(page_size, offset):
    """Return one page: ``page_size`` users from ``offset``, as dicts."""
    seed.check_int(page_size, "page_size")
    seed.check_int(offset, "offset", minimum=0)
    sql = ("SELECT user_id, name, email, age FROM user_data ORDER BY user_id"
           f" LIMIT {page_size:d} OFFSET {offset:d}")
    return seed.fetch_users(sql, page_size)


def lazy_paginate(page_size):
    """Yield pages of ``page_size`` users, fetching each only when asked.

    A page shorter than ``page_size`` is the last one.
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


lazy_pagination = lazy_paginate  # the name the course's 3-main.py uses

if __name__ == "__main__":
    seed.run(lambda: print(*islice(lazy_paginate(2), 2), sep="\n"))
