"""The benchmark's report: medians, ratios, targets, Markdown and charts.

Everything here works on the results that bench/run.py collected; none
of it touches the server. ``GOALS`` holds the targets on ratios to an
anchor, which both the PASS/FAIL lines and the chart's dotted lines use.
The cluster's figures, lines and chart (cluster.png) have sections of
their own.
"""
import os
import platform
import statistics
from operator import itemgetter

from cases import (AGES, CASES, PAGE, PAGE_TRIES, PARTS, SELECT, grouped,
                   seeding_plan)
from sizes import BIG, CSVS, SIZES, human

# The least ratio of rows/s to the anchor's that each case must reach.
GOALS = {"stream": 0.5, "batches": 0.5, "ages": 0.3, "insert_data": 0.55,
         "insert_fallback": 0.4, "reseed_all": 0.8, "reseed_half": 0.8}
FLAT_MB = 5  # the generators' peak RSS may grow this much from 10k to 1M
OVER_ROW_BY_ROW = 10  # insert_data's least speed-up over row by row
KEYSET_DEPTH = 2  # a keyset page at 100% costs at most this times one at 0%
KEYSET_OVER_OFFSET = 50  # at 100% of 1M, keyset beats OFFSET this much


# ------------------------------------------------------------- analysis --

def median(values):
    """Return the median of ``values``."""
    return statistics.median(values)


def speed(results, rows):
    """Return the median rows per second of a case's repetitions."""
    return median([rows / result["seconds"] for result in results])


def ratio(ours, anchor):
    """Return the median of the repetitions' ratios of speed, ours/anchor."""
    return median([theirs["seconds"] / mine["seconds"]
                   for mine, theirs in zip(ours, anchor)])


def rss(results):
    """Return the median peak RSS, in MB, of a case's repetitions."""
    return median([result["rss_mb"] for result in results])


def stream_rows(streams):
    """Return the streaming table's rows as dicts, by size then case."""
    table = []
    for label, rows in SIZES:
        runs = streams[label]
        for case in grouped("stream"):
            anchor = CASES[case].anchor
            table.append({
                "label": label, "rows": rows, "case": case,
                "name": CASES[case].title, "anchor": anchor,
                "speed": speed(runs[case], rows),
                "anchor_speed": speed(runs[anchor], rows),
                "ratio": ratio(runs[case], runs[case, anchor]),
                "rss": rss(runs[case]), "anchor_rss": rss(runs[anchor])})
    return table


def page_table(pages):
    """Return the pages table: median ms of each kind at each depth."""
    table = []
    for label, rows in SIZES:
        result = pages[label]
        for at, depth in enumerate(result["depths"]):
            offset = median([rep[at]["ms"] for rep in result["offset"]])
            keyset = median([rep[at]["ms"] for rep in result["keyset"]])
            same = all(rep[at]["first"] == other[at]["first"]
                       and rep[at]["rows"] == other[at]["rows"] == PAGE
                       for rep in result["offset"]
                       for other in result["keyset"])
            table.append({"label": label, "rows": rows,
                          "percent": depth["percent"],
                          "offset": depth["offset"], "offset_ms": offset,
                          "keyset_ms": keyset, "same": same})
    return table


def seeding_table(seeding):
    """Return the seeding rows: speed, ratio to LOAD DATA, peak RSS.

    ``seeding[csv, case]`` lists a case's repetitions on one CSV; each
    ratio is to the anchor's run of the same CSV in the same repetition.
    """
    table = []
    for csv, names in seeding_plan():
        for case in names:
            if (csv, case) not in seeding:  # not run on this server
                continue
            runs = seeding[csv, case]
            anchor = seeding[csv, CASES[case].anchor]
            rows = runs[0]["rows"]
            table.append({"label": csv, "csv_rows": CSVS[csv], "case": case,
                          "name": CASES[case].title, "rows": rows,
                          "speed": speed(runs, rows),
                          "ratio": median([
                              (rows / mine["seconds"])
                              / (theirs["rows"] / theirs["seconds"])
                              for mine, theirs in zip(runs, anchor)]),
                          "rss": rss(runs)})
    return table


def sides_table(seeding):
    """Return the first load's time split into its two sides, per CSV.

    In seconds, each the median of the repetitions' own figures: the
    loader's Python side alone (``python_side``), the server alone
    (``server_side``), ``insert_data``, their ``overlap`` (the two
    sides' sum less insert_data's time: how long both ran at once), the
    two-core ``limit`` (the longer side: insert_data can take no less),
    insert_data's time over it (``gap``), and the ratio to LOAD DATA
    LOCAL that insert_data would reach at the limit (``best``).
    """
    table = []
    for csv in CASES["python_side"].csvs:
        if (csv, "python_side") not in seeding:  # not run on this server
            continue
        reps = [[result["seconds"] for result in results] for results in zip(
            *[seeding[csv, case] for case in (
                "python_side", "server_side", "insert_data", "load_data")])]
        table.append({
            "label": csv,
            "python": median([rep[0] for rep in reps]),
            "server": median([rep[1] for rep in reps]),
            "total": median([rep[2] for rep in reps]),
            "overlap": median([rep[0] + rep[1] - rep[2] for rep in reps]),
            "limit": median([max(rep[:2]) for rep in reps]),
            "gap": median([rep[2] - max(rep[:2]) for rep in reps]),
            "best": median([rep[3] / max(rep[:2]) for rep in reps])})
    return table


