"""The sizes the benchmark works with, by label: what every part shares.

A leaf: it imports nothing of the benchmark's, so that the cases, the
tables, the cluster part and the report may all read it.
"""

BIG, MID = "1m", "200k"  # the CSVs the seeding cases load
SIZES = (("10k", 10_000), ("100k", 100_000), (BIG, 1_000_000))  # tables
CSVS = dict(SIZES, **{MID: 200_000})  # label: rows, of each CSV


def database_of(label):
    """Return the name of the benchmark database for the size ``label``."""
    return "ALX_prodev_bench_" + label


def human(rows):
    """Format a number of rows: 10k, 100k, 1M."""
    return f"{rows // 1000}k" if rows < 10 ** 6 else f"{rows // 10 ** 6}M"
