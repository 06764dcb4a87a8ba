"""The same scripts on a three-node Galera cluster, losing no row.

A cluster of three MariaDB nodes with Galera (``scripts/cluster.py``)
runs on loopback for this module. MYSQL_HOST names the three nodes.
Rows loaded through one node are read through another; a stream whose
node is killed (SIGKILL) or frozen (SIGSTOP, found by the read time-out)
while its query waits at a gated row goes on from the next node after
the last user it yielded, and gives exactly the table's rows, in order;
two nodes of three down is a clear error; a killed node rejoins by IST
and serves again. A resumed stream waits on its new node for what the
first node had committed when the stream began, and passes over a node
that cannot catch up in time.
"""
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import mysql.connector
import pytest

from testlab import (DEADLINE, PYTHON, ROOT, Gate, Member, db, gated_table,
                     localdb, make_csv, seed, wait_for)

import cluster

stream_users = __import__("0-stream_users").stream_users
batching = __import__("1-batch_processing")
ages = __import__("4-stream_ages")

NODES = 3
ROWS, GATE_AT = 20_000, 5_000
# The read time-out while a node dies under a stream: it finds a frozen
# node, and is far longer than any read takes on a busy machine.
FAILOVER_READ_TIMEOUT = 20
LOADED, GATED = "ALX_prodev_cluster", "ALX_prodev_cluster_gated"
LATE_EMAIL = "late@example.com"  # the row add_late_row writes
LAGGING, LATE = "ALX_prodev_cluster_lagging", 300  # late rows, after ROWS
# The read time-outs of a stream whose new node lags: one that outlasts
# the test's lock, one that the lock outlasts (a wait of 4 s).
PATIENT, IMPATIENT = 60, 5


def free_block(size):
    """Return a port the kernel picks, with ``size`` ports from it free."""
    for _ in range(100):
        base = localdb.free_port(None)
        if base + size < 65536 and not any(
                map(localdb.listening, range(base - 5, base + size))):
            return base
    raise RuntimeError(f"no {size} free ports in a row")


@pytest.fixture(scope="module")
def beside_taken_ports():
    """Start the module's cluster beside ports taken before its bind.

    Node 1's SQL port and node 2's gmcast port look free when the
    cluster chooses them (``SQL_FROM`` and ``GALERA_FROM`` point there),
    and another program holds them (bound, not listening): no server may
    bind them. Both nodes must move past them. The ports are high ones
    the kernel picks, away from the project-local servers' (from 3307):
    a learner's ``make run`` does not take a node's port while it is
    down. Yield the two ports; they are held until the cluster runs.
    """
    held = [socket.socket(), socket.socket()]
    sql, galera = free_block(8), free_block(20) + 3
    saved = cluster.SQL_FROM, cluster.GALERA_FROM
    try:
        held[0].bind(("127.0.0.1", sql))
        held[1].bind(("127.0.0.1", galera))
        cluster.SQL_FROM, cluster.GALERA_FROM = sql, galera - 3
        yield sql, galera
    finally:
        cluster.SQL_FROM, cluster.GALERA_FROM = saved
        for each in held:
            each.close()


@pytest.fixture(scope="module")
def nodes(server, beside_taken_ports):
    """Three nodes in a cluster of their own, with the project's user.

    The folder must be readable by ``mysql``, which runs the nodes when
    the tests run as root. Stopped and removed at the end. MYSQL_HOST
    is left out of the settings: ``hosts`` names the nodes' ports now.
    """
    folder = tempfile.mkdtemp(prefix="alx-cluster-")
    os.chmod(folder, 0o755)
    try:
        started = [Member(node) for node in cluster.start(folder, nodes=NODES)]
        password = secrets.token_urlsafe(12)
        localdb.add_user(started[0].node.folder, password)
        env = {"MYSQL_PORT": str(started[0].port), "MYSQL_USER": localdb.USER,
               "MYSQL_PASSWORD": password, "MYSQL_DATABASE": LOADED,
               "MYSQL_CONNECT_TIMEOUT": "3", "MYSQL_READ_TIMEOUT": "60"}
        yield started, env
    finally:
        cluster.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)


