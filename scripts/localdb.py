#!/usr/bin/env python3
"""Run a project-local MariaDB server: its own data folder, loopback only.

    scripts/localdb.py start    # install if root, init, start, write .env
    scripts/localdb.py stop
    scripts/localdb.py status
    scripts/localdb.py clean    # stop; remove .localdb/ and its .env

``start`` does nothing to a ``.env`` of the user's own (one without the
marker line below): that names the user's server, and it is used as is.
Otherwise the server keeps its data in ``.localdb/`` (ignored by git),
listens on 127.0.0.1 on a free port from 3307 up, and the project's user
gets a generated password and rights on the project's databases alone
(``ALX_prodev`` and any ``ALX_prodev_*``); ``.env`` is written for it.
Starting a running server is a no-op. The tests and the benchmark use
``start()`` to run throwaway servers of their own. ``clean`` never
removes a ``.env`` of the user's own.
"""
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, ".localdb")
ENV = os.path.join(ROOT, ".env")
MARKER = "# project-local server: written by scripts/localdb.py"
USER = "alx"
SBIN = ("/usr/sbin", "/usr/local/sbin", "/usr/local/mysql/bin")

# Each setting, and why. The server is ours, tuned for this workload.
OPTIONS = [
    "--bind-address=127.0.0.1",        # loopback only: nothing else sees it
    "--skip-name-resolve",             # no DNS look-ups on connect
    "--character-set-server=utf8mb4",  # a server without config says latin1
    "--collation-server=utf8mb4_unicode_ci",
    "--innodb-buffer-pool-size=1G",    # a 1M-row table and its load fit
    "--innodb-log-file-size=512M",     # a bulk load does not stall on logs
    "--innodb-flush-log-at-trx-commit=2",  # one fsync a second: dev data
    "--innodb-doublewrite=0",          # halves bulk-load writes: dev data
    "--max-allowed-packet=64M",        # large multi-row INSERT batches
    "--local-infile=1",                # LOAD DATA LOCAL, for insert_data
    "--skip-log-bin",                  # no binary log: no replicas here
]


def server_binary():
    """Return the path of mariadbd (or MariaDB's mysqld), or None."""
    path = os.environ.get("PATH", "") + os.pathsep + os.pathsep.join(SBIN)
    for name in ("mariadbd", "mysqld"):
        found = shutil.which(name, path=path)
        if found and (name == "mariadbd" or b"MariaDB" in subprocess.run(
                [found, "--version"], capture_output=True).stdout):
            return found
    return None


def ensure_installed():
    """Return the server binary, installing Debian's mariadb-server if root."""
    if server_binary() is None and os.geteuid() == 0 and shutil.which(
            "apt-get"):
        print("installing the database server: apt-get install "
              "mariadb-server", file=sys.stderr)
        quiet = {"stdout": subprocess.DEVNULL, "check": True,
                 "env": dict(os.environ, DEBIAN_FRONTEND="noninteractive")}
        subprocess.run(["apt-get", "update", "-qq"], **quiet)
        subprocess.run(["apt-get", "install", "-y", "-qq", "mariadb-server",
                        "mariadb-client"], **quiet)
    binary = server_binary()
    if binary is None:
        sys.exit("error: no MariaDB server found. Install it "
                 "(sudo apt-get install mariadb-server), or name a server "
                 "of your own in .env (see .env.example).")
    return binary


def free_port(start=3307):
    """Return the first port from ``start`` that nothing listens on."""
    for port in range(start, start + 200):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port found from %d" % start)


def socket_path(datadir):
    """Return where the server's socket goes (short: sockets have a limit)."""
    path = os.path.join(datadir, "mysqld.sock")
    if len(path) > 100:
        path = os.path.join("/tmp", "alx-%s.sock" % secrets.token_hex(6))
    return path


def admin(datadir, sql):
    """Run ``sql`` as the server's admin over its socket; return the output.

    The admin is the system user who made the data folder: ``root`` for
    root, else that user (``mariadb-install-db`` gives both accounts
    socket authentication).
    """
    with open(os.path.join(datadir, "socket")) as link:
        sock = link.read().strip()
    clean = {key: value for key, value in os.environ.items()
             if not key.startswith("MYSQL_")}  # the client reads MYSQL_HOST
    me = pwd.getpwuid(os.geteuid()).pw_name  # the server's socket-auth admin
    done = subprocess.run(
        [shutil.which("mariadb") or shutil.which("mysql"), "--no-defaults",
         "--protocol=socket", "-u", me, "-S", sock, "-N", "-B", "-e", sql],
        capture_output=True, text=True, env=clean)
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


