"""The paths a learner takes through ``make``, run for real.

Each test copies the project (this working copy's files, without its
``.venv``, ``.env`` or servers) into a folder of its own, mode 0700 as a
clone in a home folder or ``mktemp -d``, and runs ``make`` there as a
learner does, against the project-local server and cluster that make
starts (real MariaDB servers, stopped and removed at the end, whatever
happened). Where a test is not about the environment itself, the copy's
``.venv`` links to this project's, so that no test installs it again.

- ``sudo make run``, then ``make run``, a test file, ``make db-stop`` and
  ``make clean`` as yourself (as root, with a throwaway user);
- ``make run``, ``make cluster``, ``make run``, ``make cluster-stop``,
  ``make run``; ``make db-start`` after a reboot, with the cluster's .env;
- ``make sql``, ``make reset`` and ``make help``.
"""
import contextlib
import os
import pwd
import re
import secrets
import shutil
import stat
import subprocess
import tempfile

import pytest

from testlab import ROOT, localdb
from test_localdb import logging_client

import cluster

MAKE_TIMEOUT = 900  # seconds: a fresh venv, or a cluster, on a busy machine
DATA_FOLDERS = (".localdb", ".cluster")


def ignored(folder, names):
    """Return what a copy leaves out of ``folder``: local state, not code."""
    left_out = {".git", ".venv", ".env", "__pycache__", ".pytest_cache",
                *DATA_FOLDERS}
    if os.path.samefile(folder, os.path.join(ROOT, "bench")):
        left_out.add("data")
    return {name for name in names
            if name in left_out or name.endswith(".rejects.csv")}


def copy_project(parent):
    """Copy the project into ``parent``/clone; return its path."""
    clone = os.path.join(parent, "clone")
    shutil.copytree(ROOT, clone, symlinks=True, ignore=ignored)
    return clone


def make(project, *goals, user=None, env=(), path=None, stdin=None):
    """Run ``make goals`` in ``project``; return the finished process.

    Nothing of the tests' own server, of an outer make or of sudo is in
    its environment; ``env`` adds variables. ``user`` (we must be root)
    runs it as that user, as ``runuser`` does: with their HOME, USER and
    LOGNAME. ``path``, if given, is its PATH.
    """
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith(("MYSQL_", "SUDO_", "MAKE", "MFLAGS"))}
    environ.update(env)
    environ["PATH"] = path or environ["PATH"]
    command = ["make", "--no-print-directory", *goals]
    if user:
        command = ["runuser", "-u", user, "--"] + command
    return subprocess.run(command, cwd=project, env=environ, input=stdin,
                          capture_output=True, text=True,
                          timeout=MAKE_TIMEOUT)


def ok(done):
    """Return the stdout of ``done``; fail, showing all, unless it is 0."""
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def remove_project(project):
    """Stop the servers of ``project``, remove their data, then it all."""
    for name in DATA_FOLDERS:
        data = os.path.join(project, name)
        home = os.path.realpath(data)
        for folder, _, files in os.walk(data, followlinks=True):
            if "pid" in files:
                localdb.stop(folder)
        shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(project, ignore_errors=True)


@contextlib.contextmanager
def project_copy(venv=True):
    """A copy of the project in a new 0700 folder; removed at the end.

    With ``venv``, its ``.venv`` links to this project's.
    """
    parent = tempfile.mkdtemp(prefix="alx-learner-")
    try:
        project = copy_project(parent)
        if venv:
            os.symlink(os.path.join(ROOT, ".venv"),
                       os.path.join(project, ".venv"))
        yield project
    finally:
        remove_project(os.path.join(parent, "clone"))
        shutil.rmtree(parent, ignore_errors=True)


def env_marker(project):
    """Return the marker line of ``project``'s .env; None without one."""
    path = os.path.join(project, ".env")
    if not os.path.exists(path):
        return None
    with open(path) as env:
        return env.readline().rstrip("\n")


