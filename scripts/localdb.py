#!/usr/bin/env python3
"""Run a project-local MariaDB server: its own data folder, loopback only.

    scripts/localdb.py start    # install if root, init, start, write .env
    scripts/localdb.py stop
    scripts/localdb.py status
    scripts/localdb.py clean    # stop; remove .localdb/ and its .env
    scripts/localdb.py install  # as root: install the server if missing

``start`` does nothing to a ``.env`` of the user's own (one without the
marker line below): that names the user's server, and it is used as is.
A ``.env`` that ``scripts/cluster.py`` wrote names the project-local
cluster: ``start`` starts that (after a reboot, say).
Otherwise the server keeps its data in ``.localdb/`` (ignored by git),
listens on 127.0.0.1 on a free port from 3307 up, and the project's user
gets a generated password and rights on the project's databases alone
(``ALX_prodev`` and any ``ALX_prodev_*``); ``.env`` is written for it.
Starting a running server is a no-op. The tests and the benchmark use
``start()`` to run throwaway servers of their own. ``clean`` never
removes a ``.env`` of the user's own.

A server started by root runs as ``mysql``, the owner of its data; one
started by another user, as that user. When a folder above the project
is closed to mysql (a home folder, a ``mktemp -d`` clone), the data goes
to a folder of mysql's in ``ELSEWHERE``, and ``.localdb`` links to it.
"""
import grp
import os
import pwd
import secrets
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, ".localdb")
ENV = os.path.join(ROOT, ".env")
MARKER = "# project-local server: written by scripts/localdb.py"
CLUSTER_MARKER = "# project-local cluster: written by scripts/cluster.py"
USER = "alx"
RUNAS = "mysql"  # who the servers run as when we are root
ELSEWHERE = "/var/lib/alx-localdb"  # as root: data mysql can reach
SBIN = ("/usr/sbin", "/usr/local/sbin", "/usr/local/mysql/bin")
GALERA_LIBRARIES = ("/usr/lib/galera/libgalera_smm.so",      # Debian, Ubuntu
                    "/usr/lib/galera-4/libgalera_smm.so",
                    "/usr/lib64/galera-4/libgalera_smm.so",  # RPM-based
                    "/usr/lib64/galera/libgalera_smm.so")
WAIT = 120  # seconds a start or a stop may take on a busy machine
PASSWORD = re.compile(r"[A-Za-z0-9_-]{16,}")  # what token_urlsafe makes
TRIES = 10  # starts of a server, each on another port if its was taken
TAKEN = re.compile(r"Address already in use"  # errno 98: the server, Galera
                   r"|wsrep_sst_rsync .*: 16 \(Device or resource busy\)")

# Each setting, and why. What every server here needs:
BASE = [
    "--bind-address=127.0.0.1",        # loopback only: nothing else sees it
    "--skip-name-resolve",             # no DNS look-ups on connect
    "--character-set-server=utf8mb4",  # a server without config says latin1
    "--collation-server=utf8mb4_unicode_ci",
    "--local-infile=1",                # LOAD DATA LOCAL, for insert_data
    "--skip-log-bin",                  # no binary log: no replicas here
]
# The server is ours, tuned for this workload (``start(tuned=False)``
# leaves these at the server's defaults, as users have them):
TUNING = [
    "--innodb-buffer-pool-size=1G",    # a 1M-row table and its load fit
    "--innodb-log-file-size=512M",     # a bulk load does not stall on logs
    "--innodb-flush-log-at-trx-commit=2",  # one fsync a second: dev data
    "--innodb-doublewrite=0",          # halves bulk-load writes: dev data
    "--max-allowed-packet=64M",        # large multi-row INSERT batches
]
OPTIONS = BASE + TUNING


def server_binary():
    """Return the path of mariadbd (or MariaDB's mysqld), or None."""
    path = os.environ.get("PATH", "") + os.pathsep + os.pathsep.join(SBIN)
    for name in ("mariadbd", "mysqld"):
        found = shutil.which(name, path=path)
        if found and (name == "mariadbd" or b"MariaDB" in subprocess.run(
                [found, "--version"], capture_output=True).stdout):
            return found
    return None


