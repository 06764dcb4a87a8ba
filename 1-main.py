#!/usr/bin/env python3
"""Print the first six users of the stream (task 0)."""
from itertools import islice

seed = __import__("seed")
stream_users = __import__("0-stream_users").stream_users


def main():
    """Print six users, then close the stream early."""
    for user in islice(stream_users(), 6):
        print(user)


if __name__ == "__main__":
    seed.run(main)