def hosts(started):
    """Return MYSQL_HOST naming the nodes ``started`` where they are now."""
    return ",".join(node.address for node in started)


@pytest.fixture
def on_cluster(nodes, configure):
    """Point the settings at the cluster; all three nodes Synced after."""
    started, env = nodes
    configure(**env, MYSQL_HOST=hosts(started))
    yield started
    for node in started:
        if node.node.paused:
            node.resume()
    for node in started:
        if node.node.pid is None:
            cluster.rejoin(node.node)
    cluster.wait_synced([node.node for node in started], size=3)


@pytest.fixture(scope="module")
def loaded(nodes, tmp_path_factory):
    """ROWS users loaded through node 1; the CSV's path."""
    started, env = nodes
    path = make_csv(tmp_path_factory.mktemp("cluster") / "users.csv", ROWS)
    done = subprocess.run(
        [PYTHON, os.path.join(ROOT, "seed.py"), path], cwd=ROOT,
        env=dict(os.environ, **dict(env, MYSQL_HOST=started[0].address)),
        capture_output=True, text=True, timeout=DEADLINE)
    assert done.returncode == 0, done.stderr
    assert f"{ROWS} loaded" in done.stderr
    return path


@pytest.fixture(scope="module")
def gated(nodes):
    """The gated table, made through node 1: row 5,000 waits at the gate."""
    gated_table(nodes[0][0], GATED, ROWS, GATE_AT)
    return GATED


def test_load_through_one_node_read_through_another(on_cluster, loaded,
                                                    configure):
    """Loaded through node 1, every row reads back through nodes 2 and 3.

    The stream through node 2 is the table as node 3 has it, in key
    order; the average through node 3 is SQL's through node 2.
    """
    first, second, third = on_cluster
    configure(MYSQL_HOST=third.address)
    connection = seed.connect()
    cursor = connection.cursor()
    cursor.execute("SELECT user_id, email FROM user_data ORDER BY user_id")
    expected = cursor.fetchall()
    cursor.close()
    connection.close()
    assert len(expected) == ROWS
    configure(MYSQL_HOST=second.address)
    users = list(stream_users())
    assert [(user["user_id"], user["email"]) for user in users] == expected
    average = second.admin(
        f"SELECT ROUND(AVG(age), 2) FROM `{LOADED}`.user_data").strip()
    configure(MYSQL_HOST=third.address)
    assert str(ages.average_age(ages.stream_user_ages())) == average


def read_users():
    """Stream every user; return them all."""
    return list(stream_users())


def read_batches():
    """Stream every user in batches of 700; return them all."""
    return [user for batch in batching.stream_users_in_batches(700)
            for user in batch]


def read_ages():
    """Return every streamed age, in key order, then their average."""
    streamed = list(ages.stream_user_ages())
    return streamed + [ages.average_age(streamed)]


@pytest.mark.parametrize("fault, read", [
    ("kill", read_users), ("kill", read_ages), ("freeze", read_batches),
], ids=["kill-stream_users", "kill-average_age", "freeze-batches"])
def test_stream_survives_its_node(on_cluster, gated, configure, fault,
                                  read):
    """The stream's node dies at a known row; the stream loses nothing.

    Node 1 serves the stream; its query waits at the gate (row 5,000)
    when node 1 is killed, or frozen (the read time-out then ends the
    wait). The test waits until nodes 2 and 3 have dropped node 1 (a
    cluster of two, Synced); the stream goes on from node 2, and gives
    what node 2 alone gives: every row once, in key order. The ages (see
    ``gated_table``: they name their rows) count and add up exactly as
    SQL's on the base table do, and so does their average.
    ``FAILOVER_READ_TIMEOUT`` outlasts the drop: no race of time-outs.
    """
    first, second, third = on_cluster
    configure(MYSQL_DATABASE=gated, MYSQL_HOST=second.address)
    expected = read()
    if read is read_ages:
        *streamed, average = expected
        count, total, mean = second.admin(
            "SELECT COUNT(*), SUM(age), ROUND(AVG(age), 2) "
            f"FROM `{gated}`.base").split()
        assert (len(streamed), sum(streamed), average) == (
            int(count), Decimal(total), Decimal(mean))
    else:
        assert len(expected) == ROWS
    configure(MYSQL_HOST=hosts(on_cluster),
              MYSQL_READ_TIMEOUT=str(FAILOVER_READ_TIMEOUT))
    gate = Gate(first)
    try:
        with ThreadPoolExecutor(1) as pool:
            reading = pool.submit(read)
            gate.waiting()
            if fault == "kill":
                first.kill()
            else:
                first.pause()
            wait_for(lambda: second.node.synced(2) and third.node.synced(2),
                     "nodes 2 and 3 to drop node 1")
            got = reading.result(timeout=DEADLINE)
    finally:
        if fault == "freeze":
            first.resume()
        gate.close()
    assert got == expected


