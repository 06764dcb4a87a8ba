"""What the README promises about ``scripts/localdb.py start|stop|status``.

Each test runs a copy of the script in a scratch project (``scripts/``
with the script alone; ``.localdb`` and ``.env`` appear beside it), as a
subprocess with the venv's Python, against a real MariaDB server. One
server is started for the module and restarted by the tests; it is
stopped, and its folder removed, at the end, whatever happened. The
scratch project is mode 0700, as a clone in ``mktemp -d``: run by root,
the tests see ``.localdb`` link to the data, in a folder mysql reaches.
"""
import contextlib
import os
import pwd
import shlex
import shutil
import socket
import stat
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor

import mysql.connector
import pytest

from testlab import DEADLINE, PYTHON, ROOT, Server, localdb, wait_for

SCRIPT = os.path.join(ROOT, "scripts", "localdb.py")
SYSTEM_PYTHON = shutil.which("python3", path=os.defpath)  # any user's
alive = localdb.alive


def scratch_project(folder):
    """Copy the script into ``folder``/scripts; return ``folder``."""
    os.makedirs(os.path.join(folder, "scripts"))
    shutil.copy(SCRIPT, os.path.join(folder, "scripts"))
    return folder


def run(project, command, path=None, user=None, without=()):
    """Run the scratch copy's ``command``; return the finished process.

    MYSQL_* variables are left out of its environment, so that nothing
    of the real project's ``.env`` (which ``seed`` loads) leaks in, and
    so are the variables named in ``without``. ``path``, if given, is
    its PATH. With ``user`` (we must be root) it runs as that user, with
    the system's python3: the venv's may be in a folder that user cannot
    enter.
    """
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("MYSQL_") and key not in without}
    env["PATH"] = path or env["PATH"]
    unset = [arg for name in without for arg in ("-u", name)]
    python = ["runuser", "-u", user, "--", "env", *unset, SYSTEM_PYTHON
              ] if user else [PYTHON]
    return subprocess.run(
        python + [os.path.join(project, "scripts", "localdb.py"), command],
        cwd=project, env=env, stdin=subprocess.DEVNULL, capture_output=True,
        text=True, timeout=DEADLINE)


def logging_client(folder):
    """Make ``folder``/mariadb, a client that logs what it is given.

    It appends its arguments, a line a call, to ``folder``/argv, and its
    standard input to ``folder``/stdin, then hands both to the real
    client. Return a PATH that finds it first.
    """
    os.makedirs(folder)
    real = shutil.which("mariadb") or shutil.which("mysql")
    argv, stdin = (shlex.quote(os.path.join(folder, name))
                   for name in ("argv", "stdin"))
    script = os.path.join(folder, "mariadb")
    with open(script, "w") as text:
        text.write(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {argv}\n'
                   f'tee -a {stdin} | {shlex.quote(real)} "$@"\n')
    os.chmod(script, 0o755)
    return folder + os.pathsep + os.environ["PATH"]


def read_env(project):
    """Return the ``.env`` of ``project`` as (its lines, a dict of values)."""
    with open(os.path.join(project, ".env")) as env:
        lines = env.read().splitlines()
    values = dict(line.split("=", 1) for line in lines
                  if "=" in line and not line.startswith("#"))
    return lines, values


def server_pid(project):
    """Return the pid of the server of ``project``'s ``.localdb/``."""
    pid = localdb.server_pid(os.path.join(project, ".localdb"))
    assert pid is not None, "no server runs"
    return pid


