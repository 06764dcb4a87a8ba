#!/usr/bin/env python3
"""Run a project-local three-node MariaDB Galera cluster on loopback.

    scripts/cluster.py start    # init, bootstrap, join, write .env
    scripts/cluster.py stop     # stop; remove its .env, keep its data
    scripts/cluster.py status
    scripts/cluster.py clean    # stop; remove .cluster/ and its .env

The cluster is the project-local server of ``scripts/localdb.py`` made
three: each node keeps its data in its own folder under ``.cluster/``
(ignored by git), listens on 127.0.0.1 only, and has ports of its own for
SQL, for Galera's group communication (gmcast), for incremental state
transfer (IST) and for full state transfer (SST): Galera's defaults
(4567, 4568, 4444) would collide on one host. The project's user ``alx``
is localdb's: a generated password, rights on ``ALX_prodev`` and
``ALX_prodev_*`` alone. ``start`` writes ``.env`` naming the three nodes,
``MYSQL_HOST=127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3``, marked with its own
line, ``MARKER``: never over a ``.env`` of the user's own, and
``localdb.py start`` (``make db-start``) starts the cluster it names.
``stop`` removes that ``.env`` (the data stays, and so do its settings
in ``.cluster/env``): ``make run`` then uses the project-local server
again, and ``start`` brings the cluster back with its data. Starting a
running cluster does nothing. As root, when mysql may not enter a folder
above the project, ``.cluster`` links to a folder of mysql's, as
``.localdb`` does (``localdb.place_data``).

How it starts: the first node bootstraps a new cluster (``--wsrep-new-
cluster``); each other node then joins it, receiving the data by rsync
(SST) the first time, and only the transactions it missed (IST) when it
comes back. A node ended by SIGKILL first finds its last position with
``--wsrep-recover`` (without it, Galera forgets the position and sends
everything again). As root the servers run as ``mysql``, owner of their
folders: an rsync SST run by root writes as ``nobody`` and fails.
Ports are chosen free, and bound seconds later: a node whose port
another program took meanwhile ends, and starts again on the next free
ones (``move``), which ``cluster.json`` and ``.env`` then name.

The tests and the benchmark import it: ``start(folder, nodes=3,
options=())`` returns the ``Node`` list; ``rejoin`` starts one node
again; ``wait_synced`` waits for the cluster; ``stop(folder)`` stops it.
(A node is killed, paused and resumed as any server: see
scripts/testlab.py.)
"""
import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import localdb  # noqa: E402  (found beside this file, whoever imports us)

del sys.path[0]  # importing us leaves sys.path as it was

DATA = os.path.join(localdb.ROOT, ".cluster")
ENV = localdb.ENV
MARKER = localdb.CLUSTER_MARKER
WAIT = localdb.WAIT  # seconds any one wait may take on a busy machine
NODES = 3
SQL_FROM = 3307      # SQL ports: the first free ones from here, as localdb
GALERA_FROM = 4567   # gmcast, IST and SST: three in a row a node, from here
RECOVERED = re.compile(r"WSREP: Recovered position:\s*(\S+:-?[0-9]+)")


