#!/usr/bin/env python3
"""Task 4: the average age of all users, streamed, without SQL's AVG.

``stream_user_ages`` yields one age at a time. ``average_age`` keeps
only a running total and a count, never the ages, so the memory used
stays the same however many users there are.
"""
from decimal import ROUND_HALF_UP, Decimal

seed = __import__("seed")

CENT = Decimal("0.01")


def stream_user_ages():
    """Yield each user's age: an int when whole, else a Decimal."""
    for ages in seed.age_batches():
        yield from ages


def average_age(ages=None):
    """Return the mean of ``ages`` rounded half-up to cents, or None if empty.

    Without ``ages``, it averages every user's age (``stream_user_ages()``).
    The total is exact: ages are ints and Decimals, never floats.

    >>> average_age([20, Decimal("25.50"), 30])
    Decimal('25.17')
    """
    if ages is None:
        ages = stream_user_ages()
    total = number = 0
    for number, age in enumerate(ages, start=1):
        total += age
    if not number:
        return None
    return (Decimal(total) / number).quantize(CENT, ROUND_HALF_UP)


# Other learners' mains ask for the average by these names, with no
# argument: each is average_age.
calculate_average_age = compute_average_age = average_age


def main():
    """Print the average age of the users."""
    average = average_age()
    if average is None:
        print("No users in user_data, so there is no average age yet: "
              "run ./seed.py first.")
    else:
        print(f"Average age of users: {average}")


if __name__ == "__main__":
    seed.run(main)
