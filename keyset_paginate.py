#!/usr/bin/env python3
"""Keyset pagination: pages that cost the same at any depth.

``LIMIT n OFFSET k`` (task 2) makes the server read and skip ``k`` rows,
so the deeper the page, the slower. A keyset page starts after the last
key seen (``WHERE user_id > %s ORDER BY user_id LIMIT n``) and reads only
its own rows through the primary key. ``make bench`` shows both. Run
alone, this file shows the first two pages of two users.
"""
from itertools import islice

seed = __import__("seed")

SQL = ("SELECT user_id, name, email, age FROM user_data WHERE user_id > %s "
       "ORDER BY user_id LIMIT {:d}")


def keyset_page(page_size, after=""):
    """Return up to ``page_size`` users whose user_id sorts after ``after``.

    >>> keyset_page(100, after=last_page[-1]["user_id"])  # doctest: +SKIP
    """
    seed.check_int(page_size, "page_size")
    connection = seed.connect()
    try:
        with connection.cursor(raw=True) as cursor:
            cursor.execute(SQL.format(page_size), (after,))
            rows = cursor.fetchall()
    finally:
        connection.close()
    return seed.as_users(rows)


def keyset_paginate(page_size):
    """Yield pages of ``page_size`` users, each fetched only when asked.

    The same pages as ``lazy_paginate`` in 2-lazy_paginate.py, in the
    same order, but each page starts from the last id of the one before.

    >>> for page in keyset_paginate(100):  # doctest: +SKIP
    ...     print(len(page))
    """
    seed.check_int(page_size, "page_size")
    after = ""
    while True:
        page = keyset_page(page_size, after)
        if page:
            yield page
        if len(page) < page_size:
            return
        after = page[-1]["user_id"]


if __name__ == "__main__":
    seed.run(lambda: print(*islice(keyset_paginate(2), 2), sep="\n"))