class Node:
    """One node of a cluster: its folder, its ports, the server in it.

    ``folder`` is what localdb's functions take (it holds ``files/``, the
    server's data directory, and ``my.cnf``, ``socket``, ``pid``,
    ``server.log``); ``datadir`` is that ``files/``. ``port`` is for SQL,
    ``gmcast``, ``ist`` and ``sst`` for Galera. ``options`` are extra
    server options (for tests), used at every start of this node.
    """

    def __init__(self, folder, index, ports, options=()):
        """Describe node number ``index`` (from 1) in ``folder``."""
        self.folder = folder
        self.index = index
        self.name = "node%d" % index
        self.datadir = os.path.join(folder, "files")
        self.port, self.gmcast, self.ist, self.sst = ports
        self.options = list(options)

    def __repr__(self):
        """Show the node's name, SQL port and folder."""
        return f"<Node {self.name} 127.0.0.1:{self.port} {self.folder}>"

    @property
    def ports(self):
        """Return the node's four ports: SQL, gmcast, IST and SST."""
        return [self.port, self.gmcast, self.ist, self.sst]

    @property
    def pid(self):
        """Return the pid of the node's server, or None if none runs."""
        return localdb.server_pid(self.folder)

    @property
    def config(self):
        """Return the path of the node's option file."""
        return os.path.join(self.folder, "my.cnf")

    @property
    def log(self):
        """Return the path of the node's error log."""
        return os.path.join(self.folder, "server.log")

    def admin(self, sql):
        """Run ``sql`` as the node's admin over its socket; return the text."""
        return localdb.admin(self.folder, sql)

    @property
    def paused(self):
        """Return True while the node's server is stopped by SIGSTOP."""
        try:
            with open(f"/proc/{self.pid}/stat") as proc:
                return proc.read().rsplit(")", 1)[1].split()[0] in "tT"
        except (OSError, IndexError):
            return False

    def wsrep(self):
        """Return the node's ``wsrep_%`` status as a dict; {} if it is down.

        A paused node counts as down: asking it would wait for ever.
        """
        if self.paused:
            return {}
        try:
            text = self.admin("SET SESSION wsrep_sync_wait = 0; "  # no wait
                              "SHOW GLOBAL STATUS LIKE 'wsrep%'")
        except (OSError, RuntimeError):
            return {}
        return dict(line.split("\t", 1) for line in text.splitlines()
                    if "\t" in line)

    def synced(self, size=None):
        """Return True when the node is Synced in a primary component.

        With ``size``, the component must also have ``size`` members.
        """
        state = self.wsrep()
        return (state.get("wsrep_local_state_comment") == "Synced"
                and state.get("wsrep_ready") == "ON"
                and state.get("wsrep_cluster_status") == "Primary"
                and (size is None
                     or state.get("wsrep_cluster_size") == str(size)))


def galera_free(base, taken=()):
    """Return True when a node may take ``base`` .. ``base + 2``.

    A node's Galera ports are three in a row: gmcast on ``base``, IST on
    ``base + 1``, SST on ``base + 2``. Only gmcast listens all the time;
    the others only during a transfer, so a free-looking port may be
    another node's. Hence no listener may be within two ports of
    ``base`` (another node's gmcast there would own the rest), nor a
    block already ``taken`` (their bases) by this cluster.
    """
    return (all(abs(base - other) > 2 for other in taken)
            and not any(map(localdb.listening, range(base - 2, base + 3))))


def first(ports, fits, what):
    """Return the first of ``ports`` that ``fits``; raise if none does."""
    for port in ports:
        if fits(port):
            return port
    raise RuntimeError(f"no free {what} port found")


def choose_ports(count, saved=()):
    """Return ``count`` lists of four ports: SQL, gmcast, IST and SST.

    SQL ports are the first free ones from ``SQL_FROM``; Galera's, the
    first free blocks of three from ``GALERA_FROM``. A node keeps its
    ``saved`` ports from the last run while they are still free, so that
    a restart leaves the cluster where clients look for it.
    """
    sql, bases = [], []  # the ports chosen so far: SQL, Galera's bases

    def sql_free(port):
        """Return True when the next node may take SQL ``port``."""
        return port not in sql and not localdb.listening(port)

    def base_free(base):
        """Return True when the next node may take the block at ``base``."""
        return galera_free(base, bases)
    for index in range(count):
        old = saved[index] if index < len(saved) else [None, None]
        sql.append(old[0] if old[0] and sql_free(old[0]) else first(
            range(SQL_FROM, 65536), sql_free, "SQL"))
        bases.append(old[1] if old[1] and base_free(old[1]) else first(
            range(GALERA_FROM, 65534), base_free, "Galera"))
    return [[port, base, base + 1, base + 2]
            for port, base in zip(sql, bases)]