def env_values(project):
    """Return the settings in ``project``'s .env, as a dict."""
    with open(os.path.join(project, ".env")) as env:
        return dict(line.rstrip("\n").split("=", 1) for line in env
                    if "=" in line and not line.startswith("#"))


def count_rows(folder, database="ALX_prodev"):
    """Return the rows of user_data on the server of ``folder``."""
    return int(localdb.admin(folder, "SELECT COUNT(*) FROM "
                             f"{database}.user_data"))


# --- sudo make run, then make run as yourself ---------------------------

class NotRoot(Exception):
    """Raised by a test that must become another user, when not root."""


@contextlib.contextmanager
def throwaway_user():
    """A new system user, home in a new 0750 folder; gone at the end.

    Yield the user's passwd entry. At the end every server in the home
    is stopped, and the user and the home are removed.
    """
    name = "alxl" + secrets.token_hex(4)
    home = tempfile.mkdtemp(prefix="alx-learner-home-")
    subprocess.run(["useradd", "--home-dir", home, "--no-create-home",
                    "--shell", "/bin/sh", name], check=True,
                   capture_output=True)
    try:
        user = pwd.getpwnam(name)
        os.chown(home, user.pw_uid, user.pw_gid)
        os.chmod(home, 0o750)  # as Ubuntu makes them: mysql may not enter
        yield user
    finally:
        remove_project(os.path.join(home, "clone"))
        subprocess.run(["userdel", name], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def owners(folder):
    """Return {uid: a path it owns} for every path in ``folder``."""
    found = {}
    for top, folders, files in os.walk(folder):
        for name in [""] + folders + files:
            path = os.path.join(top, name)
            found.setdefault(os.lstat(path).st_uid, path)
    return found


@pytest.mark.xfail(os.geteuid() != 0, raises=NotRoot, strict=True,
                   reason="becoming a learner and sudo takes root; CI runs "
                          "the tests as root")
def test_sudo_make_run_then_make_run_as_yourself():
    """``sudo make run`` in a learner's clone; then make, as the learner.

    As root, a throwaway user gets a home folder (0750, as Ubuntu's) and
    a copy of the project in it, theirs. ``make run`` as root with
    sudo's variables (SUDO_USER, SUDO_UID, SUDO_GID) and root's PATH
    and python3 (which may live in root's home, named as PYTHON=) works,
    and leaves everything in the clone the learner's, the server running
    as them.
    Then, as the learner: ``make run`` works on that server and changes
    nothing; the venv's pytest runs one small test file (tests/
    test_pure.py; not the whole ``make test``, which would run every
    test inside this one); a ``.env`` root made unreadable to them
    gives one line saying what to do, from a main and from ``make
    db-start``, no traceback; a server made again without ``$USER``
    (``env -i``, cron) lets its admin in; ``make db-stop`` stops it and
    ``make clean`` removes it all, saying exactly what it removed.

    Not root, the test cannot become anyone: it raises ``NotRoot``,
    which it is marked to expect.
    """
    if os.geteuid() != 0:
        raise NotRoot("only root may run commands as another user")
    with throwaway_user() as user:
        clone = copy_project(user.pw_dir)
        for top, folders, files in os.walk(clone):
            for name in [top] + [os.path.join(top, f) for f in files]:
                os.lchown(name, user.pw_uid, user.pw_gid)
        as_sudo = {"SUDO_USER": user.pw_name, "SUDO_UID": str(user.pw_uid),
                   "SUDO_GID": str(user.pw_gid)}

        root_python = shutil.which("python3")  # maybe in root's home
        first = ok(make(clone, "run", "PYTHON=" + root_python, env=as_sudo))
        assert "Average age of users: " in first
        assert owners(clone).keys() == {user.pw_uid}, owners(clone)
        data = os.path.join(clone, ".localdb")
        assert not os.path.islink(data)
        pid = localdb.server_pid(data)
        with open(f"/proc/{pid}/status") as status:
            uids = next(line for line in status if line.startswith("Uid:"))
        assert uids.split()[1:] == [str(user.pw_uid)] * 4

        again = make(clone, "run", user=user.pw_name)
        assert "Average age of users: " in ok(again)
        assert ("user_data.csv: 0 loaded, 1000 already present, 0 rejected;"
                " nothing changed\n") in again.stderr
        assert localdb.server_pid(data) == pid

        tests = subprocess.run(
            ["runuser", "-u", user.pw_name, "--", ".venv/bin/python", "-m",
             "pytest", "-o", "addopts=", "-q", "-p", "no:cacheprovider",
             "tests/test_pure.py"],
            cwd=clone, capture_output=True, text=True, timeout=MAKE_TIMEOUT)
        assert tests.returncode == 0, tests.stdout + tests.stderr
        assert re.search(r"^[0-9]+ passed", tests.stdout, re.M), tests.stdout

        env = os.path.join(clone, ".env")
        os.chown(env, 0, 0)  # as an earlier `sudo make run` left it
        for command in (["runuser", "-u", user.pw_name, "--",
                         ".venv/bin/python", "1-main.py"],
                        ["runuser", "-u", user.pw_name, "--", "make",
                         "--no-print-directory", "db-start"]):
            done = subprocess.run(command, cwd=clone, capture_output=True,
                                  text=True, timeout=MAKE_TIMEOUT)
            assert done.returncode != 0
            assert done.stderr.startswith(
                f"error: cannot read {env}: Permission denied. Make it a "
                f"file you can read (sudo chown "), done.stderr
            assert "Traceback" not in done.stderr
        os.chown(env, user.pw_uid, user.pw_gid)

        assert ok(make(clone, "db-stop", user=user.pw_name)) == (
            "project-local server stopped\n")
        assert localdb.server_pid(data) is None
        shutil.rmtree(data)  # a new server's, made without $USER:
        without_user = subprocess.run(
            ["runuser", "-u", user.pw_name, "--", "env", "-i",
             "PATH=/usr/bin:/bin", "make", "--no-print-directory",
             "db-start"], cwd=clone, capture_output=True, text=True,
            timeout=MAKE_TIMEOUT)
        assert ok(without_user).startswith("project-local server on ")
        assert ok(make(clone, "db-stop", user=user.pw_name)) == (
            "project-local server stopped\n")

        assert ok(make(clone, "clean", user=user.pw_name)) == (
            "project-local cluster: nothing to remove\n"
            "project-local server: removed its data (.localdb/), removed "
            "its .env\n"
            "rm -rf .venv __pycache__ .pytest_cache bench/data\n")
        for name in (".venv", ".env", ".localdb"):
            assert not os.path.lexists(os.path.join(clone, name)), name


# --- the cluster, tried and stopped -------------------------------------

def test_cluster_tried_and_stopped_then_make_run():
    """``make run``, ``make cluster``, ``make run``, ``make cluster-stop``,
    ``make run``: each works, on the server .env names at that point.

    The cluster gets its own copy of the data (``make run`` loads the
    1000 users there); ``make cluster-stop`` stops it and removes its
    .env, not its data, and the next ``make run`` is on the local server
    again, whose data is still there (nothing loaded again). ``make
    cluster`` starts it again with its data. A cluster stopped without
    ``make cluster-stop`` (a reboot) leaves its .env: ``make db-start``
    then starts the cluster. ``make clean`` removes both, saying so.
    As root, in this copy (mode 0700, mysql may not enter it), the
    cluster's data goes where mysql can reach it, as the server's does.
    """
    with project_copy() as project:
        local = os.path.join(project, ".localdb")
        data = os.path.join(project, ".cluster")

        first = make(project, "run")
        assert "Average age of users: " in ok(first)
        assert env_marker(project) == localdb.MARKER
        assert count_rows(local) == 1000

        started = ok(make(project, "cluster"))
        assert env_marker(project) == localdb.CLUSTER_MARKER
        with open(os.path.join(project, ".env")) as env:
            assert env.read().splitlines()[1] == (
                "# Written by make cluster for the project-local cluster. To "
                "use a server of your own, replace it with a copy of "
                ".env.example, filled in.")
        assert started.splitlines()[-1] == (
            "project-local cluster on " + env_values(project)["MYSQL_HOST"]
            + " (data in .cluster/)")
        nodes = cluster.members(data)
        assert len(nodes) == 3 and all(node.pid for node in nodes)
        if os.geteuid() == 0:
            assert os.path.islink(data)
            assert os.path.dirname(os.path.realpath(data)) == (
                localdb.ELSEWHERE)

        on_cluster = make(project, "run")
        assert "Average age of users: " in ok(on_cluster)
        assert ("user_data.csv: 1000 loaded, 0 already present, 0 rejected"
                "\n") in on_cluster.stderr
        assert [count_rows(node.folder) for node in nodes] == [1000] * 3

        assert ok(make(project, "cluster-stop")) == (
            "project-local cluster stopped; removed its .env, so make run "
            "uses the project-local server again (make cluster starts the "
            "cluster again, with its data)\n")
        assert not any(node.pid for node in nodes)
        assert env_marker(project) is None
        assert os.path.isdir(nodes[0].datadir)

        back = make(project, "run")
        assert "Average age of users: " in ok(back)
        assert ("user_data.csv: 0 loaded, 1000 already present, 0 rejected;"
                " nothing changed\n") in back.stderr
        assert env_marker(project) == localdb.MARKER

        ok(make(project, "cluster"))
        assert env_marker(project) == localdb.CLUSTER_MARKER
        assert [count_rows(node.folder) for node in nodes] == [1000] * 3
        cluster.stop(data)  # as a reboot does: the cluster's .env stays
        assert env_marker(project) == localdb.CLUSTER_MARKER
        rebooted = ok(make(project, "db-start"))
        assert rebooted.splitlines()[-1].startswith(
            "project-local cluster on ")
        assert all(node.pid for node in nodes)

        homes = [os.path.realpath(local), os.path.realpath(data)]
        assert ok(make(project, "clean")).splitlines()[:2] == [
            "project-local cluster: stopped it, removed its data "
            "(.cluster/), removed its .env",
            "project-local server: stopped it, removed its data "
            "(.localdb/)"]
        for path in homes + [local, data, os.path.join(project, ".env")]:
            assert not os.path.lexists(path), path


def test_db_start_with_your_own_env_says_what_to_do():
    """With a .env of the learner's own, ``make db-start`` starts nothing
    and says so, naming the server and how to use the project's own.

    The advice works: the .env moved away as it says, ``make run`` starts
    the project-local server and writes a .env whose header says who
    wrote it and how to use a server of one's own; the learner's file
    is untouched.
    """
    with project_copy() as project:
        mine = "MYSQL_HOST=db.example.com\nMYSQL_PORT=3306\nMYSQL_USER=me\n"
        with open(os.path.join(project, ".env"), "w") as env:
            env.write(mine)
        assert ok(make(project, "db-start")) == (
            "using your own server named in .env (MYSQL_HOST=db.example.com,"
            " MYSQL_PORT=3306); make db-start starts nothing for it. To use "
            "the project's own server instead, move that .env away (mv .env "
            ".env.mine) and run make run\n")
        assert not os.path.lexists(os.path.join(project, ".localdb"))

        subprocess.run(["mv", ".env", ".env.mine"], cwd=project, check=True)
        assert "Average age of users: " in ok(make(project, "run"))
        with open(os.path.join(project, ".env")) as env:
            header = env.read().splitlines()[:2]
        assert header == [
            localdb.MARKER,
            "# Written by make run for the project-local server. To use a "
            "server of your own, replace it with a copy of .env.example, "
            "filled in."]
        with open(os.path.join(project, ".env.mine")) as env:
            assert env.read() == mine


# --- a SQL shell, a clean table, the list of targets ---------------------

def test_make_sql_and_make_reset():
    """``make sql`` opens the client on the server .env names, logged in,
    in ALX_prodev; ``make reset`` drops user_data and nothing else.

    The client (one that logs its arguments and input, first on PATH)
    answers the count and sum of the ages the server holds; the password
    is on no command line and in no file left behind in the project or
    /tmp. After
    ``make reset`` the table is gone, the database and server stay; again,
    it says there is nothing to drop; ``make run`` loads the 1000 users
    again.
    """
    with project_copy() as project:
        ok(make(project, "run"))
        data = os.path.join(project, ".localdb")
        values = env_values(project)
        expected = localdb.admin(data, "SELECT COUNT(*), SUM(age) FROM "
                                 "ALX_prodev.user_data")
        folder = os.path.join(project, "client")
        shell = make(project, "sql", path=logging_client(folder),
                     stdin="SELECT COUNT(*), SUM(age) FROM user_data;\n")
        assert ok(shell).splitlines()[-1] == expected.strip()
        assert shell.stderr == (
            f"mariadb on 127.0.0.1:{values['MYSQL_PORT']} as 'alx', "
            "database ALX_prodev; quit with \\q\n")
        with open(os.path.join(folder, "argv")) as argv:
            calls = argv.read().splitlines()
        assert len(calls) == 1 and re.fullmatch(
            r"--defaults-file=/dev/fd/[0-9]+", calls[0]), calls
        assert values["MYSQL_PASSWORD"] not in calls[0]
        for top, folders, files in os.walk(project):  # not in .venv
            folders[:] = set(folders) - {".localdb", "client"}
            for path in [os.path.join(top, name) for name in files]:
                if path != os.path.join(project, ".env"):
                    with open(path, "rb") as text:
                        assert values["MYSQL_PASSWORD"].encode() not in (
                            text.read()), path

        address = f"ALX_prodev at 127.0.0.1:{values['MYSQL_PORT']}"
        assert ok(make(project, "reset")) == (
            f"dropped the table user_data of {address}: make run makes "
            "and loads it again\n")
        assert localdb.admin(data, "SELECT COUNT(*) FROM information_schema"
                             ".TABLES WHERE TABLE_SCHEMA = 'ALX_prodev'"
                             ).strip() == "0"
        assert ok(make(project, "reset")) == (
            f"no table user_data in {address}: nothing to drop\n")
        assert os.path.exists(os.path.join(project, ".venv", "installed"))
        again = make(project, "run")
        assert ("user_data.csv: 1000 loaded, 0 already present, 0 rejected"
                "\n") in ok(again) + again.stderr
        assert count_rows(data) == 1000


def test_make_alone_lists_every_target():
    """``make`` alone and ``make help`` print the same list: one line a
    target, each of the Makefile's .PHONY targets, and do nothing else."""
    with project_copy(venv=False) as project:
        before = sorted(os.listdir(project))
        listed = ok(make(project))
        assert ok(make(project, "help")) == listed
        with open(os.path.join(project, "Makefile")) as makefile:
            text = makefile.read()
        phony = re.search(r"^\.PHONY: help ((?:.*\\\n)*.*)$", text, re.M)
        targets = ["help"] + phony.group(1).replace("\\\n", " ").split()
        assert [line.split()[1] for line in listed.splitlines()] == targets
        for line in listed.splitlines():
            assert re.fullmatch(r"  make [a-z-]+ +\S.*", line), line
        assert sorted(os.listdir(project)) == before


def test_an_env_that_is_a_folder_gets_one_line():
    """A .env that cannot be read as a file (here, a folder) stops
    ``make db-start`` and ``make clean`` with one line saying what to do."""
    with project_copy() as project:
        os.mkdir(os.path.join(project, ".env"))
        env = os.path.join(project, ".env")
        for goal in ("db-start", "clean"):
            done = make(project, goal)
            assert done.returncode != 0
            assert done.stderr.splitlines()[0] == (
                f"error: cannot read {env}: Is a directory. Make it a file "
                f"you can read (sudo chown {pwd.getpwuid(os.geteuid())[0]} "
                f"{env}), or move it away (sudo mv {env} {env}.old) and "
                "run make run"), done.stderr
            assert "Traceback" not in done.stderr
        assert stat.S_ISDIR(os.stat(env).st_mode)