def sides_markdown(seeding):
    """Return the table of the first load's two sides, in Markdown."""
    return ["", "Where the first load's time goes: the loader's Python side "
            "alone (read, check, make the ids and rows, sort, write the "
            "chunk files; no server) and the server alone (`LOAD DATA "
            "LOCAL` of those chunk files, made before the clock starts, "
            "sent by `loader.send` in one transaction), each timed in the "
            "same repetitions as `insert_data`. On two cores the sides "
            "run at once: the overlap is their sum less `insert_data`'s "
            "time, and `insert_data` can take no less than the longer "
            "side (the two-core limit). Seconds, medians of the "
            "repetitions' own figures.", "",
            "| CSV | Python side alone | server alone | insert_data | "
            "overlap | two-core limit | insert_data over the limit | "
            "ratio to LOAD DATA LOCAL at the limit |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|"] + [
                f"| {human(CSVS[row['label']])} | {row['python']:.2f} | "
                f"{row['server']:.2f} | {row['total']:.2f} | "
                f"{row['overlap']:.2f} | {row['limit']:.2f} | "
                f"{row['gap']:+.2f} | {row['best']:.2f}x |"
                for row in sides_table(seeding)]


def sides_lines(seeding, where=""):
    """Return an INFO line per CSV: the two sides, the overlap, the gap."""
    return [(f"insert_data on the {human(CSVS[row['label']])}-row CSV"
             f"{where}: {row['total']:.2f} s; the Python side alone "
             f"{row['python']:.2f} s, the server alone {row['server']:.2f} "
             f"s, overlap {row['overlap']:.2f} s, {row['gap']:+.2f} s over "
             f"the two-core limit (there: {row['best']:.2f}x LOAD DATA "
             "LOCAL's rows/s)", None) for row in sides_table(seeding)]


# -------------------------------------------------------------- targets --

def targets(streams, stream_table, pages_table, seeding):
    """Check the targets; return (line, passed) pairs, None: information."""
    find = {(row["label"], row["case"]): row for row in stream_table}
    lines = []
    for case in ("stream", "batches"):
        row = find[BIG, case]
        lines.append((f"{row['name']} over 1M rows: {row['ratio']:.2f}x the "
                      f"--quick client's rows/s (target >= {GOALS[case]}x)",
                      row["ratio"] >= GOALS[case]))
    row = find[BIG, "ages"]
    lines.append((f"average_age over 1M rows: {row['ratio']:.2f}x the "
                  f"--quick client's rows/s (target >= {GOALS['ages']}x)",
                  row["ratio"] >= GOALS["ages"]))
    for label, rows in SIZES:
        ours = {result["value"] for result in streams[label]["ages"]}
        server = {result["value"] for result in streams[label]["sql_avg"]}
        lines.append((f"average_age over {human(rows)} rows = "
                      f"{'/'.join(sorted(ours))}, SQL AVG = "
                      f"{'/'.join(sorted(server))} (target: equal)",
                      ours == server and len(ours) == 1))
    small = SIZES[0][0]
    for case in ("stream", "batches", "ages", "fetchall"):
        grow = round(find[BIG, case]["rss"] - find[small, case]["rss"], 1)
        grow += 0.0  # no "-0.0"
        text = (f"peak RSS of {find[BIG, case]['name']}: "
                f"{find[small, case]['rss']:.1f} MB over 10k rows, "
                f"{find[BIG, case]['rss']:.1f} MB over 1M ({grow:+.1f} MB)")
        if case == "fetchall":
            lines.append((text + ", for comparison", None))
        else:
            lines.append((text + f" (target: within {FLAT_MB} MB)",
                          abs(grow) <= FLAT_MB))
    lines += seeding_targets(seeding)
    page = {(row["label"], row["percent"]): row for row in pages_table}
    top, deep = page[BIG, 0], page[BIG, 100]
    lines.append((f"keyset page at 100% of 1M: {deep['keyset_ms']:.2f} ms, "
                  f"at 0%: {top['keyset_ms']:.2f} ms "
                  f"({deep['keyset_ms'] / top['keyset_ms']:.2f}x; target "
                  f"<= {KEYSET_DEPTH}x)",
                  deep["keyset_ms"] <= KEYSET_DEPTH * top["keyset_ms"]))
    faster = deep["offset_ms"] / deep["keyset_ms"]
    lines.append((f"keyset page at 100% of 1M: {faster:.0f}x faster than "
                  f"OFFSET ({deep['offset_ms']:.1f} ms; target >= "
                  f"{KEYSET_OVER_OFFSET}x)", faster >= KEYSET_OVER_OFFSET))
    lines.append(("keyset and OFFSET pages start at the same user at every "
                  "depth", all(row["same"] for row in pages_table)))
    return lines