def apt_install(*packages):
    """Install Debian's ``packages`` if we are root and have apt-get.

    Return False (and do nothing) otherwise.
    """
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    print("installing: apt-get install " + " ".join(packages),
          file=sys.stderr)
    quiet = {"stdout": subprocess.DEVNULL, "check": True,
             "env": dict(os.environ, DEBIAN_FRONTEND="noninteractive")}
    subprocess.run(["apt-get", "update", "-qq"], **quiet)
    subprocess.run(["apt-get", "install", "-y", "-qq", *packages], **quiet)
    return True


def galera_library():
    """Return the path of the Galera library, or None."""
    return next(filter(os.path.exists, GALERA_LIBRARIES), None)


def ensure_installed(galera=False):
    """Return the server binary, installing what is missing if we are root.

    That is Debian's mariadb-server (which brings galera-4 and rsync);
    with ``galera``, a cluster's node needs the Galera library and rsync
    too. Raise saying what to install when something is still missing.
    """
    def missing():
        """Return what is missing, as the packages that bring it."""
        if server_binary() is None:
            return ["mariadb-server", "mariadb-client"]
        if galera and (galera_library() is None or not shutil.which("rsync")):
            return ["galera-4", "rsync"]
        return []
    if missing():
        apt_install(*missing())
    if server_binary() is None:
        raise RuntimeError("no MariaDB server found. Install it "
                           "(sudo apt-get install mariadb-server), or name a "
                           "server of your own in .env (see .env.example).")
    if missing():
        raise RuntimeError("Galera or rsync is missing: install them "
                           "(sudo apt-get install galera-4 rsync)")
    return server_binary()


def account():
    """Return the passwd entry the servers run as: mysql if root, else us."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    try:
        return pwd.getpwnam(RUNAS)
    except KeyError:
        raise RuntimeError(f"as root the servers run as '{RUNAS}', and "
                           "there is no such user: install mariadb-server, "
                           "or run as yourself") from None


def runas():
    """Return the server options that set its user: ``--user`` if root."""
    return ["--user=" + RUNAS] if os.geteuid() == 0 else []


def give(path, recursive=False):
    """Make ``path`` (and, if ``recursive``, all in it) the servers'.

    A no-op unless we are root: a user's servers run as that user.
    """
    if os.geteuid() != 0:
        return
    user = account()
    paths = [path]
    if recursive:
        for top, folders, files in os.walk(path):
            paths += [os.path.join(top, name) for name in folders + files]
    for each in paths:
        os.lchown(each, user.pw_uid, user.pw_gid)


def closed_above(folder):
    """Return the first folder above ``folder`` that the servers' user may
    not enter (``mkdtemp`` makes them mode 0700), or None."""
    user = account()
    groups = {group.gr_gid for group in grp.getgrall()
              if user.pw_name in group.gr_mem} | {user.pw_gid}
    path = os.path.dirname(os.path.abspath(folder))
    while True:
        info = os.stat(path)
        bit = (stat.S_IXUSR if info.st_uid == user.pw_uid
               else stat.S_IXGRP if info.st_gid in groups else stat.S_IXOTH)
        if not info.st_mode & bit:
            return path
        if os.path.dirname(path) == path:
            return None
        path = os.path.dirname(path)


def check_reachable(folder):
    """Raise unless the servers' user may enter every folder above ``folder``.

    As root the servers run as ``mysql``: a folder on the way that only
    root may enter stops them.
    """
    closed = closed_above(folder)
    if closed is not None:
        raise RuntimeError(f"the servers run as '{account().pw_name}', who "
                           f"may not enter {closed}: choose a folder "
                           f"elsewhere, or chmod o+x {closed}")


def admin_account():
    """Return the server's admin account: the name of the user we run as.

    ``install_db`` names it to ``mariadb-install-db`` (which would take
    it from ``$USER``, unset under cron or ``env -i``), and ``admin``
    logs in as it.
    """
    return pwd.getpwuid(os.geteuid()).pw_name


def install_db(files):
    """Make the system tables in the new data folder ``files``.

    ``root`` and the ``admin_account`` log in by socket alone. Its
    temporary files go beside ``files``: two made at once in a shared
    /tmp may fail ("Unknown table 'mysql.tmp_user_sys'").
    """
    found = shutil.which("mariadb-install-db", path=os.pathsep.join(
        [os.environ.get("PATH", "")] + list(SBIN)))
    subprocess.run([found, "--no-defaults", "--datadir=" + files,
                    "--auth-root-authentication-method=socket",
                    "--auth-root-socket-user=" + admin_account(),
                    "--skip-test-db", "--tmpdir=" + os.path.dirname(files)]
                   + runas(), check=True, capture_output=True)


def listening(port):
    """Return True when something accepts connections on 127.0.0.1:port."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def free_port(start=3307):
    """Return a port on loopback that nothing listens on now.

    The first one from ``start``; with ``start`` None, one the kernel
    picks among its high ports (where throwaway servers started at the
    same time by others are unlikely to pick the same). Another program
    may still take it before a server binds it: ``start`` then moves on.
    """
    if start is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]
    for port in range(start, min(start + 200, 65536)):
        if not listening(port):
            return port
    raise RuntimeError("no free port found from %d" % start)


