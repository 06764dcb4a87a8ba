"""The cluster part of the benchmark: three Galera nodes beside one server.

``running()`` starts a three-node MariaDB Galera cluster through
scripts/cluster.py's API, in a temporary folder of its own, creates the
project's user there (the project-local server's, with its password),
and removes it all at the end, also on failure or SIGTERM.
``bench_cluster`` then measures, in cases run as everywhere else (a
subprocess each, see cases.py):

- a load: ``seed.insert_data`` of the 1M-row CSV through node 1, as one
  transaction; how many writesets and bytes node 1 replicated; the rows
  each node counts as soon as it returned;
- reads: ``stream_users()`` and the C client (``--quick``) over those
  1M rows through node 2, each next to the same over the same rows on
  the project-local server, in the same repetition;
- failover: a stream over a gated table (scripts/testlab.py's
  ``gated_table``: its row ``GATE_AT`` waits on a lock) from node 1,
  ``MYSQL_HOST`` naming the three nodes; node 1 is killed (SIGKILL), or
  frozen (SIGSTOP, with short time-outs), while the stream waits there.
  A killed node rejoins (``cluster.rejoin``: IST) and a frozen one is
  let go (SIGCONT) and waited for, between repetitions.

What a failover waits for: the stream finds the loss (at once when the
node's socket closes; after ``MYSQL_READ_TIMEOUT`` when it is silent),
connects to the next node and, before its query, waits there until that
node has committed what node 1 had when the stream began
(``WSREP_SYNC_WAIT_UPTO_GTID`` with the position the stream recorded:
see db.py and docs/failover.md). The wait is the node's own, with no
round trip to the cluster: it does not wait for Galera to drop the lost
node (``evs.suspect_timeout``, 5 s), as ``wsrep_sync_wait`` did. A node
still behind after the read time-out less a second is passed over.
"""
import contextlib
import signal
import subprocess
import tempfile
import time

import launch
import server
import tables
from server import cluster, testlab
from sizes import BIG, CSVS

STREAM_DB = "ALX_prodev_bench_cluster"  # 1M rows, loaded through node 1
GATED_DB = "ALX_prodev_bench_gated"
GATED_ROWS, GATE_AT = 100_000, 50_001
# The nodes' InnoDB buffer pool: the project-local server's, not
# cluster.py's 128 MB, so that the 1M-row table (about 180 MB) is in
# memory on both sides, and a read compares Galera, not the cache.
OPTIONS = [option for option in server.localdb.OPTIONS
           if option.startswith("--innodb-buffer-pool-size=")]
FREEZE = {"read_timeout": 2, "connect_timeout": 2}  # seconds, when frozen
STARTS = 3  # tries at starting: another cluster may take a port meanwhile


class Lab:
    """The benchmark's running cluster: its folder, its nodes, its log."""

    def __init__(self, folder, nodes, said):
        """Keep the folder, the nodes, and what their starts said."""
        self.folder, self.nodes, self.said = folder, nodes, said

    def host(self, *which):
        """Return the MYSQL_HOST naming nodes ``which`` (numbers from 1)."""
        return server.hosts([self.nodes[number - 1] for number in which])


class Terminated(SystemExit):
    """SIGTERM, as an exception: the cluster is stopped on the way out."""


def terminated(signum, frame):
    """Raise ``Terminated`` on SIGTERM."""
    raise Terminated(f"error: stopped by signal {signum}")


@contextlib.contextmanager
def running():
    """Start a three-node cluster in a temporary folder; yield its ``Lab``.

    The cluster is stopped and its folder removed at the end, whatever
    happens. A start that fails (another cluster on this machine may take
    a port between the choice and the bind) is tried again afresh.
    """
    folder = tempfile.mkdtemp(prefix="alx-bench-cluster-")
    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        for attempt in range(1, STARTS + 1):
            said = []
            try:
                with launch.step("cluster: starting three Galera nodes"):
                    nodes = cluster.start(folder, options=OPTIONS,
                                          say=said.append)
                break
            except (RuntimeError, subprocess.CalledProcessError):
                cluster.clean(folder)
                if attempt == STARTS:
                    raise
        server.localdb.add_user(nodes[0].folder,
                                server.settings(None).password)
        for line in said:
            launch.note("cluster: " + line)
        yield Lab(folder, nodes, said)
    finally:
        with launch.step("cluster: stopping it"):
            cluster.clean(folder)
        signal.signal(signal.SIGTERM, previous)