def members(folder, options=()):
    """Return the nodes of the cluster in ``folder``; [] if it has none."""
    try:
        with open(os.path.join(folder, "cluster.json")) as saved:
            ports = json.load(saved)["ports"]
    except FileNotFoundError:
        return []
    return [Node(os.path.join(folder, "node%d" % (i + 1)), i + 1, each,
                 options) for i, each in enumerate(ports)]


def write_config(node, nodes):
    """Write ``node``'s my.cnf: every setting, and why.

    The servers read it with ``--defaults-file``, and so do the SST
    scripts they run (``wsrep_sst_rsync`` reads the node's settings with
    ``my_print_defaults``): without it they would read /etc/mysql.
    """
    peers = ",".join("127.0.0.1:%d" % each.gmcast for each in nodes)
    provider_options = "; ".join([
        f"gmcast.listen_addr=tcp://127.0.0.1:{node.gmcast}",  # peers' port
        f"ist.recv_addr=127.0.0.1:{node.ist}",  # receives missed writesets
        "base_host=127.0.0.1",                  # the address it gives peers
        f"base_port={node.gmcast}",             # its port, with base_host
    ])
    settings = [
        ("datadir", node.datadir, "the node's data, in its own folder"),
        ("port", node.port, "its SQL port"),
        ("socket", socket_of(node), "the admin's way in (socket auth)"),
        ("pid-file", os.path.join(node.folder, "pid"), "how stop finds it"),
        ("log-error", node.log, "its log: the start, SST or IST, errors"),
        ("bind-address", "127.0.0.1", "loopback only: nothing else sees it"),
        ("skip-name-resolve", None, "no DNS look-ups on connect"),
        ("character-set-server", "utf8mb4",
         "a server without config says latin1"),
        ("collation-server", "utf8mb4_unicode_ci", "utf8mb4's, as localdb"),
        ("innodb-buffer-pool-size", "128M",
         "about 130 MB a node when idle: three fit anywhere"),
        ("max-allowed-packet", "64M", "large multi-row INSERT batches"),
        ("local-infile", 1, "LOAD DATA LOCAL, for insert_data"),
        ("default-storage-engine", "InnoDB",
         "Galera replicates InnoDB tables only"),
        ("binlog-format", "ROW", "Galera replicates rows, not statements"),
        ("innodb-autoinc-lock-mode", 2,
         "interleaved: no table lock for AUTO_INCREMENT, as Galera needs"),
        ("wsrep-on", "ON", "this server is a Galera node"),
        ("wsrep-provider", localdb.galera_library(), "the Galera library"),
        ("wsrep-cluster-name", "alx_prodev_" + hashlib.sha1(
            os.path.dirname(node.folder).encode()).hexdigest()[:8],
         "nodes join only a cluster of the same name: one a folder, so "
         "that two clusters on one machine never merge"),
        ("wsrep-cluster-address", "gcomm://" + peers,
         "the peers' gmcast ports: a joiner asks them to let it in"),
        ("wsrep-node-name", node.name, "names the node in logs and status"),
        ("wsrep-node-address", "127.0.0.1:%d" % node.gmcast,
         "where peers reach this node"),
        ("wsrep-node-incoming-address", "127.0.0.1:%d" % node.port,
         "its SQL address, in wsrep_incoming_addresses"),
        ("wsrep-provider-options", '"%s"' % provider_options,
         "Galera's own ports, off their defaults (one host, three nodes)"),
        ("wsrep-sync-wait", 1, "reads wait for writes committed on any "
         "node before them: each node answers as one server would"),
        ("wsrep-sst-method", "rsync",
         "full state transfer: rsync of the data folder"),
        ("wsrep-sst-receive-address", "127.0.0.1:%d" % node.sst,
         "where this node's rsync daemon takes an SST"),
    ]
    lines = [f"# {node.name} of the project-local cluster: written by "
             "scripts/cluster.py at each start", "[mysqld]"]
    for name, value, why in settings:
        setting = name if value is None else f"{name} = {value}"
        lines += ["# " + why, setting]
    with open(node.config, "w") as config:
        config.write("\n".join(lines) + "\n")
    localdb.give(node.config)


