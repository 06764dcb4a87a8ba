#!/usr/bin/env python3
"""Task 4: the average age of all users, streamed, without SQL's AVG."""
from decimal import Decimal
from itertools import chain, count
from operator import itemgetter

seed = __import__("seed")

SQL = "SELECT user_id, age FROM user_data"


def stream_user_ages():
    """Yield each user's age (an int when whole, else a Decimal).

    The rows come with their user_id, by which a stream whose server is
    lost goes on from another one.
    """
    batches = seed.stream_rows(SQL, key="user_id")
    yield from map(seed.to_age, map(itemgetter(1),
                                    chain.from_iterable(batches)))


def average_age(ages):
    """Return the mean of ``ages`` rounded half-up to cents, or None if empty.

    Only a running total and a count are kept, never the ages.

    >>> average_age([20, Decimal("25.50"), 30])
    Decimal('25.17')
    """
    counter = count()
    total = sum(map(itemgetter(0), zip(ages, counter)))
    number = next(counter)
    if not number:
        return None
    cents = int(total * 100)  # exact: a stored age has at most two decimals
    return Decimal((2 * cents + number) // (2 * number)).scaleb(-2)


def main():
    """Print the average age of the users."""
    average = average_age(stream_user_ages())
    if average is None:
        print("No users in user_data, so there is no average age yet: "
              "run ./seed.py first.")
    else:
        print(f"Average age of users: {average}")


if __name__ == "__main__":
    seed.run(main)