def uids(pid):
    """Return the real, effective, saved and file-system uids of ``pid``."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("Uid:"):
                return [int(uid) for uid in line.split()[1:]]
    raise AssertionError(f"no Uid line for process {pid}")


def connect_as_alx(values):
    """Connect with the host, port, user and password of ``values``."""
    return mysql.connector.connect(
        host=values["MYSQL_HOST"], port=int(values["MYSQL_PORT"]),
        user=values["MYSQL_USER"], password=values["MYSQL_PASSWORD"],
        connection_timeout=10, autocommit=True)


def query(connection, sql):
    """Run ``sql`` on ``connection``; return all its rows."""
    cursor = connection.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall() if cursor.with_rows else []
    finally:
        cursor.close()


@contextlib.contextmanager
def hold_first_free_port():
    """Listen on the first free port from 3307 until the block ends.

    SO_REUSEADDR lets the socket bind a port that only lingers in
    TIME_WAIT (free to the server too). Should another program take
    the port between the probe and the bind, the next free one is held.
    """
    start = 3307
    for _ in range(20):
        port = localdb.free_port(start)
        with socket.socket() as holder:
            holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                holder.bind(("127.0.0.1", port))
                holder.listen()
            except OSError:
                start = port + 1
                continue
            yield port
            return
    raise RuntimeError("no port from 3307 could be held")


def remove_project(project):
    """Stop every server with a pid file in ``project``; remove it all.

    Not only ``.localdb/``: a broken script may have put its server
    elsewhere, and it must not outlive the test run. A ``.localdb``
    that links to a folder elsewhere is followed, and that folder goes.
    """
    data = os.path.realpath(os.path.join(project, ".localdb"))
    for folder, _, files in os.walk(project, followlinks=True):
        if "pid" in files:
            localdb.stop(folder)
    shutil.rmtree(data, ignore_errors=True)
    shutil.rmtree(project, ignore_errors=True)


class Local:
    """The module's scratch project and what its first ``start`` did."""

    def __init__(self, project, held, expected, started):
        """Remember the project, the held and expected ports, the run."""
        self.project, self.held, self.expected = project, held, expected
        self.started = started
        self.client = os.path.join(project, "client")
        self.data = os.path.join(project, ".localdb")
        self.env = os.path.join(project, ".env")


@pytest.fixture(scope="module")
def local():
    """One server, started by ``start`` with no ``.env``; gone at the end.

    The first free port from 3307 is held by a listening socket during
    that ``start``, so the server must take the next free one; and a
    client that logs its arguments and input (``logging_client``) is
    the first ``mariadb`` on its PATH. At the end the server is stopped
    and the scratch project removed, even when a test failed or left it
    stopped.
    """
    project = scratch_project(tempfile.mkdtemp(prefix="alx-localdb-"))
    try:
        path = logging_client(os.path.join(project, "client"))
        with hold_first_free_port() as held:
            expected = localdb.free_port(held + 1)
            started = run(project, "start", path)
        yield Local(project, held, expected, started)
    finally:
        remove_project(project)


def test_start_without_env_starts_a_server_and_writes_env(local):
    """``start`` makes the server in .localdb/, on loopback, and its .env.

    The .env is mode 0600, holds the marker line and the five settings,
    and ``alx`` with its password connects and may create ALX_prodev but
    no other database.
    """
    assert local.started.returncode == 0, local.started.stderr
    lines, values = read_env(local.project)
    port = int(values["MYSQL_PORT"])
    assert local.started.stdout == (
        f"project-local server on 127.0.0.1:{port} (data in .localdb/)\n")
    assert stat.S_IMODE(os.stat(local.env).st_mode) == 0o600
    assert localdb.MARKER in lines
    assert {key: value for key, value in values.items()
            if key != "MYSQL_PASSWORD"} == {
        "MYSQL_HOST": "127.0.0.1", "MYSQL_PORT": str(port),
        "MYSQL_USER": "alx", "MYSQL_DATABASE": "ALX_prodev"}
    assert len(values["MYSQL_PASSWORD"]) >= 16

    pid = server_pid(local.project)
    assert alive(pid)
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        arguments = cmdline.read().decode().split("\0")
    assert "--datadir=" + os.path.join(os.path.realpath(local.data),
                                       "files") in arguments
    settings = localdb.admin(local.data, "SELECT @@bind_address, @@port, "
                             "@@datadir").split("\t")
    assert settings[:2] == ["127.0.0.1", str(port)]
    assert os.path.realpath(settings[2].strip()) == os.path.realpath(
        os.path.join(local.data, "files"))

    connection = connect_as_alx(values)
    try:
        query(connection, "CREATE DATABASE IF NOT EXISTS ALX_prodev")
        with pytest.raises(mysql.connector.Error) as denied:
            query(connection, "CREATE DATABASE alx_not_ours")
        assert denied.value.errno == 1044  # access denied to database
        names = {name for name, in query(connection, "SHOW DATABASES")}
        assert names == {"information_schema", "ALX_prodev"}
    finally:
        connection.close()