def seeding_targets(seeding):
    """Check the seeding targets; return (line, passed) pairs."""
    table = {(row["label"], row["case"]): row
             for row in seeding_table(seeding)}
    goal, lines = GOALS["insert_data"], []
    for csv in CASES["insert_data"].csvs:
        ours = table[csv, "insert_data"]
        lines.append((f"insert_data on the {human(CSVS[csv])}-row CSV: "
                      f"{ours['ratio']:.2f}x LOAD DATA LOCAL's rows/s "
                      f"(target >= {goal}x)", ours["ratio"] >= goal))
    versus = median([
        (mine["rows"] / mine["seconds"]) / (base["rows"] / base["seconds"])
        for mine, base in zip(seeding[BIG, "insert_data"],
                              seeding[BIG, "row_by_row"])])
    lines += sides_lines(seeding)
    lines.append((f"insert_data: {versus:.1f}x the row-by-row baseline's "
                  f"rows/s (target >= {OVER_ROW_BY_ROW}x)",
                  versus >= OVER_ROW_BY_ROW))
    fallback, goal = table[BIG, "insert_fallback"], GOALS["insert_fallback"]
    lines.append((f"insert_data on a server refusing LOCAL INFILE, by "
                  f"{seeding[BIG, 'insert_fallback'][0]['value']['method']}: "
                  f"{fallback['ratio']:.2f}x LOAD DATA LOCAL's rows/s "
                  f"(target >= {goal}x)", fallback["ratio"] >= goal))
    for case, share in (("reseed_all", "every row"),
                        ("reseed_half", "half the rows")):
        again, goal = table[BIG, case], GOALS[case]
        lines.append((f"insert_data again on the 1M-row CSV, {share} "
                      f"present: {again['ratio']:.2f}x LOAD DATA LOCAL ... "
                      f"IGNORE's rows/s, the same ids (target >= {goal}x)",
                      again["ratio"] >= goal))
    return lines


def stock_targets(stock):
    """Check insert_data on the server as users have it (``bench_stock``)."""
    _, seeding = stock
    table = {(row["label"], row["case"]): row
             for row in seeding_table(seeding)}
    goal = GOALS["insert_data"]
    return [(f"insert_data on the {human(CSVS[csv])}-row CSV, server with "
             f"its default redo log and doublewrite: "
             f"{table[csv, 'insert_data']['ratio']:.2f}x LOAD DATA LOCAL's "
             f"rows/s (target >= {goal}x)",
             table[csv, "insert_data"]["ratio"] >= goal)
            for csv in CASES["insert_data"].csvs] + sides_lines(
                seeding, ", server with its defaults")


def verdict(passed):
    """Return PASS, FAIL or INFO for a check."""
    return "INFO" if passed is None else "PASS" if passed else "FAIL"


# ------------------------------------------------------------- Markdown --

def machine(server_version, connection_class):
    """Describe the machine, the server and the driver, as (name, value)."""
    import mysql.connector
    with open("/proc/cpuinfo") as info:
        cpu = next((line.split(":", 1)[1].strip() for line in info
                    if line.startswith("model name")), platform.processor())
    with open("/proc/meminfo") as info:
        ram = int(next(line.split()[1] for line in info
                       if line.startswith("MemTotal"))) / 1024 ** 2
    system = platform.platform()
    if os.path.exists("/etc/os-release"):
        with open("/etc/os-release") as info:
            system = next((line.split("=", 1)[1].strip().strip('"')
                           for line in info
                           if line.startswith("PRETTY_NAME=")), system)
    native = "active" if mysql.connector.HAVE_CEXT else "NOT active"
    return [("CPU", f"{cpu}, {os.cpu_count()} cores"),
            ("RAM", f"{ram:.1f} GiB"),
            ("OS", f"{system} (Linux {platform.release()})"),
            ("Server", server_version),
            ("Python", platform.python_version()),
            ("Driver", f"mysql-connector-python {mysql.connector.__version__}"
             f", C extension {native} (HAVE_CEXT="
             f"{mysql.connector.HAVE_CEXT}, connection class "
             f"{connection_class})")]


def markdown(info, checks, minutes, local=None, cluster=None, stock=None):
    """Return results.md: the machine, each part's tables, the targets.

    ``local``: the single server's part, the arguments of
    ``local_markdown``; ``cluster``: ``cluster_figures``; ``stock``:
    ``bench_stock``'s settings and results. Any may be None when that
    part did not run.
    """
    out = ["# Benchmark results", "",
           f"Made by `make bench` (bench/run.py) in {minutes:.1f} minutes.",
           ""]
    out += [f"- **{name}**: {value}" for name, value in info]
    if local:
        out += local_markdown(*local)
    if stock:
        out += stock_markdown(stock)
    if cluster:
        out += cluster_markdown(cluster)
    out += ["", "## Targets", ""]
    out += [f"- {verdict(passed)} {line}" for line, passed in checks]
    out += [""] + ["![chart](chart.png)"] * bool(local)
    out += ["", "![cluster](cluster.png)"] * bool(cluster) + [""]
    return "\n".join(out)