def socket_of(node):
    """Return the node's socket path: the one saved, else a new one."""
    link = os.path.join(node.folder, "socket")
    if os.path.exists(link):
        with open(link) as saved:
            return saved.read().strip()
    path = localdb.socket_path(node.folder)
    with open(link, "w") as saved:  # where localdb.admin looks for it
        saved.write(path)
    return path


def grastate(node):
    """Return the node's grastate.dat as a dict; {} if it has none.

    Galera writes it: the cluster's ``uuid``, the last ``seqno`` (-1
    while the node runs, or after a crash), and ``safe_to_bootstrap``
    (1 on the node that stopped last, cleanly).
    """
    try:
        with open(os.path.join(node.datadir, "grastate.dat")) as state:
            return dict(re.findall(r"^(\w+):\s*(\S+)", state.read(), re.M))
    except FileNotFoundError:
        return {}


def recover(node):
    """Return the node's last committed position, ``uuid:seqno``.

    After a crash grastate.dat says seqno -1: ``--wsrep-recover`` runs
    InnoDB's recovery, logs the position it finds, and exits.
    """
    log = os.path.join(node.folder, "recover.log")
    if os.path.exists(log):
        os.remove(log)
    subprocess.run([localdb.ensure_installed(galera=True),
                    "--defaults-file=" + node.config,
                    "--datadir=" + node.datadir, "--wsrep-recover",
                    "--skip-networking",  # no port: another may hold it
                    "--log-error=" + log] + localdb.runas(),
                   stdin=subprocess.DEVNULL, capture_output=True,
                   timeout=WAIT)
    text = ""
    if os.path.exists(log):
        with open(log) as lines:
            text = lines.read()
    found = RECOVERED.findall(text)
    if not found:
        raise RuntimeError(f"{node.name}: --wsrep-recover found no "
                           f"position; its log ({log}) ends:\n"
                           + "".join(text.splitlines(True)[-15:]))
    return found[-1]


def tail(node, lines=15):
    """Return the last ``lines`` lines of the node's log."""
    if not os.path.exists(node.log):
        return ""
    with open(node.log, errors="replace") as log:
        return "".join(log.readlines()[-lines:])


def launch(node, bootstrap=False, position=None):
    """Start the node's server in the background; return its process.

    ``bootstrap`` starts a new cluster with it (the first node);
    ``position`` (``uuid:seqno``, from ``recover``) tells it where it
    stopped, so that it asks for IST instead of a full SST.
    """
    argv = [localdb.ensure_installed(galera=True),
            "--defaults-file=" + node.config,
            "--datadir=" + node.datadir,  # also there for server_pid
            *localdb.runas()]
    argv += ["--wsrep-new-cluster"] * bootstrap
    if position is not None:
        argv.append("--wsrep-start-position=" + position)
    return subprocess.Popen(
        argv + node.options, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)  # a Ctrl-C in make does not reach it


def wait_synced(nodes, size=None, seconds=WAIT, process=None):
    """Wait until every node in ``nodes`` is Synced, in a cluster of ``size``.

    ``size`` defaults to ``len(nodes)``; 0 means any size. While waiting,
    a ``process`` that ends (a server just started) fails the wait at
    once; so does ``seconds`` passing. The error names the node and ends
    with its log.
    """
    size = len(nodes) if size is None else size
    deadline = time.monotonic() + seconds
    while True:
        waiting = [node for node in nodes if not node.synced(size or None)]
        if not waiting:
            return nodes
        node = waiting[0]
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{node.name} (port {node.port}) ended with "
                               f"status {process.returncode}; its log "
                               f"({node.log}) ends:\n{tail(node)}")
        if time.monotonic() > deadline:
            state = node.wsrep()
            stopped = "paused" if node.paused else "down"
            raise RuntimeError(
                f"{node.name} (port {node.port}) is not Synced in a "
                f"cluster of {size or 'any size'} after {seconds} s (state "
                f"{state.get('wsrep_local_state_comment', stopped)}, size "
                f"{state.get('wsrep_cluster_size', '-')}); its log "
                f"({node.log}) ends:\n{tail(node)}")
        time.sleep(0.1)