def test_no_password_on_a_command_line(local):
    """The password of ``alx`` is in no client's arguments, only its input.

    While a program runs, any local user may read its arguments (in
    /proc/PID/cmdline). The first ``start`` ran with a client that logs
    its arguments and input first on PATH: it was the client used, no
    call had the password among its arguments, the statement that set
    it came on a client's input, and ``alx`` logs in with it.
    """
    assert local.started.returncode == 0, local.started.stderr
    _, values = read_env(local.project)
    password = values["MYSQL_PASSWORD"]
    with open(os.path.join(local.client, "argv")) as argv:
        calls = argv.read()
    assert "--protocol=socket" in calls
    assert password not in calls
    with open(os.path.join(local.client, "stdin")) as stdin:
        assert f"IDENTIFIED BY '{password}'" in stdin.read()
    connect_as_alx(values).close()


def test_server_runs_as_mysql_when_started_by_root(local):
    """Started by root, the server runs as ``mysql``; else as its starter.

    Its data is that user's too. The scratch project, as a clone made in
    ``mktemp -d``, is a folder only its owner may enter: for root,
    mysql could not reach ``.localdb/`` in it, so ``.localdb`` links to
    a folder of mysql's own in ``localdb.ELSEWHERE``, which holds all
    the server's files.
    """
    assert local.started.returncode == 0, local.started.stderr
    assert stat.S_IMODE(os.stat(local.project).st_mode) == 0o700
    root = os.geteuid() == 0
    owner = pwd.getpwnam("mysql").pw_uid if root else os.geteuid()
    pid = server_pid(local.project)
    assert uids(pid) == [owner] * 4
    home = os.path.realpath(local.data)
    for name in ("", "files", "pid", "server.log"):
        assert os.stat(os.path.join(home, name)).st_uid == owner, name
    assert os.path.islink(local.data) == root
    assert os.path.dirname(home) == (localdb.ELSEWHERE if root
                                     else local.project)


def test_start_takes_the_first_free_port_from_3307(local):
    """With the first free port from 3307 held, the server takes the next.

    ``expected`` is what ``free_port`` gave just before ``start``: the
    first port after the held one that nothing listened on. Other
    servers on the machine may take it (or more) meanwhile: every port
    from it to the one the server got is taken now, or the server's log
    shows its bind there refused.
    """
    assert local.started.returncode == 0, local.started.stderr
    _, values = read_env(local.project)
    port = int(values["MYSQL_PORT"])
    assert local.expected > local.held
    assert localdb.admin(local.data, "SELECT @@port").strip() == str(port)
    with open(os.path.join(local.data, "server.log")) as log:
        text = log.read()
    assert port >= local.expected
    for other in range(local.expected, port):
        assert (localdb.listening(other)
                or f"another server running on port: {other} ?" in text)


def test_second_start_while_running_does_nothing(local):
    """A ``start`` while the server runs keeps port, password and pid."""
    _, before = read_env(local.project)
    pid = server_pid(local.project)
    again = run(local.project, "start")
    assert again.returncode == 0, again.stderr
    _, after = read_env(local.project)
    assert after["MYSQL_PORT"] == before["MYSQL_PORT"]
    assert after["MYSQL_PASSWORD"] == before["MYSQL_PASSWORD"]
    assert server_pid(local.project) == pid
    assert alive(pid)
    assert stat.S_IMODE(os.stat(local.env).st_mode) == 0o600
    connect_as_alx(after).close()


