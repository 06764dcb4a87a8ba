#!/usr/bin/env python3
"""Measure the generators side by side with the fastest way to do the same.

    make bench                       # starts the project-local server first
    bench/run.py [--reps 5] [--seed-reps 3] [--failover-reps 3]
                 [--cluster-only | --no-cluster | --seeding-only]

On the project-local server it builds ``user_data`` tables of 10k,
100k and 1M rows (databases ``ALX_prodev_bench_10k``, ``_100k``, ``_1m``;
a table that already has the right row count is reused), from CSVs made
by ``scripts/make_users_csv.py`` in ``bench/data/``. Then it runs every
case in a subprocess of its own, so that the peak memory (``ru_maxrss``)
is the case's own, several times over, and quotes medians. Each case is
timed in the same repetition as its anchor, the fastest way to do the
same thing: the ``mariadb`` command-line client with ``--quick`` (the C
client: the wire limit), ``LOAD DATA LOCAL INFILE`` of the same CSV (1M
and 200k rows; ``... IGNORE`` of the same rows with their ids when the
1M-row CSV is loaded again over a table that holds all or half of its
rows), and keyset pages. A ratio is the median of the ratios of the
repetitions. The first load's two sides are also timed apart, in the
same repetitions: the loader's Python side alone, and the server alone
loading the loader's chunk files (how much the two overlap in a load,
and how far it is from the two-core limit). The first load's cases
run again on a throwaway server with the server's own defaults but for
its buffer pool (``server.stock_server``): a redo log and a doublewrite
buffer as users have them.

Then it starts a three-node Galera cluster of its own (``galera.py``),
loads the 1M-row CSV through one node, reads it through another next to
the same reads on the single server, and times the gap a stream sees
when its node is killed or frozen under it; the cluster is stopped and
removed at the end, also on failure.

It writes ``bench/results/results.md``, ``bench/results/chart.png`` and
``bench/results/cluster.png`` and prints each target as a PASS or FAIL
line (and INFO lines for figures without a target). Progress goes to a
terminal only; in a pipe the output is the results alone.

This file runs the repetitions; the rest is beside it: the cases (what
runs in each subprocess) in ``cases.py``, the CSVs and tables in
``tables.py``, the figures, targets, Markdown and charts in
``report.py``, the subprocesses and progress in ``launch.py``, the
cluster in ``galera.py``, every use of the project's settings and
connections in ``server.py``, and the sizes all of them share in
``sizes.py``. The imports go one way: ``run.py`` imports the others;
none imports ``run.py``, and ``cases.py`` (run as each case's process)
imports only ``server.py`` and ``sizes.py``, so that its registry of
cases is loaded once.
"""
import argparse
import os
import subprocess
import sys
import time

import cases
import galera
import launch
import report
import server
import tables
from cases import CASES
from launch import rotated
from sizes import BIG, CSVS, SIZES, database_of, human

RESULTS = os.path.join(launch.BENCH, "results")


def bench_streams(reps):
    """Run the streaming cases, each next to its anchor; return the results.

    ``results[label][case]`` lists each repetition's result, and
    ``results[label][case, anchor]`` the anchor's run beside it: a case
    and its anchor run one after the other (in turn first), so that the
    ratio compares runs under the same load on the machine.
    """
    streams = [(case, CASES[case].anchor) for case in cases.grouped("stream")]
    results = {}
    for label, rows in SIZES:
        database = database_of(label)
        warm(database)
        runs = results[label] = {}
        for rep in range(reps):
            for case, anchor in rotated(streams, rep):
                for name in rotated((case, anchor), rep):
                    text = (f"{label}: {case}" + " vs the client" * (
                        name == anchor) + f", repetition {rep + 1} of {reps}")
                    result = launch.run_case(text, name, database, {})
                    runs.setdefault(name, []).append(result)
                    if name == anchor:
                        runs.setdefault((case, anchor), []).append(result)
    return results


def warm(database):
    """Read the table once, untimed, so that every case finds it cached."""
    with launch.step(f"{database}: warming the server's cache"):
        server.run_client(cases.SELECT, database)
        server.run_client(cases.AGES, database)