def start_node(node, bootstrap=False, size=0, where=None):
    """Start ``node`` and wait until it is Synced; return the seconds taken.

    ``where`` is its position to start from (see ``launch``). A port of
    the node's may look free, then be taken by another program before
    the node binds it: the node then ends, and starts again on ports
    moved past the taken ones (``move``), from its position recovered
    anew, ``localdb.TRIES`` times at most. On failure the server is
    killed, and the error ends with its log.
    """
    began = time.monotonic()
    for tries_left in reversed(range(localdb.TRIES)):
        offset = localdb.log_size(node.log)
        process = launch(node, bootstrap, where)
        try:
            wait_synced([node], size, process=process)
            return time.monotonic() - began
        except RuntimeError:
            if process.poll() is None:
                process.kill()
                process.wait()
            if not tries_left or not localdb.port_taken(
                    node.log, offset, node.ports):
                raise
        move(node)
        where = position(node)


def move(node):
    """Give ``node`` new ports, the first free ones past its own; save them.

    The cluster's ``cluster.json`` and every node's my.cnf name them (a
    node that runs reads its my.cnf again only at its next start; its
    peers learn the new address when the node joins them).
    """
    folder = os.path.dirname(node.folder)
    nodes = members(folder)
    others = [each for each in nodes if each.index != node.index]
    sql = first(range(node.port + 1, 65536), lambda port: all(
        port != each.port for each in others)
        and not localdb.listening(port), "SQL")
    base = first(range(node.gmcast + 3, 65534), lambda port: galera_free(
        port, [each.gmcast for each in others]), "Galera")
    node.port, node.gmcast, node.ist, node.sst = sql, base, base + 1, base + 2
    nodes[node.index - 1] = node
    with open(os.path.join(folder, "cluster.json"), "w") as saved:
        json.dump({"ports": [each.ports for each in nodes]}, saved)
    for each in nodes:
        write_config(each, nodes)


def prepare(folder, count, options):
    """Make (or reuse) ``count`` node folders in ``folder``; return them.

    Ports are chosen now, the saved ones if still free, and each node's
    my.cnf rewritten; only for a cluster of which no node runs.
    """
    nodes = members(folder, options)
    if nodes and len(nodes) != count:
        raise RuntimeError(f"{folder} holds a cluster of {len(nodes)} "
                           f"nodes, not {count}: clean it first")
    os.makedirs(folder, exist_ok=True)
    if os.geteuid() == 0:  # the servers run as mysql, who must enter it
        os.chmod(folder, os.stat(folder).st_mode | 0o111)
        localdb.check_reachable(folder)
    ports = choose_ports(count, [node.ports for node in nodes])
    with open(os.path.join(folder, "cluster.json"), "w") as saved:
        json.dump({"ports": ports}, saved)
    nodes = members(folder, options)
    for node in nodes:
        os.makedirs(node.datadir, mode=0o700, exist_ok=True)
        os.chmod(node.folder, 0o700)
        if os.stat(node.folder).st_uid != localdb.account().pw_uid:
            localdb.give(node.folder, recursive=True)
    for node in nodes:
        write_config(node, nodes)
    return nodes