def local_markdown(reps, seed_reps, stream_table, pages_table, seeding):
    """Return the single server's sections: streaming, seeding, pages."""
    out = ["", "Each case runs in a subprocess of its own (peak RSS is "
           "that process's `ru_maxrss`; for the client, the client's), "
           f"{reps} times for streaming and pages and {seed_reps} times for "
           "seeding, each repetition running a case and its anchor one "
           "after the other. Speeds are medians; a ratio is the median of "
           "the repetitions' ratios (above 1: faster than the anchor). The "
           "machine was shared with other work, so single runs are noisy.",
           "", "## Streaming", "",
           "Anchor: the `mariadb` command-line client with `--quick` (rows "
           "streamed with the C library's `mysql_use_result`) sending the "
           "same SELECT to /dev/null: the wire limit. The full stream reads "
           f"`{SELECT}`; the average's anchor reads `{AGES}` (the ages "
           "stream also reads each user_id: its key, to go on from another "
           "server).", "",
           "| rows | case | rows/s | anchor | anchor rows/s | ratio to "
           "anchor | peak RSS | anchor peak RSS |",
           "|---:|---|---:|---|---:|---:|---:|---:|"]
    for row in stream_table:
        out.append(f"| {human(row['rows'])} | {row['name']} | "
                   f"{row['speed']:,.0f} | {CASES[row['anchor']].title} | "
                   f"{row['anchor_speed']:,.0f} | "
                   f"{row['ratio']:.2f}x | {row['rss']:.1f} MB | "
                   f"{row['anchor_rss']:.1f} MB |")
    out += seeding_markdown(seeding)
    out += ["", "## Pages", "",
            f"One page of {PAGE} users, a new connection each (both "
            "functions open one), median of "
            f"{PAGE_TRIES} calls per repetition, then of the repetitions. "
            "`paginate_users(100, offset)` against "
            "`keyset_page(100, after=<the user_id just before>)`.", "",
            "| rows | depth | offset | OFFSET ms | keyset ms | "
            "OFFSET / keyset |", "|---:|---:|---:|---:|---:|---:|"]
    for row in pages_table:
        out.append(f"| {human(row['rows'])} | {row['percent']}% | "
                   f"{row['offset']:,} | {row['offset_ms']:.2f} | "
                   f"{row['keyset_ms']:.2f} | "
                   f"{row['offset_ms'] / row['keyset_ms']:.1f}x |")
    return out


def seeding_markdown(seeding):
    """Return the seeding section of results.md."""
    ours = seeding[BIG, "insert_data"][0]["value"]
    again = seeding[BIG, "reseed_all"][0]["value"]
    sizes = " and ".join(f"{human(CSVS[csv])}" for csv, _ in seeding_plan())
    out = ["", "## Seeding", "",
           "Each into an empty `user_data`, from course-shaped CSVs of "
           f"{sizes} rows (`name`, `email`, `age`, no `user_id`); each ratio "
           "is to `LOAD DATA LOCAL INFILE` of the same CSV in the same "
           f"repetition. Load path taken by insert_data: {ours['method']} "
           f"(from the Counts that `loader.load` returns: {ours}); with the "
           "server's `local_infile` off, as MySQL 8 ships: "
           f"{seeding[BIG, 'insert_fallback'][0]['value']['method']}. "
           "Again: `insert_data` of the 1M-row CSV into a table that holds "
           "every row of it already (Counts: " f"{again}), or its last "
           "half, loaded before the clock starts from a copy of the CSV "
           "with the ids `insert_data` gives; the ratio is to `LOAD DATA "
           "LOCAL INFILE ... IGNORE` of that copy (the same rows, the same "
           "ids, in file order) over the same table, in the same "
           "repetition.", "",
           "| method | CSV | rows | rows/s | ratio to LOAD DATA LOCAL | "
           "peak RSS |", "|---|---:|---:|---:|---:|---:|"]
    out += seeding_rows(seeding) + sides_markdown(seeding)
    return out


def seeding_rows(seeding):
    """Return the rows of a seeding table of results.md."""
    return [f"| {row['name']} | {human(row['csv_rows'])} | "
            f"{row['rows']:,} | {row['speed']:,.0f} | "
            f"{row['ratio']:.2f}x | {row['rss']:.1f} MB |"
            for row in seeding_table(seeding)]


def stock_markdown(stock):
    """Return the section of the server as users have it (``bench_stock``)."""
    settings, seeding = stock
    return ["", "## Seeding on a server as users have it", "",
            "The first load's cases again, each into an empty `user_data`, "
            "on a throwaway server started with the server's own defaults "
            "but for a buffer pool that holds the 1M-row table "
            f"(bench/server.py, `stock_server`): {settings}.", "",
            "| method | CSV | rows | rows/s | ratio to LOAD DATA LOCAL | "
            "peak RSS |", "|---|---:|---:|---:|---:|---:|"] + seeding_rows(
                seeding) + sides_markdown(seeding)


# -------------------------------------------------------------- cluster --

PART_NAMES = {"detect": "finding the loss", "connect": "connecting",
              "catch_up": "the wait for the stream's position",
              "query": "the query from the key", "rows": "its first rows"}