def bindable(port):
    """Return True when a server could bind ``port`` on loopback now.

    Servers set SO_REUSEADDR, as this probe: a port whose last
    connections linger in TIME_WAIT is free to them.
    """
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def port_taken(log, offset, ports):
    """Return True when a server that has ended lost one of its ``ports``.

    Its ``log``, from byte ``offset`` on, says a bind failed with errno
    98 ("Bind on TCP/IP port. Got error: 98: Address already in use";
    Galera's "bind: Address already in use"; its rsync state transfer
    ends with 16, EBUSY), or one of ``ports`` is held by another program
    now (Galera sometimes reports its failed bind as another error).
    """
    try:
        with open(log, "rb") as text:
            text.seek(offset)
            found = text.read().decode(errors="replace")
    except FileNotFoundError:
        found = ""
    return bool(TAKEN.search(found)) or not all(map(bindable, ports))


def log_size(log):
    """Return the size of ``log`` now (0 if there is none yet)."""
    try:
        return os.path.getsize(log)
    except FileNotFoundError:
        return 0


def socket_path(datadir):
    """Return where the server's socket goes (short: sockets have a limit)."""
    path = os.path.join(datadir, "mysqld.sock")
    if len(path) > 100:
        path = os.path.join("/tmp", "alx-%s.sock" % secrets.token_hex(6))
    return path


def admin(datadir, sql):
    """Run ``sql`` as the server's admin over its socket; return the output.

    The admin is the system user who made the data folder (its
    ``admin_account``), or root: ``install_db`` gives both socket
    authentication. The SQL goes on the client's standard input: its
    arguments, any local user may read while it runs.
    """
    with open(os.path.join(datadir, "socket")) as link:
        sock = link.read().strip()
    clean = {key: value for key, value in os.environ.items()
             if not key.startswith("MYSQL_")}  # the client reads MYSQL_HOST
    done = subprocess.run(
        [shutil.which("mariadb") or shutil.which("mysql"), "--no-defaults",
         "--protocol=socket", "-u", admin_account(), "-S", sock, "-N",
         "-B"],
        input=sql, capture_output=True, text=True, env=clean)
    if done.returncode:
        raise RuntimeError("admin SQL failed: " + done.stderr.strip())
    return done.stdout


def running(datadir):
    """Return True when the server of ``datadir`` answers."""
    try:
        admin(datadir, "SELECT 1")
        return True
    except (OSError, RuntimeError):
        return False