def first_node(nodes):
    """Return the node to bootstrap a stopped cluster from, and its position.

    A new cluster starts from node 1 (given its system tables now). A
    cleanly stopped one, from the node that stopped last: Galera marks
    it ``safe_to_bootstrap``. After a crash no node is marked: each one's
    position is recovered, and the most advanced one is marked and used.
    """
    states = [grastate(node) for node in nodes]
    if not any(states):
        if not os.path.isdir(os.path.join(nodes[0].datadir, "mysql")):
            localdb.install_db(nodes[0].datadir)
        return nodes[0], None
    for node, state in zip(nodes, states):
        if state.get("safe_to_bootstrap") == "1":
            return node, None
    positions = {node: recover(node) for node, state in zip(nodes, states)
                 if state}
    node = max(positions, key=lambda each: int(
        positions[each].rsplit(":", 1)[1]))
    path = os.path.join(node.datadir, "grastate.dat")
    with open(path) as state:
        text = state.read()
    with open(path, "w") as state:  # Galera's own advice, automated
        state.write(re.sub(r"^safe_to_bootstrap:.*$", "safe_to_bootstrap: 1",
                           text, flags=re.M))
    return node, positions[node]


def position(node):
    """Return the node's position to start from, or None to let it be.

    Only a node that crashed (seqno -1 in grastate.dat) needs
    ``--wsrep-recover``; a new node (no grastate.dat) gets an SST, and a
    cleanly stopped one wrote its position there itself.
    """
    if grastate(node).get("seqno") != "-1":
        return None
    return recover(node)


def start(folder, nodes=NODES, options=(), say=None):
    """Start the cluster of ``nodes`` nodes in ``folder``; return its nodes.

    A new ``folder`` gets node folders, ports and system tables. If no
    node runs, the cluster is bootstrapped from the right node and the
    others join it one at a time; if some run, the others rejoin them; if
    all run, nothing is started. It returns once every node is Synced
    in a cluster of ``nodes``. ``options`` are extra server options, for
    every node it starts (kept in each ``Node``, for ``rejoin``). ``say``,
    if given, is called with a line per node started (what it did, and
    how long it took).
    """
    localdb.ensure_installed(galera=True)
    folder = os.path.abspath(folder)
    say = say or (lambda line: None)
    group = members(folder, options)
    if group and all(node.pid for node in group):
        return wait_synced(group, nodes)
    if not any(node.pid for node in group):
        group = prepare(folder, nodes, options)
        node, where = first_node(group)
        seconds = start_node(node, bootstrap=True, size=1, where=where)
        say(f"{node.name} bootstrapped the cluster in {seconds:.1f} s")
    for node in group:
        if node.pid is None:
            seconds, how = rejoin(node)
            say(f"{node.name} joined " + (f"by {how}" if how else
                                          "(it was up to date)")
                + f" in {seconds:.1f} s")
    return wait_synced(group, nodes)


def transfer(node):
    """Return how the node last joined: "SST", "IST", or None.

    None: it needed no transfer (its state was the cluster's), or the log
    does not say (a bootstrap, a node never started).

    It reads the node's log from its last start. A joiner always runs
    ``wsrep_sst_rsync --role joiner``; the donor then decides, and the
    script logs ``rsync SST completed`` for a full copy of the data, or
    ``rsync IST completed`` when only the missed writesets were sent.
    """
    if not os.path.exists(node.log):
        return None
    with open(node.log, errors="replace") as log:
        text = log.read()
    text = text[text.rfind("] Starting MariaDB"):]  # its last start
    found = re.findall(r"rsync ([IS]ST) completed on joiner", text)
    return found[-1] if found else None


def rejoin(node):
    """Start a stopped or killed node; return (seconds, "IST" or "SST").

    A killed node first recovers its position (``--wsrep-recover``), so
    that it joins by IST, receiving only what it missed, when the others
    still hold that in their cache; otherwise it joins by SST. It waits
    until the node is Synced. A node that runs is left alone.
    """
    if node.pid is not None:
        return 0.0, None
    began = time.monotonic()
    where = position(node)
    # gvwstate.dat keeps the node's identity in the group (for Galera's
    # pc.recovery, when a whole cluster restarts by itself). A node back
    # at once under its old identity, still a member to its peers, waits
    # until they give the dead one up: 15-20 s. A new identity joins now.
    with contextlib.suppress(FileNotFoundError):
        os.remove(os.path.join(node.datadir, "gvwstate.dat"))
    start_node(node, where=where)
    return time.monotonic() - began, transfer(node)