SIGNALS = {"kill": "killed (SIGKILL)", "freeze": "frozen (SIGSTOP)"}
# The gaps (medians of 3) while a resumed read waited for the whole
# cluster (wsrep_sync_wait), until it dropped the lost node; frozen, at
# MYSQL_READ_TIMEOUT=2. See docs/failover.md.
GAP_BEFORE = {"kill": 5.84, "freeze": 5.63}
GAP_MARGIN = 0.3  # s: a killed node's gap, a frozen one's past the time-out


def cluster_figures(results):
    """Return the cluster part's figures from its results (bench/galera.py).

    Speeds are medians, a ratio (cluster / single server) the median of
    the repetitions' ratios; a gap and each of its parts, medians over
    the repetitions whose stream went on.
    """
    load = results["load"]
    rows = load["rows"]
    figures = {key: results[key] for key in (
        "nodes", "start", "rss_mb", "minutes", "freeze_timeouts", "gated",
        "options")}
    figures["load"] = dict(load, speed=rows / load["seconds"])
    for case in ("stream", "client_full"):
        single = results["streams"][case, "single"]
        node = results["streams"][case, "cluster"]
        figures[case] = {"single": speed(single, rows),
                         "cluster": speed(node, rows),
                         "ratio": ratio(node, single)}
    for kind in SIGNALS:
        runs = [dict(run["value"], gap=run["seconds"])
                for run in results[kind]]
        good = [run for run in runs if run["gap"] is not None]
        figures[kind] = {
            "reps": len(runs),
            "gap": median([run["gap"] for run in good]) if good else None,
            "each": [run["gap"] for run in runs],
            "before": min(run["before"] for run in runs),
            "parts": {part: median([run["parts"][part] for run in good])
                      for part in PARTS} if good else None,
            "dropped": median([run["dropped"] for run in good
                               if run["dropped"] is not None] or [None]),
            "tries": sorted({run["tries"] for run in runs}),
            "served_by": sorted({str(run["served_by"]) for run in runs}),
            "in_order": all(run["in_order"] and not run["error"]
                            for run in runs),
            "errors": [run["error"] for run in runs if run["error"]],
            "rows": results["gated"]["rows"]}
    figures["rejoin"] = {
        "seconds": median([each["seconds"] for each in results["rejoin"]]),
        "how": "/".join(sorted({each["how"] or "none needed"
                                for each in results["rejoin"]}))}
    figures["resync"] = median(results["resync"])
    return figures


def seconds(value):
    """Format seconds: 5.79 s, 12 ms below a tenth of a second, or "-"."""
    if value is None:
        return "-"
    return f"{value:.2f} s" if value >= 0.1 else f"{value * 1000:.0f} ms"


def timeouts(figures):
    """Name the time-outs of the frozen node's stream, as set."""
    return ", ".join(f"MYSQL_{name.upper()}={value}"
                     for name, value in figures["freeze_timeouts"].items())


def gap_line(figures, kind):
    """Return the INFO line on the gap of ``kind``: kill or freeze."""
    found = figures[kind]
    what = SIGNALS[kind] + (f", {timeouts(figures)}" if kind == "freeze"
                            else "")
    if found["gap"] is None:
        return (f"cluster: node1 {what} under a stream: no gap measured "
                f"({'; '.join(found['errors'])})", None)
    spent = ", ".join(f"{PART_NAMES[part]} {seconds(value)}"
                      for part, value in found["parts"].items())
    each = ", ".join("-" if gap is None else f"{gap:.2f}"
                     for gap in found["each"])
    return (f"cluster: node1 {what} under a stream at row "
            f"{figures['gated']['at']:,}: the next row came from "
            f"{'/'.join(found['served_by'])} after "
            f"{seconds(found['gap'])} (median of {found['reps']}: {each} s; "
            f"{spent}); node2 saw node1 dropped from the cluster after "
            f"{seconds(found['dropped'])}", None)


def gap_target(figures, kind):
    """Return the target line on the gap of ``kind``: kill or freeze.

    Killed: under GAP_MARGIN. Frozen: under the read time-out, which
    finds the loss, plus GAP_MARGIN.
    """
    found, limit = figures[kind], GAP_MARGIN
    if kind == "freeze":
        limit += figures["freeze_timeouts"]["read_timeout"]
    return (f"cluster: node1 {SIGNALS[kind]} under a stream: the next row "
            f"after {seconds(found['gap'])} (median of {found['reps']}; "
            f"was {seconds(GAP_BEFORE[kind])} waiting for the cluster; "
            f"target < {seconds(limit)}"
            + (f", the read time-out + {seconds(GAP_MARGIN)})"
               if kind == "freeze" else ")"),
            found["gap"] is not None and found["gap"] < limit)