def test_status_says_running(local):
    """``status`` prints ``running`` while the server runs."""
    done = run(local.project, "status")
    assert (done.returncode, done.stdout) == (0, "running\n"), done.stderr


def test_stop_then_start_restarts_with_the_same_password(local):
    """``stop`` ends the server; ``start`` brings it back, same .env.

    After the stop the server's process is gone, its port is free and
    ``status`` says ``not running``. The restart reuses the password and
    the port in .env (free again), and puts the file back to mode 0600
    (widened meanwhile); the data written before the stop is there.
    """
    _, before = read_env(local.project)
    connection = connect_as_alx(before)
    try:
        query(connection, "CREATE DATABASE IF NOT EXISTS ALX_prodev")
        query(connection, "CREATE TABLE IF NOT EXISTS ALX_prodev.kept "
              "(n INT)")
        query(connection, "INSERT INTO ALX_prodev.kept VALUES (42)")
    finally:
        connection.close()
    pid = server_pid(local.project)

    stopped = run(local.project, "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout == "project-local server stopped\n"
    wait_for(lambda: not alive(pid), f"server {pid} to end")
    assert not localdb.listening(int(before["MYSQL_PORT"]))
    status = run(local.project, "status")
    assert (status.returncode, status.stdout) == (0, "not running\n")
    again = run(local.project, "stop")
    assert again.stdout == "project-local server was not running\n"
    os.chmod(local.env, 0o644)

    started = run(local.project, "start")
    assert started.returncode == 0, started.stderr
    lines, after = read_env(local.project)
    assert localdb.MARKER in lines
    assert after["MYSQL_PASSWORD"] == before["MYSQL_PASSWORD"]
    assert after["MYSQL_PORT"] == before["MYSQL_PORT"]
    assert stat.S_IMODE(os.stat(local.env).st_mode) == 0o600
    assert started.stdout == (f"project-local server on 127.0.0.1:"
                              f"{after['MYSQL_PORT']} (data in .localdb/)\n")
    assert alive(server_pid(local.project))
    status = run(local.project, "status")
    assert (status.returncode, status.stdout) == (0, "running\n")
    connection = connect_as_alx(after)
    try:
        assert query(connection, "SELECT n FROM ALX_prodev.kept") == [(42,)]
    finally:
        connection.close()


def test_clean_removes_the_server_its_data_and_env(local):
    """``clean`` stops the server, removes its data wherever it is, and
    the .env; a ``.localdb`` link goes with the folder it links to."""
    pid = server_pid(local.project)
    home = os.path.realpath(local.data)
    done = run(local.project, "clean")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("project-local server: stopped it, removed its "
                           "data (.localdb/), removed its .env\n")
    assert not alive(pid)
    assert not os.path.lexists(local.data)
    assert not os.path.exists(home)
    assert not os.path.exists(local.env)


def test_a_user_not_root_runs_the_server_as_themselves():
    """Started by a user other than root, the server runs as that user.

    Its data stays in ``.localdb/``, and ``alx`` logs in; ``stop`` by
    that user stops it. Run by root, the test starts it as ``nobody``,
    in a scratch project of nobody's own; else, as the tests' user.
    """
    project = scratch_project(tempfile.mkdtemp(prefix="alx-localdb-"))
    user = "nobody" if os.geteuid() == 0 else None
    owner = pwd.getpwnam(user).pw_uid if user else os.geteuid()
    try:
        for folder, _, files in os.walk(project):
            for path in [folder] + [os.path.join(folder, f) for f in files]:
                os.chown(path, owner, -1)
        started = run(project, "start", user=user)
        assert started.returncode == 0, started.stderr
        pid = server_pid(project)
        assert uids(pid) == [owner] * 4
        data = os.path.join(project, ".localdb")
        assert not os.path.islink(data)
        assert os.stat(os.path.join(data, "files")).st_uid == owner
        _, values = read_env(project)
        connect_as_alx(values).close()
        stopped = run(project, "stop", user=user)
        assert stopped.returncode == 0, stopped.stderr
        assert stopped.stdout == "project-local server stopped\n"
        assert not alive(pid)
    finally:
        remove_project(project)


def test_without_user_in_the_environment_the_admin_logs_in():
    """A server made with no ``$USER`` (cron, ``env -i``) lets its admin in.

    ``mariadb-install-db`` would name the socket admin after ``$USER``,
    or root without it; ``install_db`` names the account ``admin`` logs
    in as. Run by root, as ``nobody`` in a project of nobody's (root's
    own admin is root either way); else, as the tests' user. ``start``
    works, ``status`` says running, and the admin is that user.
    """
    project = scratch_project(tempfile.mkdtemp(prefix="alx-localdb-"))
    user = "nobody" if os.geteuid() == 0 else None
    owner = pwd.getpwnam(user) if user else pwd.getpwuid(os.geteuid())
    without = ("USER", "LOGNAME")
    try:
        for folder, _, files in os.walk(project):
            for path in [folder] + [os.path.join(folder, f) for f in files]:
                os.chown(path, owner.pw_uid, -1)
        started = run(project, "start", user=user, without=without)
        assert started.returncode == 0, started.stderr
        status = run(project, "status", user=user, without=without)
        assert (status.returncode, status.stdout) == (0, "running\n")
        data = os.path.join(project, ".localdb")
        assert localdb.admin(data, "SELECT user FROM mysql.global_priv "
                             f"WHERE user = '{owner.pw_name}'") == (
            owner.pw_name + "\n")
    finally:
        remove_project(project)


def test_start_leaves_a_users_env_alone():
    """A .env without the marker names the user's server: used as is.

    ``start`` says so, starts nothing (no .localdb/ appears) and leaves
    the file byte for byte the same, and its mode too. A server started
    by mistake is stopped, and the scratch project removed, at the end.
    """
    project = scratch_project(tempfile.mkdtemp(prefix="alx-localdb-"))
    env = os.path.join(project, ".env")
    text = (b"# my own server\nMYSQL_HOST=db.example.com\nMYSQL_PORT=3306\n"
            b"MYSQL_USER=me\nMYSQL_PASSWORD=s3cret\n\nMYSQL_DATABASE=mine")
    try:
        with open(env, "wb") as mine:
            mine.write(text)
        os.chmod(env, 0o644)

        done = run(project, "start")
        assert done.returncode == 0, done.stderr
        assert done.stdout == (
            "using your own server named in .env (MYSQL_HOST=db.example.com, "
            "MYSQL_PORT=3306); make db-start starts nothing for it. To use "
            "the project's own server instead, move that .env away (mv .env "
            ".env.mine) and run make run\n")
        assert not os.path.exists(os.path.join(project, ".localdb"))
        with open(env, "rb") as mine:
            assert mine.read() == text
        assert stat.S_IMODE(os.stat(env).st_mode) == 0o644
    finally:
        remove_project(project)


def test_clean_keeps_a_users_env(tmp_path):
    """localdb.py clean removes the local server's data and .env only.

    A copy of the script in a scratch project, so that the real one's
    server and .env are not touched.
    """
    (tmp_path / "scripts").mkdir()
    shutil.copy(os.path.join(ROOT, "scripts", "localdb.py"),
                tmp_path / "scripts")
    env, data = tmp_path / ".env", tmp_path / ".localdb"

    def clean():
        """Run the copy's clean; return what it said, and whether .env
        and .localdb remain."""
        done = subprocess.run([PYTHON, "scripts/localdb.py", "clean"],
                              cwd=tmp_path, check=True, capture_output=True,
                              text=True)
        return done.stdout, env.exists(), data.exists()

    for text, said, kept in [
            ("MYSQL_HOST=db.example.com\n", "removed its data (.localdb/); "
             "kept your own .env", True),
            (localdb.MARKER + "\nMYSQL_PORT=3307\n", "removed its data "
             "(.localdb/), removed its .env", False)]:
        data.mkdir()
        (data / "ibdata1").write_text("data")
        env.write_text(text)
        assert clean() == (f"project-local server: {said}\n", kept, False)
    assert clean() == ("project-local server: nothing to remove\n", False,
                       False)


@contextlib.contextmanager
def taken(port=0, listen=False):
    """Hold ``port`` (0: one the kernel picks) until the block ends.

    Yield the port. Bound but not listening, it looks free to a probe
    (nothing answers there) and no server may bind it: as a port that
    another program takes after a start chose it, before its server
    binds it, seconds later. With ``listen``, it answers, as a server
    that took the port while ours was down (SO_REUSEADDR: the port may
    still linger in TIME_WAIT after our server's end).
    """
    with socket.socket() as holder:
        if listen:
            holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", port))
        if listen:
            holder.listen()
        yield holder.getsockname()[1]


def env_naming(project, port):
    """Write ``project``'s .env as an earlier ``start`` did, naming ``port``.

    ``start`` then tries that port first: the choice is known in advance.
    """
    localdb.write_env(os.path.join(project, ".env"), localdb.MARKER,
                      {"MYSQL_HOST": "127.0.0.1", "MYSQL_PORT": port})


def check_moved(project, held, started):
    """Check that ``start`` in ``project`` found ``held`` taken and moved.

    It succeeded; its server's log shows the bind on ``held`` refused
    (errno 98); the server listens on another port, which .env names,
    and ``alx`` logs in with .env's settings. Return that port.
    """
    assert started.returncode == 0, started.stderr
    data = os.path.join(project, ".localdb")
    with open(os.path.join(data, "server.log")) as log:
        text = log.read()
    assert "Got error: 98: Address already in use" in text
    assert f"another server running on port: {held} ?" in text
    port = int(localdb.admin(data, "SELECT @@port"))
    assert port != held
    _, values = read_env(project)
    assert values["MYSQL_PORT"] == str(port)
    assert started.stdout == (f"project-local server on 127.0.0.1:{port} "
                              "(data in .localdb/)\n")
    connect_as_alx(values).close()
    return port


def test_start_moves_on_when_its_port_is_taken_before_the_bind():
    """A port taken between ``start``'s choice and its server's bind is
    passed over: the server starts on another, and .env names that one.
    """
    project = scratch_project(tempfile.mkdtemp(prefix="alx-localdb-"))
    try:
        with taken() as held:
            env_naming(project, held)
            check_moved(project, held, run(project, "start"))
    finally:
        remove_project(project)


def test_two_starts_at_once_end_on_ports_of_their_own():
    """Two copies of the project started at once, both choosing the same
    port, end on two ports, each .env naming its own server's.

    Each .env names the same port, which another program takes before
    either server binds it: both move on to the next free ports, at the
    same moment, and the one that loses that race moves on again.
    """
    projects = [scratch_project(tempfile.mkdtemp(prefix="alx-localdb-"))
                for _ in range(2)]
    try:
        with taken() as held:
            for project in projects:
                env_naming(project, held)
            with ThreadPoolExecutor(2) as pool:
                runs = list(pool.map(lambda project: run(project, "start"),
                                     projects))
            ports = [check_moved(project, held, started)
                     for project, started in zip(projects, runs)]
        assert ports[0] != ports[1]
    finally:
        for project in projects:
            remove_project(project)


def test_a_test_server_restarts_elsewhere_if_its_port_was_taken():
    """A throwaway server killed, whose port another server then took,
    starts again on another port; its ``port``, ``env`` and ``settings``
    name the new one, and the project's user logs in there.
    """
    folder = tempfile.mkdtemp(prefix="alx-localdb-")
    server = Server(folder)
    try:
        before = server.port
        server.kill()
        with taken(before, listen=True):
            server.ensure_running()
            assert server.port != before
            assert localdb.admin(folder, "SELECT @@port").strip() == str(
                server.port)
            assert server.env["MYSQL_PORT"] == str(server.port)
            assert server.settings.servers == (("127.0.0.1", server.port),)
            connect_as_alx(server.env).close()
    finally:
        server.stop()
