#!/usr/bin/env python3
"""Task 1: fetch users in batches, and print those over 25.

``stream_users_in_batches`` is a generator of lists: each ``next()``
gives the next batch. ``batch_processing`` reads the batches one by
one, so memory holds a batch or two, never the whole table. Run alone,
this file shows the first batch of three users; 2-main.py runs
``batch_processing(50)``.
"""
seed = __import__("seed")


def stream_users_in_batches(batch_size):
    """Yield lists of at most ``batch_size`` users, in user_id order."""
    seed.check_int(batch_size, "batch_size")
    yield from seed.user_batches(batch_size)


def batch_processing(batch_size):
    """Print, one per line, every user over 25, batch by batch."""
    for batch in stream_users_in_batches(batch_size):
        for user in batch:
            if user["age"] > 25:
                print(user)


if __name__ == "__main__":
    seed.run(lambda: print(*next(stream_users_in_batches(3), []), sep="\n"))
