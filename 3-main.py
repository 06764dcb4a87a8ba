#!/usr/bin/env python3
"""Print every user, page by page, 100 to a page (task 2)."""
seed = __import__("seed")
lazy_paginator = __import__("2-lazy_paginate").lazy_pagination


def main():
    """Print the users of each page as it is fetched."""
    for page in lazy_paginator(100):
        for user in page:
            print(user)


if __name__ == "__main__":
    seed.run(main)