def depths_of(label, rows):
    """Return each page depth: its percent, OFFSET and keyset start."""
    depths = []
    for percent in cases.DEPTHS:
        offset = min(rows * percent // 100, rows - cases.PAGE)
        after = ""
        if offset:
            after = server.query(database_of(label),
                                 "SELECT user_id FROM user_data ORDER BY "
                                 "user_id LIMIT 1 OFFSET %s",
                                 (offset - 1,))[0][0]
        depths.append({"percent": percent, "offset": offset, "after": after})
    return depths


def bench_pages(reps):
    """Time OFFSET and keyset pages at each depth of each table.

    Return ``{label: {"depths": [...], "offset": [[ms...]...], ...}}``,
    a list of medians per depth for each repetition.
    """
    results = {}
    for label, rows in SIZES:
        depths = depths_of(label, rows)
        results[label] = {"depths": depths, "offset": [], "keyset": []}
        for rep in range(reps):
            for kind in rotated(("offset", "keyset"), rep):
                result = launch.run_case(
                    f"{label}: {kind} pages, repetition {rep + 1} of {reps}",
                    f"{kind}_pages", database_of(label),
                    {"depths": depths, "tries": cases.PAGE_TRIES})
                results[label][kind].append(result["value"])
    return results


def bench_seeding(paths, reps, only=None, host=None):
    """Load each CSV each seeding case's way; return the results.

    Return ``{(csv, case): [result, ...]}``; each result has the rows
    the table holds after it (or, for a case that ``loads`` nothing,
    the rows it made). In each repetition and for each CSV, the
    cases of each ``paired`` group (a case and its anchor) run next to
    each other and in turn first, then the others. Each runs on a table
    that holds its ``present`` share of the CSV's rows (``fill``),
    filled again unless it holds them all already: a run over a table
    that has every row changes nothing. ``only``: the cases to run
    (None: all); ``host``: the server, if not the project-local one.
    """
    database = database_of("seed")
    env = host and server.environment(database, host=host)
    results = {}
    for rep in range(reps):
        for csv, names in cases.seeding_plan(only):
            groups = {}
            for name in names:
                groups.setdefault(CASES[name].paired or name, []).append(name)
            kept = None
            for case in [case for group in groups.values()
                         for case in rotated(group, rep)]:
                present = CASES[case].present
                if kept != (csv, present) or present != 1:
                    fill(database, paths[csv], CSVS[csv], present, host)
                kept = (csv, present)
                arg = {"path": paths[csv], "rows": CASES[case].rows,
                       "ids": present and tables.with_ids(paths[csv])}
                result = launch.run_case(
                    f"seeding {human(CSVS[csv])}: {case}, "
                    f"repetition {rep + 1} of {reps}"
                    + (f" on {host}" if host else ""), case, database, arg,
                    env)
                expected = CASES[case].rows or CSVS[csv]
                result["rows"] = tables.row_count(database, host) \
                    if CASES[case].loads else result["value"]
                if result["rows"] != expected:
                    sys.exit(f"error: {case} left {result['rows']} rows, "
                             f"not {expected}")
                results.setdefault((csv, case), []).append(result)
    if host is None:
        tables.drop(database)
    return results


def fill(database, path, rows, present, host=None):
    """Make user_data of ``database`` hold the last ``present`` of rows.

    ``rows`` is the number of records of the CSV at ``path``; they are
    loaded, with their ids, from its copy ``tables.with_ids`` made. With
    ``present`` 0 the table is empty. Only an empty one on ``host``.
    """
    tables.fresh_table(database, host)
    if present:
        assert host is None, "a table filled on the project-local server only"
        skip = 1 + rows - round(rows * present)  # and the header
        with launch.step(f"seeding: {round(rows * present):,} rows present "
                         "before"):
            server.run_client(cases.IGNORE.format(
                path=tables.with_ids(path), skip=skip), database,
                ["--local-infile=1"])


STOCK_CASES = ("insert_data", "load_data", "python_side",
               "server_side")  # the first load, on each CSV


def bench_stock(paths, reps):
    """Run the first load's cases on a server as users have one.

    Return its InnoDB settings (text) and the results, as
    ``bench_seeding``'s; the server (``server.stock_server``) is stopped
    and removed at the end.
    """
    with server.stock_server() as host:
        return (server.innodb(host),
                bench_seeding(paths, reps, STOCK_CASES, host))


def bench_cluster(paths, reps, failover_reps):
    """Run the cluster part on a cluster of its own; return its results.

    The cluster is started for it, and stopped and removed after it,
    whatever happens (see bench/galera.py).
    """
    with galera.running() as lab:
        return galera.bench_cluster(lab, paths[BIG],
                                    database_of(BIG), reps,
                                    failover_reps)


def main():
    """Build the tables, run every case, write and print the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5,
                        help="repetitions of the streaming and page cases, "
                        "on the single server and on the cluster")
    parser.add_argument("--seed-reps", type=int, default=3,
                        help="repetitions of the seeding cases")
    parser.add_argument("--failover-reps", type=int, default=3,
                        help="repetitions of each failover case (a node "
                        "killed, a node frozen)")
    part = parser.add_mutually_exclusive_group()
    part.add_argument("--cluster-only", action="store_true",
                      help="run the cluster part alone (results.md then "
                      "holds only it; chart.png is left as it is)")
    part.add_argument("--no-cluster", action="store_true",
                      help="skip the cluster part (cluster.png is left as "
                      "it is)")
    part.add_argument("--seeding-only", action="store_true",
                      help="run the seeding cases alone, on both servers, "
                      "and print them; bench/results/ is left as it is")
    args = parser.parse_args()
    try:  # the charts, drawn at the end: say so before the minutes of work
        import matplotlib  # noqa: F401
    except ImportError:
        sys.exit("error: the benchmark draws its charts with matplotlib, "
                 "which this Python lacks: run make bench, or install "
                 "requirements-bench.txt (pip install -r "
                 "requirements-bench.txt)")
    if server.localdb.users_env():
        sys.exit("error: make bench builds its tables on the project-local "
                 "server, and .env names a server of yours: move .env aside "
                 "to run it")
    start = time.monotonic()
    try:
        info = report.machine(*server.describe())
    except server.db.SetupError as err:
        sys.exit(f"error: {err}")
    info.append(("InnoDB", server.innodb()))
    paths = tables.make_csvs()
    if args.seeding_only:
        return seeding_only(paths, args.seed_reps, info, start)
    loads = tables.prepare_tables(paths)
    checks, local, figures, stock = [], None, None, None
    if not args.cluster_only:
        streams = bench_streams(args.reps)
        pages = bench_pages(args.reps)
        seeding = bench_seeding(paths, args.seed_reps)
        stock = bench_stock(paths, args.seed_reps)
        stream_table = report.stream_rows(streams)
        pages_table = report.page_table(pages)
        checks = report.targets(streams, stream_table, pages_table, seeding)
        checks += report.stock_targets(stock)
        local = (stream_table, pages_table, seeding)
    if not args.no_cluster:
        try:
            figures = report.cluster_figures(bench_cluster(
                paths, args.reps, args.failover_reps))
            checks += report.cluster_targets(figures)
        except galera.Terminated:
            raise
        except (RuntimeError, SystemExit,
                subprocess.CalledProcessError) as err:  # the rest stands
            print(err, file=sys.stderr)
            lines = str(err).strip().splitlines() or ["?"]
            checks.append(("cluster: the cluster part failed ("
                           + " ... ".join(dict.fromkeys([lines[0],
                                                         lines[-1]]))
                           + "); bench/run.py --no-cluster skips it", False))
    minutes = (time.monotonic() - start) / 60
    info.append(("Tables", ", ".join(
        f"{human(rows)}: " + (
            f"loaded by {loads[label]}" if label in loads
            else "reused from an earlier run")
        for label, rows in SIZES)))
    text = report.markdown(
        info, checks, minutes,
        local and (args.reps, args.seed_reps) + local, figures, stock)
    report.write(RESULTS, text, local, figures)
    print(text.split("## Targets")[0].rstrip() + "\n")
    for line, passed in checks:
        print(f"{report.verdict(passed)} {line}")
    written = ["results.md"] + ["chart.png"] * bool(local) + [
        "cluster.png"] * bool(figures)
    print(f"\nwritten: {os.path.relpath(RESULTS)}/: {', '.join(written)}")


def seeding_only(paths, reps, info, start):
    """Run the seeding cases on both servers; print them and their targets.

    Nothing is written: results.md stays a whole run's.
    """
    seeding = bench_seeding(paths, reps)
    stock = bench_stock(paths, reps)
    checks = report.seeding_targets(seeding) + report.stock_targets(stock)
    print(f"# Seeding alone ({(time.monotonic() - start) / 60:.1f} minutes, "
          f"{reps} repetitions)\n")
    print("\n".join([f"- **{name}**: {value}" for name, value in info]
                    + report.seeding_markdown(seeding)
                    + report.stock_markdown(stock)) + "\n")
    for line, passed in checks:
        print(f"{report.verdict(passed)} {line}")


if __name__ == "__main__":
    main()