def bench_cluster(lab, path, local, reps, failover_reps):
    """Run every cluster measurement; return the results as a dict.

    ``path`` is the 1M-row CSV, ``local`` the project-local server's
    database that holds the same rows.
    """
    began = time.monotonic()
    results = {"nodes": [(node.name, node.port) for node in lab.nodes],
               "start": lab.said, "rss_mb": [rss(node) for node in lab.nodes],
               "options": OPTIONS}
    results["load"] = load(lab, path)
    results["streams"] = streams(lab, local, reps)
    with launch.step(f"cluster: {GATED_DB}, row {GATE_AT:,} gated"):
        testlab.gated_table(lab.nodes[0], GATED_DB, GATED_ROWS, GATE_AT)
    results["kill"], results["rejoin"] = kills(lab, failover_reps)
    results["freeze"], results["resync"] = freezes(lab, failover_reps)
    results["freeze_timeouts"] = FREEZE
    results["gated"] = {"rows": GATED_ROWS, "at": GATE_AT}
    results["minutes"] = (time.monotonic() - began) / 60
    return results


def rss(node):
    """Return the resident memory of ``node``'s server, in MB."""
    with open(f"/proc/{node.pid}/status") as status:
        return next(int(line.split()[1]) for line in status
                    if line.startswith("VmRSS:")) / 1024


def load(lab, path):
    """Load the 1M-row CSV through node 1 with insert_data; return how.

    The result: the case's (seconds, its Counts), the writesets and
    bytes node 1 replicated meanwhile, and each node's row count read
    at once after the load returned.
    """
    first = lab.nodes[0]
    tables.fresh_table(STREAM_DB, lab.host(1))
    before = first.wsrep()
    result = launch.run_case(
        f"cluster: loading {CSVS[BIG]:,} rows through node1",
        "insert_data", STREAM_DB, {"path": path},
        env=server.environment(STREAM_DB, lab.host(1)))
    after = first.wsrep()
    result["counts"] = {node.name: tables.row_count(STREAM_DB,
                                                    lab.host(node.index))
                        for node in lab.nodes}
    result["rows"] = CSVS[BIG]
    for name in ("wsrep_replicated", "wsrep_replicated_bytes"):
        result[name] = int(after[name]) - int(before[name])
    return result


def streams(lab, local, reps):
    """Read the 1M rows through node 2 and on the single server, in turn.

    Return ``{(case, "cluster" or "single"): [result, ...]}`` for the
    ``stream`` and ``client_full`` cases; in each repetition a case runs
    on both, one right after the other (in turn first).
    """
    where = {"cluster": (STREAM_DB, server.environment(
        STREAM_DB, lab.host(2))), "single": (local, None)}
    for side, (database, env) in where.items():
        launch.run_case(f"cluster: warming {database} ({side})",
                        "client_full", database, {}, env)
    runs = {}
    for rep in range(reps):
        for case in launch.rotated(("stream", "client_full"), rep):
            for side in launch.rotated(tuple(where), rep):
                database, env = where[side]
                runs.setdefault((case, side), []).append(launch.run_case(
                    f"cluster: {case}, {'node2' if env else 'single server'}"
                    f", repetition {rep + 1} of {reps}", case, database, {},
                    env))
    return runs


def failover_arg(lab):
    """Return what a failover case needs: the cluster and the gated row."""
    return {"folder": lab.folder, "at": GATE_AT}


def kills(lab, reps):
    """Kill node 1 under a stream ``reps`` times; it rejoins after each.

    Return the cases' results, and each rejoin's seconds and transfer.
    """
    first, results, rejoins = lab.nodes[0], [], []
    for rep in range(reps):
        # each time: a rejoin may have moved node 1 to other ports
        env = server.environment(GATED_DB, lab.host(1, 2, 3))
        results.append(launch.run_case(
            f"cluster: node1 killed under a stream, repetition {rep + 1} "
            f"of {reps}", "failover_kill", GATED_DB, failover_arg(lab), env))
        with launch.step("cluster: node1 rejoining"):
            seconds, how = cluster.rejoin(first)
            cluster.wait_synced(lab.nodes)
        rejoins.append({"seconds": seconds, "how": how})
    return results, rejoins


def freezes(lab, reps):
    """Freeze node 1 under a stream ``reps`` times, with short time-outs.

    Return the cases' results, and the seconds each time until the
    cluster was whole again after the node was let go (SIGCONT).
    """
    first, results, resyncs = lab.nodes[0], [], []
    env = server.environment(GATED_DB, lab.host(1, 2, 3), **FREEZE)
    for rep in range(reps):
        try:
            results.append(launch.run_case(
                f"cluster: node1 frozen under a stream, repetition "
                f"{rep + 1} of {reps}", "failover_freeze", GATED_DB,
                failover_arg(lab), env))
        finally:
            if first.pid:
                testlab.Member(first).resume()  # the case did; to be sure
        with launch.step("cluster: node1 back in sync"):
            began = time.monotonic()
            cluster.wait_synced(lab.nodes)
        resyncs.append(time.monotonic() - began)
    return results, resyncs