def start(datadir, port=None, options=(), tuned=True):
    """Start a server on ``datadir`` (made if new); return its port.

    ``port`` is the one to try first (else the first free one from
    3307). A port looks free, then another program may take it before
    the server binds it, seconds later: the server then ends, saying so
    in its log, and it starts again on the next free port, ``TRIES``
    times at most. The port returned is the one it got.
    ``options`` are extra server options (for tests); without ``tuned``,
    they are the only ones beyond ``BASE``. It waits until the server
    answers, and raises with the end of its log if it does not.
    As root, ``datadir`` and all in it become mysql's, the server's user.
    """
    binary = ensure_installed()
    os.makedirs(datadir, exist_ok=True)
    datadir = os.path.realpath(datadir)  # no link for mysql to follow
    if os.geteuid() == 0:
        check_reachable(datadir)
        if os.stat(datadir).st_uid != account().pw_uid:
            give(datadir, recursive=True)
    files = os.path.join(datadir, "files")
    if not os.path.isdir(files):
        install_db(files)
    if running(datadir):
        return int(admin(datadir, "SELECT @@port"))
    port = port or free_port()
    sock = socket_path(datadir)
    with open(os.path.join(datadir, "socket"), "w") as link:
        link.write(sock)
    log = os.path.join(datadir, "server.log")
    for tries_left in reversed(range(TRIES)):
        offset = log_size(log)
        server = subprocess.Popen(
            [binary, "--no-defaults", "--datadir=" + files,
             "--port=%d" % port, "--socket=" + sock,
             "--pid-file=" + os.path.join(datadir, "pid"),
             "--log-error=" + log, "--tmpdir=" + datadir]  # not /tmp
            + runas() + (OPTIONS if tuned else BASE) + list(options),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + WAIT
        while server.poll() is None and time.monotonic() < deadline:
            if running(datadir):
                return port
            time.sleep(0.1)
        if server.poll() is None:
            server.kill()
            server.wait()
        if not tries_left or not port_taken(log, offset, [port]):
            break
        port = free_port(port + 1)
    tail = ""
    if os.path.exists(log):
        with open(log) as lines:
            tail = "".join(lines.readlines()[-15:])
    raise RuntimeError(f"the server on port {port} did not start; its log "
                       f"({log}) ends:\n{tail}")


def alive(pid):
    """Return True while process ``pid`` runs (a zombie has ended).

    A process runs while any of its threads does: its main thread may
    be a zombie while the others still close its files (and its ports).
    """
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except (FileNotFoundError, ProcessLookupError):  # it has ended
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False
    for thread in threads:
        try:
            with open(f"/proc/{pid}/task/{thread}/stat") as proc:
                if proc.read().rsplit(")", 1)[1].split()[0] != "Z":
                    return True
        except (FileNotFoundError, ProcessLookupError):  # that thread
            pass  # has just ended: reading its stat may fail either way
    return False


def server_pid(datadir):
    """Return the pid of the server of ``datadir``, or None if none runs.

    A pid file left by a crash may name another process by now: only a
    process started with this data folder counts.
    """
    try:
        with open(os.path.join(datadir, "pid")) as pid_file:
            pid = int(pid_file.read())
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            argv = cmdline.read().split(b"\0")
    except (OSError, ValueError):
        return None
    files = os.path.realpath(os.path.join(datadir, "files"))
    named = [os.path.realpath(os.fsdecode(arg[len(b"--datadir="):]))
             for arg in argv if arg.startswith(b"--datadir=")]
    return pid if files in named and alive(pid) else None


def end(pid, signum=signal.SIGTERM):
    """Send ``signum`` to process ``pid``; wait until it has ended.

    A stopped process (SIGSTOP) is let go first, or it could not end.
    Our own child is reaped. Raise RuntimeError if it still runs after
    ``WAIT`` seconds.
    """
    os.kill(pid, signal.SIGCONT)
    os.kill(pid, signum)
    deadline = time.monotonic() + WAIT
    while alive(pid):
        try:
            os.waitpid(pid, os.WNOHANG)  # reap it, if it is our child
        except ChildProcessError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server (pid {pid}) still runs {WAIT} s "
                               f"after signal {signum}: see its server.log")
        time.sleep(0.02)


def stop(datadir):
    """Stop the server of ``datadir`` if it runs, and wait for it to end.

    Raise RuntimeError if it has not ended after ``WAIT`` seconds.
    """
    pid = server_pid(datadir)
    if pid is not None:
        end(pid)


def kill(datadir):
    """End the server of ``datadir`` at once (SIGKILL), if it runs."""
    pid = server_pid(datadir)
    if pid is not None:
        end(pid, signal.SIGKILL)