def test_two_nodes_down_is_a_clear_error(on_cluster, gated, configure):
    """With two nodes of three down, the last one has no quorum: an error.

    It answers every query with error 1047; the others do not answer.
    The stream raises at once, naming each node; the script says so in
    one line. Then node 1 is made the cluster again and the others
    rejoin it.
    """
    first, second, third = on_cluster
    configure(MYSQL_DATABASE=gated)
    second.kill()
    third.kill()
    try:
        wait_for(lambda: first.node.wsrep().get("wsrep_cluster_status")
                 == "non-Primary", "node 1 to lose its quorum")
        stream = stream_users()
        with pytest.raises(mysql.connector.Error) as raised:
            next(stream)
        done = subprocess.run(
            [PYTHON, os.path.join(ROOT, "4-stream_ages.py")], cwd=ROOT,
            capture_output=True, text=True, timeout=DEADLINE)
    finally:
        first.admin("SET GLOBAL wsrep_provider_options = 'pc.bootstrap=YES'")
    message = str(raised.value)
    assert all(node.address + " (" in message for node in on_cluster)
    assert "WSREP has not yet prepared node" in message, message
    assert done.returncode == 1 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert all(node.address in done.stderr for node in on_cluster)


def add_late_row(node):
    """Write, through ``node``, a row that comes last in user_id order:
    one that a node down meanwhile has missed."""
    node.admin(f"INSERT INTO `{LOADED}`.user_data VALUES "
               "('ffffffff-0000-4000-8000-000000000000', 'Late Comer', "
               f"'{LATE_EMAIL}', 33)")


def serves_late_row(node, writer, configure):
    """Check that ``node`` streams every row, the late one last; then
    remove the late row through ``writer``, whatever the check found."""
    configure(MYSQL_HOST=node.address)
    try:
        users = list(stream_users())
        assert len(users) == ROWS + 1
        assert users[-1]["email"] == LATE_EMAIL
    finally:
        writer.admin(f"DELETE FROM `{LOADED}`.user_data WHERE email = "
                     f"'{LATE_EMAIL}'")


def test_killed_node_rejoins_by_ist_and_serves(on_cluster, loaded,
                                               configure):
    """A node killed, then written to elsewhere, rejoins by IST and serves.

    It recovers its position, receives only what it missed (IST, not a
    full copy), and then streams the table as the others have it.
    """
    first, second, third = on_cluster
    third.kill()
    add_late_row(second)
    seconds, how = cluster.rejoin(third.node)
    assert how == "IST", (seconds, how)
    serves_late_row(third, second, configure)


