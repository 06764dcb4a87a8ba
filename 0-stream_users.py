#!/usr/bin/env python3
"""Task 0: a generator that gives the users of user_data one at a time.

    >>> for user in stream_users():  # doctest: +SKIP
    ...     print(user["name"])

The server sends the rows in batches. The generator hands them on one
by one, and fetches the next batch only when the last one is used up.
Run alone, this file shows the first three users; 1-main.py shows six.
"""
import sys
from itertools import islice
from types import ModuleType

seed = __import__("seed")


def stream_users():
    """Yield each user as a dict, in user_id order, one at a time.

    Each batch is let go (``del batch``) before the next one is read, so
    this generator holds one batch at a time.
    """
    for batch in seed.user_batches():
        yield from batch
        del batch


# The course's 1-main.py calls this module itself, not the function:
#     stream_users = __import__('0-stream_users')
#     for user in islice(stream_users(), 6): ...
# So the module, when called, returns a new stream_users() generator.
class CallableModule(ModuleType):
    """This module, callable: ``module()`` is ``module.stream_users()``."""

    def __call__(self):
        """Return a new ``stream_users()`` generator."""
        return stream_users()


sys.modules[__name__].__class__ = CallableModule

if __name__ == "__main__":
    seed.run(lambda: print(*islice(stream_users(), 3), sep="\n"))