def stop(folder):
    """Stop every node of the cluster in ``folder`` that runs, last first.

    Each leaves the cluster cleanly; node 1, stopping last, is the one
    Galera marks safe to bootstrap the next start from (a paused node is
    let go first: see ``localdb.end``).
    """
    for node in reversed(members(os.path.abspath(folder))):
        localdb.stop(node.folder)


def clean(folder):
    """Stop the cluster in ``folder`` and remove the folder."""
    stop(folder)
    shutil.rmtree(folder, ignore_errors=True)


def env_lines(nodes, password, database="ALX_prodev"):
    """Return the MYSQL_* settings that name the cluster, as a dict."""
    return {"MYSQL_HOST": ",".join("127.0.0.1:%d" % node.port
                                   for node in nodes),
            "MYSQL_PORT": str(nodes[0].port), "MYSQL_USER": localdb.USER,
            "MYSQL_PASSWORD": password, "MYSQL_DATABASE": database}


def own_env():
    """Return the path of the cluster's own env file, kept in its folder.

    It holds the settings (and so the password) even when .env is the
    user's.
    """
    return os.path.join(DATA, "env")


def start_command():
    """Start the project-local cluster; write its settings to .env."""
    localdb.ensure_installed(galera=True)  # as root, that makes mysql too
    localdb.place_data(DATA)
    running = members(DATA) and all(node.pid for node in members(DATA))
    nodes = start(os.path.realpath(DATA), say=print)
    password = (localdb.env_value("MYSQL_PASSWORD", own_env())
                or secrets.token_urlsafe(18))
    localdb.add_user(nodes[0].folder, password)  # replicated to all
    settings = env_lines(nodes, password)
    localdb.write_env(own_env(), MARKER, settings)  # the cluster's
    owner = localdb.whose_env()
    if owner == "user":
        print("left your .env as it is: the cluster's settings are in "
              ".cluster/env")
    else:
        localdb.write_env(ENV, MARKER, settings)
    if owner == "localdb" and localdb.server_pid(localdb.DATA):
        print("replaced the project-local server's .env (that server "
              "still runs: make db-stop)")
    print(("project-local cluster already running on " if running
           else "project-local cluster on ")
          + settings["MYSQL_HOST"] + " (data in .cluster/)")


def stop_command():
    """Stop the project-local cluster, and remove the .env it wrote.

    Its data stays: ``start_command`` starts it again. Without its
    ``.env``, ``make run`` uses the project-local server.
    """
    was_running = any(node.pid for node in members(DATA))
    stop(DATA)
    removed = localdb.whose_env() == "cluster"
    if removed:
        os.remove(ENV)
    print("project-local cluster " + ("stopped" if was_running
                                      else "was not running")
          + ("; removed its .env, so make run uses the project-local "
             "server again (make cluster starts the cluster again, with "
             "its data)" if removed else ""))


def clean_command():
    """Stop the project-local cluster; remove its data and its .env.

    It says what it did: where no cluster was made, nothing.
    """
    done = ["stopped it"] if any(node.pid for node in members(DATA)) else []
    stop(DATA)
    if localdb.remove_data(DATA):
        done.append("removed its data (.cluster/)")
    if localdb.whose_env() == "cluster":
        os.remove(ENV)
        done.append("removed its .env")
    print("project-local cluster: " + (", ".join(done)
                                       or "nothing to remove"))


def status_command():
    """Say how each node of the project-local cluster is."""
    nodes = members(DATA)
    for node in nodes:
        state = node.wsrep()
        print(f"{node.name} 127.0.0.1:{node.port} "
              + (f"{state['wsrep_local_state_comment']}, cluster size "
                 f"{state['wsrep_cluster_size']}" if state
                 else "paused" if node.paused else "not running"))
    if not nodes:
        print("no cluster (scripts/cluster.py start makes one)")


if __name__ == "__main__":
    localdb.command_line({"start": start_command, "stop": stop_command,
                          "status": status_command, "clean": clean_command})