def cluster_targets(figures):
    """Return the cluster's lines: (line, passed), None for information."""
    load, counts = figures["load"], figures["load"]["counts"]
    lines = []
    for case, name in (("stream", "stream_users()"),
                       ("client_full", "the --quick client")):
        found = figures[case]
        lines.append((f"cluster: {name} over 1M rows through node2: "
                      f"{found['cluster']:,.0f} rows/s, {found['ratio']:.2f}x "
                      f"the single server's ({found['single']:,.0f} rows/s)",
                      None))
    lines.append((f"cluster: insert_data of {load['rows']:,} rows through "
                  f"node1 by {load['value']['method']}: {load['speed']:,.0f} "
                  f"rows/s, {load['wsrep_replicated']} writeset(s) of "
                  f"{load['wsrep_replicated_bytes'] / 2 ** 20:.0f} MB in all",
                  None))
    lines.append((f"cluster: once insert_data returned, every node counts "
                  f"all {load['rows']:,} rows ("
                  + ", ".join(f"{name} {count:,}"
                              for name, count in counts.items())
                  + ") (target: all, on every node)",
                  all(count == load["rows"] for count in counts.values())))
    for kind in SIGNALS:
        found = figures[kind]
        lines.append(gap_line(figures, kind))
        lines.append(gap_target(figures, kind))
        lines.append((f"cluster: node1 {SIGNALS[kind]} under a stream: every "
                      f"row of {found['rows']:,} once, in key order, in each "
                      f"of {found['reps']} repetitions (target: all)"
                      + "".join(f"; {error}" for error in found["errors"]),
                      found["in_order"]))
    lines.append((f"cluster: a killed node1 rejoined in "
                  f"{seconds(figures['rejoin']['seconds'])} (transfer: "
                  f"{figures['rejoin']['how']}), a frozen one was back in "
                  f"sync {seconds(figures['resync'])} after SIGCONT "
                  "(medians)", None))
    return lines


def cluster_markdown(figures):
    """Return the cluster's section of results.md."""
    load = figures["load"]
    nodes = ", ".join(f"{name} on 127.0.0.1:{port}"
                      for name, port in figures["nodes"])
    out = ["", "## Cluster", "",
           "A three-node MariaDB Galera cluster on loopback, started by the "
           "benchmark through scripts/cluster.py in a temporary folder and "
           f"removed at the end: {nodes}; each with `"
           + " ".join(figures["options"]) + "`, as the single server, so "
           "that the 1M-row table is in memory on both (scripts/cluster.py "
           "alone gives 128 MB). " + "; ".join(figures["start"])
           + "; resident memory of each idle node: "
           + ", ".join(f"{mb:.0f} MB" for mb in figures["rss_mb"]) + ".", "",
           f"The same 1M-row CSV as the single server's table, loaded by "
           f"`seed.insert_data` through node1 ({load['value']['method']}, "
           f"one transaction: {load['wsrep_replicated']} writeset(s), "
           f"{load['wsrep_replicated_bytes'] / 2 ** 20:.0f} MB replicated, "
           f"{load['seconds']:.1f} s), then read through node2, each read "
           "next to the same read on the project-local server in the same "
           "repetition.", "",
           "| 1M rows | single server rows/s | node2 of the cluster rows/s "
           "| cluster / single |", "|---|---:|---:|---:|"]
    for case in ("stream", "client_full"):
        found = figures[case]
        out.append(f"| {CASES[case].title} | {found['single']:,.0f} | "
                   f"{found['cluster']:,.0f} | {found['ratio']:.2f}x |")
    gated = figures["gated"]
    out += ["", f"Failover: `stream_users()` over a table of "
            f"{gated['rows']:,} rows whose row {gated['at']:,} waits on a "
            "lock held on node1 (scripts/testlab.py's `gated_table` and "
            "`Gate`), `MYSQL_HOST` naming node1, node2, node3. Once the "
            "consumer has read every row node1 sent, node1 is killed or "
            "frozen; the gap runs from the signal to the next row the "
            "consumer gets. Medians of the repetitions, and of each part: "
            "finding the loss (a closed socket, or the read time-out, which "
            "counts from the last row received), connecting, the new node's "
            "wait for the stream's position, `WSREP_SYNC_WAIT_UPTO_GTID` "
            "(until it has what node1 had when the stream began; a node "
            "not there by the read time-out is passed over, the lost node1 "
            "last), the query from the last key, its first rows. Frozen: "
            f"{timeouts(figures)}.", "",
            "| node1 | gap | " + " | ".join(PART_NAMES.values())
            + " | node2 sees node1 dropped | connections tried | the rest "
            "from | every row once, in order |",
            "|---|" + "---:|" * (len(PARTS) + 3) + "---|---|"]
    for kind, name in SIGNALS.items():
        found = figures[kind]
        if found["gap"] is None:
            out.append(f"| {name} | none: {'; '.join(found['errors'])} |")
            continue
        out.append(f"| {name} | {seconds(found['gap'])} | "
                   + " | ".join(seconds(found["parts"][part])
                                for part in PARTS)
                   + f" | {seconds(found['dropped'])} | "
                   f"{'/'.join(map(str, found['tries']))} | "
                   f"{'/'.join(found['served_by'])} | "
                   f"{'yes' if found['in_order'] else 'NO'} |")
    out += ["", "A killed node1 rejoined (`cluster.rejoin`) in "
            f"{seconds(figures['rejoin']['seconds'])} (transfer: "
            f"{figures['rejoin']['how']}); a frozen one was "
            f"back in sync {seconds(figures['resync'])} after SIGCONT. The "
            f"cluster part took {figures['minutes']:.1f} minutes."]
    return out