def test_cluster_starts_beside_ports_taken_before_the_bind(
        on_cluster, beside_taken_ports):
    """Node 1's SQL port and node 2's gmcast port, free when the cluster
    chose them and taken before the nodes bound them, are passed over.

    Node 1's log shows its SQL bind refused (errno 98), node 2's its
    group communication failed on the taken port (Galera says errno 98,
    or at times another error); no node has a taken port, no two share
    one; each node listens where ``cluster.json`` says, which the nodes'
    objects name.
    """
    sql, galera = beside_taken_ports
    first, second, third = on_cluster
    with open(first.node.log) as log:
        assert f"another server running on port: {sql} ?" in log.read()
    with open(second.node.log) as log:
        text = log.read()
    assert f"listening at tcp://127.0.0.1:{galera}" in text  # it tried
    assert "failed to open gcomm backend connection" in text  # and failed
    ports = [port for node in on_cluster for port in node.node.ports]
    assert len(set(ports)) == len(ports) == 4 * NODES
    assert sql not in ports and galera not in ports
    folder = os.path.dirname(first.node.folder)
    assert [node.ports for node in cluster.members(folder)] == [
        node.node.ports for node in on_cluster]
    for node in on_cluster:
        assert node.admin("SELECT @@port, @@wsrep_node_address").split() == [
            str(node.port), f"127.0.0.1:{node.node.gmcast}"]


def test_killed_node_whose_port_was_taken_rejoins_on_another(
        on_cluster, loaded, configure):
    """A node killed, whose SQL port another server takes while it is
    down, rejoins on other ports, which ``cluster.json`` names, and
    serves there what it missed too.
    """
    first, second, third = on_cluster
    before = third.node.ports
    third.kill()
    with socket.socket() as holder:  # as a server started meanwhile
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", before[0]))
        holder.listen()
        add_late_row(second)
        offset = localdb.log_size(third.node.log)
        cluster.rejoin(third.node)
        with open(third.node.log) as log:
            log.seek(offset)
            assert (f"another server running on port: {before[0]} ?"
                    in log.read())
    assert third.port != before[0]
    assert third.admin("SELECT @@port").strip() == str(third.port)
    folder = os.path.dirname(third.node.folder)
    assert cluster.members(folder)[2].ports == third.node.ports
    serves_late_row(third, second, configure)


@pytest.fixture(scope="module")
def locker(nodes):
    """Settings for a user who may lock a node (RELOAD) and see its
    threads (PROCESS); made through node 1, for every node."""
    started, env = nodes
    name, password = "alx_lock", secrets.token_urlsafe(16)
    started[0].admin(f"""
        CREATE OR REPLACE USER '{name}'@'127.0.0.1' IDENTIFIED BY
            '{password}';
        GRANT RELOAD, PROCESS, SELECT ON *.* TO '{name}'@'127.0.0.1';
    """)
    return db.Settings.from_env(dict(env, MYSQL_USER=name,
                                     MYSQL_PASSWORD=password))


class Lag:
    """A node that applies nothing the cluster commits until released.

    ``FLUSH TABLES WITH READ LOCK`` on a Galera node desyncs it and
    pauses its applier: it goes on receiving the cluster's writesets,
    in order, and applies none while the test holds the lock, on a
    connection of its own. Reads still run, without ``wsrep_sync_wait``
    (a causal read would wait for the node too), which this connection
    turns off first.
    """

    WAIT = "SELECT WSREP_SYNC_WAIT_UPTO_GTID(%"

    def __init__(self, member, conf):
        """Lock ``member``'s applier, as the user of settings ``conf``."""
        self.connection = db.connect(conf, database=False,
                                     servers=[("127.0.0.1", member.port)])
        self._rows("SET SESSION wsrep_sync_wait = 0")
        self._rows("FLUSH TABLES WITH READ LOCK")

    def count(self, database):
        """Return the rows of ``database``'s base table, as the node has
        them now."""
        (count,), = self._rows(f"SELECT COUNT(*) FROM `{database}`.base")
        return count

    def waits(self):
        """Return the statements of the node's connections that wait for
        a position (WSREP_SYNC_WAIT_UPTO_GTID)."""
        return [info for info, in self._rows(
            "SELECT INFO FROM information_schema.PROCESSLIST WHERE "
            "ID <> CONNECTION_ID() AND INFO LIKE %s", (self.WAIT,))]

    def release(self):
        """Let the node apply what it has received (closes the lock's
        connection)."""
        db.close_quietly(self.connection)

    def _rows(self, sql, args=()):
        """Run ``sql``; return its rows, if any."""
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, args)
            return [tuple(row) for row in cursor.fetchall()] \
                if cursor.with_rows else []
        finally:
            cursor.close()


