#!/usr/bin/env python3
"""Task 1: fetch users in batches and keep those over 25."""
seed = __import__("seed")

SQL = "SELECT user_id, name, email, age FROM user_data"  # by user_id


def stream_users_in_batches(batch_size):
    """Yield lists of at most ``batch_size`` users, in primary-key order."""
    seed.check_int(batch_size, "batch_size")
    yield from map(seed.as_users,
                   seed.stream_rows(SQL, batch_size, key="user_id"))


def batch_processing(batch_size):
    """Print, one per line, every user over 25, batch by batch."""
    for batch in stream_users_in_batches(batch_size):
        for user in batch:
            if user["age"] > 25:
                print(user)