# ---------------------------------------------------------------- chart --

STREAM_BARS = {"stream": "stream_users()",
               "batches": "stream_users_in_batches(1000)",
               "ages": "average_age(stream_user_ages())",
               "fetchall": "naive fetchall() (dicts)"}
SEED_BARS = ("insert_data", "insert_fallback", "row_by_row")
TICKS = ["stream\n_users()", "stream_users\n_in_batches\n(1000)",
         "average\n_age()", "naive\nfetchall()", "insert\n_data()",
         "insert_data(),\nno LOCAL\nINFILE", "row-by-row\nINSERT"]
CSV_COLORS = ("tab:gray", "silver")  # the biggest CSV first


def chart(path, stream_table, pages_table, seeding):
    """Draw the three panels: memory, throughput ratios, page times."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, (memory, speeds, pages) = plt.subplots(1, 3, figsize=(19, 6))
    memory_panel(memory, stream_table)
    speed_panel(speeds, stream_table, seeding)
    pages_panel(pages, pages_table)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def memory_panel(memory, stream_table):
    """Draw each streaming case's peak RSS against the table's rows."""
    sizes = [rows for _, rows in SIZES]
    find = {(row["label"], row["case"]): row for row in stream_table}
    for case, name in STREAM_BARS.items():
        values = [find[label, case]["rss"] for label, _ in SIZES]
        memory.plot(sizes, values, marker="o", label=name,
                    linestyle="--" if case == "fetchall" else "-")
    flat = [find[label, case]["rss"] for label, _ in SIZES
            for case in ("stream", "batches", "ages")]
    spread = f"{min(flat):.0f}" + (f"-{max(flat):.0f}" if round(min(
        flat)) != round(max(flat)) else "")
    memory.annotate(f"the generators: {spread} MB at every size",
                    (sizes[1], max(flat)),
                    textcoords="offset points", xytext=(0, 8),
                    ha="center", fontsize=8)
    big = find[BIG, "fetchall"]["rss"]
    memory.annotate(f"{big:.0f} MB", (sizes[-1], big),
                    textcoords="offset points", xytext=(-8, -4),
                    ha="right", fontsize=8)
    memory.set_xscale("log")
    memory.set_ylim(0, big * 1.1)
    memory.set_xticks(sizes, [human(rows) for rows in sizes])
    memory.set_xlabel("rows in the table")
    memory.set_ylabel("peak RSS of the process (MB)")
    memory.set_title("Peak memory vs rows")
    memory.legend(fontsize=8)
    memory.grid(True, which="both", alpha=0.3)


def speed_panel(speeds, stream_table, seeding):
    """Draw each case's ratio to its anchor, with its target dotted.

    A group of bars per case: one per table size for the streams, one
    per CSV for the seeding cases (the smaller CSV on the left).
    """
    find = {(row["label"], row["case"]): row for row in stream_table}
    width = 0.26
    for at, (label, rows) in enumerate(SIZES):
        values = [find[label, case]["ratio"] for case in STREAM_BARS]
        bars = speeds.bar([i + (at - 1) * width
                           for i in range(len(STREAM_BARS))],
                          values, width, label=f"{human(rows)} rows")
        bar_labels(speeds, bars)
    seeds = {(row["label"], row["case"]): row
             for row in seeding_table(seeding)}
    csvs = sorted({csv for csv, _ in seeds}, key=CSVS.get, reverse=True)
    for csv, color in zip(csvs, CSV_COLORS):
        places, values = [], []
        for at, case in enumerate(SEED_BARS, start=len(STREAM_BARS)):
            mine = sorted(CASES[case].csvs, key=CSVS.get)
            if csv in mine:
                places.append(at + (mine.index(csv) - (len(mine) - 1) / 2)
                              * width)
                values.append(seeds[csv, case]["ratio"])
        bars = speeds.bar(places, values, width, color=color,
                          label=f"seeding, {human(CSVS[csv])} CSV")
        bar_labels(speeds, bars)
    cases = list(STREAM_BARS) + list(SEED_BARS)
    for at, case in enumerate(cases):
        if case in GOALS:
            speeds.hlines(GOALS[case], at - 0.42, at + 0.42, colors="black",
                          linestyles=":")
    speeds.axhline(1, color="black", linewidth=0.8)
    tallest = max([row["ratio"] for row in stream_table
                   if row["case"] in STREAM_BARS] + [1])
    speeds.set_ylim(0, tallest * 1.15)  # room for the labels
    speeds.set_xticks(range(len(cases)), TICKS, fontsize=8)
    speeds.set_ylabel("rows/s ÷ anchor's rows/s (dotted: target)")
    speeds.set_title("Throughput vs anchor (--quick client, LOAD DATA)")
    speeds.legend(fontsize=8, loc="upper right")  # the seeding bars are low
    speeds.grid(True, axis="y", alpha=0.3)


def bar_labels(speeds, bars):
    """Write each bar's value above it, legible over the dotted targets."""
    speeds.bar_label(bars, fmt="%.2f", fontsize=7, rotation=90, padding=2,
                     bbox={"boxstyle": "square,pad=0.1", "facecolor": "white",
                           "edgecolor": "none", "alpha": 0.8})