def lag_behind(on_cluster, locker, configure):
    """Make node 2 lag: it lacks the LATE rows node 1 then commits.

    A gated table of ROWS rows, made through node 1; node 2 locked
    (``Lag``); LATE rows more through node 1, after the others in key
    order. Return the lock, every user as node 3 reads them (all of
    them: node 3 applies as it should), and node 1's position then, as
    the stream will record it.
    """
    first, second, third = on_cluster
    gated_table(first, LAGGING, ROWS, GATE_AT)
    lag = Lag(second, locker)
    try:
        first.admin(f"""
            USE `{LAGGING}`;
            INSERT INTO base SELECT
                CONCAT(LPAD(seq, 8, '0'), '-0000-4000-8000-000000000000'),
                CONCAT('User ', seq), CONCAT('user', seq, '@example.com'),
                seq % 100000 / 100, seq FROM seq_{ROWS + 1:d}_to_{
                ROWS + LATE:d}""")
        assert lag.count(LAGGING) == ROWS
        configure(MYSQL_DATABASE=LAGGING, MYSQL_HOST=third.address)
        expected = read_users()
        position = first.admin("SELECT WSREP_LAST_SEEN_GTID()").strip()
    except BaseException:
        lag.release()
        raise
    assert len(expected) == ROWS + LATE
    return lag, expected, position


def read_through_lag(on_cluster, configure, lag, position, read_timeout,
                     let_go):
    """Read the lagging table from node 1, kill node 1 at the gate; return
    the rows the stream gives.

    The stream, with ``read_timeout``, goes on from node 2, and the test
    sees it wait there for node 1's ``position`` (node 2's process list),
    a second less than the time-out. If ``let_go``, node 2 is let go then.
    """
    first = on_cluster[0]
    configure(MYSQL_HOST=hosts(on_cluster),
              MYSQL_READ_TIMEOUT=str(read_timeout))
    gate = Gate(first)
    try:
        with ThreadPoolExecutor(1) as pool:
            reading = pool.submit(read_users)
            gate.waiting()
            first.kill()
            waits = wait_for(lambda: lag.waits() or reading.done(),
                             "the resumed stream to wait on node 2")
            assert not reading.done(), reading.result()
            assert waits == [f"SELECT WSREP_SYNC_WAIT_UPTO_GTID("
                             f"'{position}', {read_timeout - 1})"]
            if let_go:
                lag.release()
            return reading.result(timeout=DEADLINE)
    finally:
        gate.close()


def test_resumed_stream_waits_for_its_position(on_cluster, locker,
                                               configure):
    """A resumed stream waits on its new node for what the first node
    had when the stream began, then gives every row once, in order.

    Node 2 lags behind the LATE rows node 1 committed before the stream
    began (``lag_behind``). The stream's node 1 is killed while its
    query waits at the gate; the stream goes on from node 2, and waits
    there for node 1's position, found in node 2's process list. Once
    node 2 is let go, the stream gives all ROWS + LATE rows, as node 3
    has them. Without the wait, node 2 would answer at once, without
    the LATE rows.
    """
    lag, expected, position = lag_behind(on_cluster, locker, configure)
    try:
        got = read_through_lag(on_cluster, configure, lag, position,
                               PATIENT, let_go=True)
    finally:
        lag.release()
    assert got == expected


def test_node_that_cannot_catch_up_is_passed_over(on_cluster, locker,
                                                  configure):
    """A new node that does not catch up within the read time-out is
    passed over like a lost one: the stream goes on from the next.

    As above, but with a read time-out of IMPATIENT seconds, and node 2
    held behind until the stream ends. The stream waits on node 2 (its
    process list shows it), gives up on it after the time-out less a
    second, and goes on from node 3: every row once, in order, with the
    LATE rows that node 2 still lacks at the end.
    """
    lag, expected, position = lag_behind(on_cluster, locker, configure)
    try:
        got = read_through_lag(on_cluster, configure, lag, position,
                               IMPATIENT, let_go=False)
        assert lag.count(LAGGING) == ROWS
    finally:
        lag.release()
    assert got == expected
