"""The benchmark's report: medians, ratios, targets, Markdown and chart.

Everything here works on the results that bench/run.py collected; none
of it touches the server. ``GOALS`` holds the targets on ratios to an
anchor, which both the PASS/FAIL lines and the chart's dotted lines use.
"""
import os
import platform
import statistics
from operator import itemgetter

from cases import (AGES, CASES, PAGE, PAGE_TRIES, SELECT, grouped,
                   seeding_plan)
from tables import BIG, CSVS, SIZES

# The least ratio of rows/s to the anchor's that each case must reach.
GOALS = {"stream": 0.5, "batches": 0.5, "ages": 0.3, "insert_data": 0.5,
         "insert_fallback": 0.4}
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


def human(rows):
    """Format a number of rows: 10k, 100k, 1M."""
    return f"{rows // 1000}k" if rows < 10 ** 6 else f"{rows // 10 ** 6}M"


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
    lines.append((f"insert_data: {versus:.1f}x the row-by-row baseline's "
                  f"rows/s (target >= {OVER_ROW_BY_ROW}x)",
                  versus >= OVER_ROW_BY_ROW))
    fallback, goal = table[BIG, "insert_fallback"], GOALS["insert_fallback"]
    lines.append((f"insert_data on a server refusing LOCAL INFILE, by "
                  f"{seeding[BIG, 'insert_fallback'][0]['value']['method']}: "
                  f"{fallback['ratio']:.2f}x LOAD DATA LOCAL's rows/s "
                  f"(target >= {goal}x)", fallback["ratio"] >= goal))
    return lines


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


def markdown(info, reps, seed_reps, stream_table, pages_table, seeding,
             checks, minutes):
    """Return results.md: the machine, the three tables, the targets."""
    out = ["# Benchmark results", "",
           f"Made by `make bench` (bench/run.py) in {minutes:.1f} minutes.",
           ""]
    out += [f"- **{name}**: {value}" for name, value in info]
    out += ["", "Each case runs in a subprocess of its own (peak RSS is "
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
            f"`{SELECT}`; the average reads `{AGES}`.", "",
            "| rows | case | rows/s | anchor | anchor rows/s | ratio to "
            "anchor | peak RSS | anchor peak RSS |",
            "|---:|---|---:|---|---:|---:|---:|---:|"]
    for row in stream_table:
        out.append(f"| {human(row['rows'])} | {row['name']} | "
                   f"{row['speed']:,.0f} | {CASES[row['anchor']].title} | "
                   f"{row['anchor_speed']:,.0f} | "
                   f"{row['ratio']:.2f}x | {row['rss']:.1f} MB | "
                   f"{row['anchor_rss']:.1f} MB |")
    ours = seeding[BIG, "insert_data"][0]["value"]
    sizes = " and ".join(f"{human(CSVS[csv])}" for csv, _ in seeding_plan())
    out += ["", "## Seeding", "",
            "Each into an empty `user_data`, from course-shaped CSVs of "
            f"{sizes} rows (`name`, `email`, `age`, no `user_id`); each ratio "
            "is to `LOAD DATA LOCAL INFILE` of the same CSV in the same "
            f"repetition. Load path taken by insert_data: {ours['method']} "
            f"(from the Counts that `loader.load` returns: {ours}); with the "
            "server's `local_infile` off, as MySQL 8 ships: "
            f"{seeding[BIG, 'insert_fallback'][0]['value']['method']}.", "",
            "| method | CSV | rows | rows/s | ratio to LOAD DATA LOCAL | "
            "peak RSS |", "|---|---:|---:|---:|---:|---:|"]
    for row in seeding_table(seeding):
        out.append(f"| {row['name']} | {human(row['csv_rows'])} | "
                   f"{row['rows']:,} | {row['speed']:,.0f} | "
                   f"{row['ratio']:.2f}x | {row['rss']:.1f} MB |")
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
    out += ["", "## Targets", ""]
    out += [f"- {verdict(passed)} {line}" for line, passed in checks]
    out += ["", "![chart](chart.png)", ""]
    return "\n".join(out)


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


def write(folder, text, stream_table, pages_table, seeding):
    """Write results.md and chart.png into ``folder``."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "results.md"), "w") as out:
        out.write(text)
    chart(os.path.join(folder, "chart.png"), stream_table, pages_table,
          seeding)