def pages_panel(pages, pages_table):
    """Draw each page's time against its depth, OFFSET and keyset."""
    markers = {"10k": "s", "100k": "^", "1m": "o"}
    for label, rows in SIZES:
        mine = [row for row in pages_table if row["label"] == label]
        skipped = [row["offset"] for row in mine]
        for kind, color in (("offset", "tab:red"), ("keyset", "tab:green")):
            pages.plot(skipped, [row[kind + "_ms"] for row in mine],
                       marker=markers[label], color=color,
                       label=f"{'OFFSET' if kind == 'offset' else 'keyset'}"
                       f", {human(rows)} rows")
    deepest = max(pages_table, key=itemgetter("offset"))
    per = (deepest["offset_ms"] - deepest["keyset_ms"]) / deepest["offset"]
    pages.annotate(f"OFFSET: +{per * 1000:.2f} ms per 1,000 rows skipped,\n"
                   "whichever the table: the server reads them all",
                   (deepest["offset"], deepest["offset_ms"]),
                   textcoords="offset points", xytext=(-10, -70),
                   ha="right", fontsize=8)
    pages.set_xlabel("rows skipped to reach the page (OFFSET)")
    pages.set_ylabel(f"time for one page of {PAGE} (ms)")
    pages.set_title("Page time vs depth: OFFSET grows, keyset stays flat")
    biggest = max(rows for _, rows in SIZES)
    ticks = range(0, biggest + 1, biggest // 4)
    pages.set_xticks(ticks, [f"{tick:,}" for tick in ticks])
    pages.legend(fontsize=8, ncol=2, loc="upper left")
    pages.grid(True, alpha=0.3)


def write(folder, text, local=None, cluster=None):
    """Write results.md, and chart.png and cluster.png, into ``folder``.

    ``local``: the stream, pages and seeding tables, for chart.png;
    ``cluster``: ``cluster_figures``, for cluster.png. Either may be
    None when that part did not run; its picture is then left alone.
    """
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "results.md"), "w") as out:
        out.write(text)
    if local:
        chart(os.path.join(folder, "chart.png"), *local)
    if cluster:
        cluster_chart(os.path.join(folder, "cluster.png"), cluster)


# -------------------------------------------------------- cluster chart --

def cluster_chart(path, figures):
    """Draw cluster.png from ``cluster_figures``: measured figures only.

    Left, each failover's gap split into its parts (medians), with the
    moment node2 saw node1 dropped (dotted); right, rows/s through the
    cluster next to the single server's, and the load's through node1.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, (gaps, speeds) = plt.subplots(1, 2, figsize=(15, 5),
                                          width_ratios=(3, 2))
    for row, kind in enumerate(SIGNALS):
        found, start = figures[kind], 0.0
        for part in PARTS if found["gap"] is not None else ():
            gaps.barh(row, found["parts"][part], left=start,
                      color=f"C{PARTS.index(part)}",
                      label=PART_NAMES[part] if row == 0 else None)
            start += found["parts"][part]
        gaps.text(start, row, f" {seconds(found['gap'])}", va="center")
        if found["dropped"] is not None:
            gaps.vlines(found["dropped"], row - 0.45, row + 0.45, "black",
                        ":", label="node2 sees node1 dropped" if row == 0
                        else None)
    gaps.set_yticks(range(len(SIGNALS)), [
        f"node1 {name}" for name in SIGNALS.values()])
    gaps.invert_yaxis()
    gaps.set_xlabel("seconds from the signal to the stream's next row "
                    f"(frozen: {timeouts(figures)})")
    gaps.set_title("Failover: the gap a stream sees, by part (medians)")
    gaps.legend(fontsize=8, ncol=3, loc="upper center",
                bbox_to_anchor=(0.5, -0.18))
    load = figures["load"]
    single = [figures["stream"]["single"], figures["client_full"]["single"]]
    node = [figures["stream"]["cluster"], figures["client_full"]["cluster"],
            load["speed"]]
    speeds.bar_label(speeds.bar([0, 1], single, -0.4, align="edge",
                                color="tab:gray", label="single server"),
                     fmt="{:,.0f}", fontsize=8)
    speeds.bar_label(speeds.bar([0, 1, 2], node, 0.4, align="edge",
                                color="tab:purple", label="cluster: reads "
                                "through node2, the load through node1"),
                     fmt="{:,.0f}", fontsize=8)
    speeds.set_xticks(range(3), ["stream_users()", "client --quick",
                                 "insert_data\n(one transaction)"])
    speeds.yaxis.set_major_formatter("{x:,.0f}")
    speeds.set_ylabel(f"rows/s over {load['rows']:,} rows")
    speeds.set_title(f"Throughput; the load replicated "
                     f"{load['wsrep_replicated']} writeset(s), "
                     f"{load['wsrep_replicated_bytes'] / 2 ** 20:.0f} MB")
    speeds.legend(fontsize=8, loc="upper center",
                  bbox_to_anchor=(0.5, -0.18))
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