def start(datadir, port=None, options=()):
    """Start a server on ``datadir`` (made if new); return its port.

    ``options`` are extra server options (for tests). It waits until the
    server answers, and raises with the end of its log if it does not.
    """
    binary = ensure_installed()
    os.makedirs(datadir, exist_ok=True)
    files = os.path.join(datadir, "files")
    owner = ["--user=" + pwd.getpwuid(0).pw_name] * (os.geteuid() == 0)
    if not os.path.isdir(files):
        install = shutil.which("mariadb-install-db", path=os.pathsep.join(
            [os.environ.get("PATH", "")] + list(SBIN)))
        subprocess.run([install, "--no-defaults", "--datadir=" + files,
                        "--auth-root-authentication-method=socket",
                        "--skip-test-db"] + owner,
                       check=True, capture_output=True)
    if running(datadir):
        return int(admin(datadir, "SELECT @@port"))
    port = port or free_port()
    sock = socket_path(datadir)
    with open(os.path.join(datadir, "socket"), "w") as link:
        link.write(sock)
    log = os.path.join(datadir, "server.log")
    subprocess.Popen(
        [binary, "--no-defaults", "--datadir=" + files, "--port=%d" % port,
         "--socket=" + sock, "--pid-file=" + os.path.join(datadir, "pid"),
         "--log-error=" + log] + owner + OPTIONS + list(options),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    for _ in range(300):
        if running(datadir):
            return port
        time.sleep(0.1)
    with open(log) as lines:
        tail = "".join(lines.readlines()[-15:])
    raise RuntimeError(f"the server did not start; its log says:\n{tail}")


def stop(datadir):
    """Stop the server of ``datadir`` if it runs, and wait for it to end."""
    try:
        with open(os.path.join(datadir, "pid")) as pid_file:
            pid = int(pid_file.read())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, 15)
        for _ in range(600):
            try:
                os.waitpid(pid, os.WNOHANG)  # reap it, if it is our child
            except ChildProcessError:
                pass
            os.kill(pid, 0)
            time.sleep(0.1)
    except ProcessLookupError:
        pass


def add_user(datadir, password, user=USER, database="ALX_prodev"):
    """Create (or reset) the project's user: rights on its databases only."""
    pattern = database.replace("_", "\\_")
    admin(datadir, f"""
        CREATE USER IF NOT EXISTS '{user}'@'127.0.0.1';
        ALTER USER '{user}'@'127.0.0.1' IDENTIFIED BY '{password}';
        GRANT ALL PRIVILEGES ON `{pattern}`.* TO '{user}'@'127.0.0.1';
        GRANT ALL PRIVILEGES ON `{pattern}\\_%`.* TO '{user}'@'127.0.0.1';
    """)


def users_env():
    """Return True when .env exists and is the user's own (no marker)."""
    if not os.path.exists(ENV):
        return False
    with open(ENV) as env:
        return MARKER not in env.read()


def env_password():
    """Return the password in the local server's .env, if there is one."""
    if not os.path.exists(ENV):
        return None
    with open(ENV) as env:
        for line in env:
            if line.startswith("MYSQL_PASSWORD="):
                return line.split("=", 1)[1].strip()
    return None


def main():
    """Start, stop or report on the project-local server."""
    command = sys.argv[1] if len(sys.argv) > 1 else "status"
    if command == "start" and users_env():
        print("using the server named in .env")
    elif command == "start":
        port = start(DATA)
        password = env_password() or secrets.token_urlsafe(18)
        add_user(DATA, password)
        with open(os.open(ENV, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
                  "w") as env:
            env.write(f"{MARKER}\n# Delete this file to use a server of "
                      "your own instead (see .env.example).\n"
                      f"MYSQL_HOST=127.0.0.1\nMYSQL_PORT={port}\n"
                      f"MYSQL_USER={USER}\nMYSQL_PASSWORD={password}\n"
                      "MYSQL_DATABASE=ALX_prodev\n")
        print(f"project-local server on 127.0.0.1:{port} (data in .localdb/)")
    elif command == "stop":
        stop(DATA)
        print("project-local server stopped")
    elif command == "clean":
        stop(DATA)
        shutil.rmtree(DATA, ignore_errors=True)
        if os.path.exists(ENV) and not users_env():
            os.remove(ENV)
        print("project-local server removed, with its data and .env")
    elif command == "status":
        print("running" if running(DATA) else "not running")
    else:
        sys.exit(f"usage: {sys.argv[0]} start|stop|status|clean")


if __name__ == "__main__":
    main()