def add_user(datadir, password, user=USER, database="ALX_prodev"):
    """Create (or reset) the project's user: rights on its databases only.

    The password goes into SQL (on the client's input, never its
    arguments), so it must be one ``token_urlsafe`` could have made: 16
    or more letters, digits, ``-`` or ``_``.
    """
    if not PASSWORD.fullmatch(password):
        raise RuntimeError("the password in .env is not 16 or more letters, "
                           "digits, - or _: delete .env and start again")
    pattern = database.replace("_", "\\_")
    admin(datadir, f"""
        CREATE USER IF NOT EXISTS '{user}'@'127.0.0.1';
        ALTER USER '{user}'@'127.0.0.1' IDENTIFIED BY '{password}';
        GRANT ALL PRIVILEGES ON `{pattern}`.* TO '{user}'@'127.0.0.1';
        GRANT ALL PRIVILEGES ON `{pattern}\\_%`.* TO '{user}'@'127.0.0.1';
    """)


def read_env(path=ENV):
    """Return the lines of the env file ``path``, or None if there is none.

    One that cannot be read (written by root, say) raises RuntimeError
    saying what to do.
    """
    try:
        with open(path) as env:
            return env.read().splitlines()
    except FileNotFoundError:
        return None
    except OSError as err:
        me = pwd.getpwuid(os.geteuid()).pw_name
        raise RuntimeError(
            f"cannot read {path}: {err.strerror}. Make it a file you can "
            f"read (sudo chown {me} {path}), or move it away (sudo mv "
            f"{path} {path}.old) and run make run") from None


def whose_env():
    """Return who wrote .env: "localdb", "cluster", "user", or None."""
    lines = read_env()
    if lines is None:
        return None
    if MARKER in lines:
        return "localdb"
    return "cluster" if CLUSTER_MARKER in lines else "user"


def users_env():
    """Return True when .env exists and is not the local server's own."""
    return whose_env() not in (None, "localdb")


def env_value(name, path=ENV):
    """Return the value of ``name`` in the env file ``path``, or None."""
    for line in read_env(path) or ():
        if line.startswith(name + "="):
            return line.split("=", 1)[1].strip()
    return None


def write_env(path, marker, settings):
    """Write ``settings`` to ``path`` (mode 0600) under the ``marker`` line.

    A line under it says who wrote it, and how to use a server of one's
    own instead.
    """
    written_by = ("make run for the project-local server" if marker == MARKER
                  else "make cluster for the project-local cluster")
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
              "w") as env:
        os.fchmod(env.fileno(), 0o600)  # also when it was there before
        env.write(f"{marker}\n# Written by {written_by}. To use a server "
                  "of your own, replace it with a copy of .env.example, "
                  "filled in.\n"
                  + "".join(f"{key}={value}\n"
                            for key, value in settings.items()))


def port_to_use():
    """Return the port .env names if it is free, else the first free one.

    A restart keeps the server where clients already look for it.
    """
    port = env_value("MYSQL_PORT")
    if (re.fullmatch("[0-9]{4,5}", port or "") and 3307 <= int(port) < 65536
            and not listening(int(port))):
        return int(port)
    return free_port()


def serving(folder):
    """Return True when a server runs on ``folder`` or on a folder in it
    (the nodes of a cluster)."""
    return any(server_pid(top) for top, _, files in os.walk(folder)
               if "pid" in files)


def place_data(data=DATA):
    """Make ``data`` a link to a folder elsewhere if mysql needs one.

    As root the servers run as mysql; a folder above the project that
    mysql may not enter (a home folder, a ``mktemp -d`` clone) hides
    ``data`` (``.localdb/``, or the cluster's ``.cluster/``) from it.
    The data then goes to a new folder in ``ELSEWHERE`` (a folder made
    before moves there), and ``data`` links to it. Data a server runs
    on is left where it is.
    """
    if (os.geteuid() != 0 or os.path.islink(data) and os.path.isdir(data)
            or closed_above(data) is None or serving(data)):
        return
    os.makedirs(ELSEWHERE, exist_ok=True)
    os.chmod(ELSEWHERE, 0o711)  # mysql may enter it, whatever the umask
    home = tempfile.mkdtemp(prefix=os.path.basename(ROOT) + "-",
                            dir=ELSEWHERE)
    if os.path.isdir(data) and not os.path.islink(data):
        os.rmdir(home)
        shutil.move(data, home)
    elif os.path.lexists(data):  # a link to a folder gone
        os.remove(data)
    os.symlink(home, data)


