#!/usr/bin/env python3
"""Print the users over 25, read in batches of 50 (task 1)."""
seed = __import__("seed")
processing = __import__("1-batch_processing")


if __name__ == "__main__":
    seed.run(lambda: processing.batch_processing(50))