def remove_data(data):
    """Remove ``data``, and the folder elsewhere it links to, if any.

    Return True if there was something to remove; raise RuntimeError
    saying what to do if some of it could not be removed.
    """
    if not os.path.lexists(data):
        return False
    home = os.path.realpath(data)
    shutil.rmtree(home, ignore_errors=True)
    if os.path.islink(data) and not os.path.exists(home):
        os.remove(data)
    if os.path.lexists(data):
        raise RuntimeError(f"could not remove all of {home}: remove it as "
                           f"its owner (sudo rm -rf {home})")
    return True


def start_command():
    """Start the project-local server, or the cluster a .env names.

    A ``.env`` of the user's own names their server: nothing is started.
    """
    owner = whose_env()
    if owner == "cluster":  # cluster.py, which imports this file, starts it
        sys.exit(subprocess.run([sys.executable, os.path.join(
            ROOT, "scripts", "cluster.py"), "start"]).returncode)
    if owner == "user":
        host = env_value("MYSQL_HOST") or "127.0.0.1"
        port = env_value("MYSQL_PORT") or "3306"
        print(f"using your own server named in .env (MYSQL_HOST={host}, "
              f"MYSQL_PORT={port}); make db-start starts nothing for it. "
              "To use the project's own server instead, move that .env "
              "away (mv .env .env.mine) and run make run")
        return
    ensure_installed()  # as root, that makes the user mysql too
    place_data()
    port = start(DATA, port=port_to_use())
    password = env_value("MYSQL_PASSWORD") or secrets.token_urlsafe(18)
    add_user(DATA, password)
    write_env(ENV, MARKER, {
        "MYSQL_HOST": "127.0.0.1", "MYSQL_PORT": port, "MYSQL_USER": USER,
        "MYSQL_PASSWORD": password, "MYSQL_DATABASE": "ALX_prodev"})
    print(f"project-local server on 127.0.0.1:{port} (data in .localdb/)")


def stop_command():
    """Stop the project-local server."""
    was_running = server_pid(DATA) is not None
    stop(DATA)
    print("project-local server " + ("stopped" if was_running
                                     else "was not running"))


def clean_command():
    """Stop the project-local server; remove its data and its .env.

    It says what it did, and that it kept a .env of the user's own.
    """
    done = ["stopped it"] if server_pid(DATA) is not None else []
    stop(DATA)
    if remove_data(DATA):
        done.append("removed its data (.localdb/)")
    owner = whose_env()
    if owner == "localdb":
        os.remove(ENV)
        done.append("removed its .env")
    print("project-local server: " + (", ".join(done) or "nothing to remove")
          + ("; kept your own .env" if owner == "user" else ""))


def install_command():
    """Install what the servers need, if missing (as root).

    The server, and what a cluster's nodes need too (Galera, rsync):
    under sudo this is root's only step, and ``make cluster`` may come
    later, run as the user.
    """
    ensure_installed(galera=True)


def status_command():
    """Say whether the project-local server runs."""
    print("running" if running(DATA) else "not running")


def command_line(commands):
    """Run the command the first argument names (``status`` if none).

    ``commands`` maps each command's name to its function. A wrong
    command prints the usage; an error ends the script with one line.
    scripts/cluster.py runs its commands through this too.
    """
    name = sys.argv[1] if len(sys.argv) > 1 else "status"
    if name not in commands:
        sys.exit(f"usage: {sys.argv[0]} {'|'.join(commands)}")
    try:
        commands[name]()
    except (RuntimeError, subprocess.CalledProcessError) as err:
        sys.exit(f"error: {err}")


if __name__ == "__main__":
    command_line({"start": start_command, "stop": stop_command,
                  "status": status_command, "clean": clean_command,
                  "install": install_command})
