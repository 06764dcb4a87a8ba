"""Each message fits the state the learner is in: one line, what to do.

Tried as a learner tries: a Python without the packages, a ``.env`` of
the project's or of their own naming a server that is down, a variable
set in the environment, a database the user has no rights on, a main
run from another folder, Ctrl-C, a CSV that is missing or a folder, and
a repeated email. The course's own mains (``COURSE_MAINS``, run from a
copy of the project) must give the same one line as ours: they import
``seed`` but call no ``seed.run``.
"""
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys

import pytest

from testlab import GATE, PYTHON, ROOT, Gate, gated_table, run_script
from test_course_files import COURSE_MAINS

import db

OURS, THEIRS = "ours", "the course's"


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    """A copy of the project's modules: ours in ``ours``, with the course's
    mains over ours in ``the course's``; no .env, no .venv, no CSV."""
    folders = {}
    for kind in (OURS, THEIRS):
        folder = folders[kind] = tmp_path_factory.mktemp("copy")
        for path in glob.glob(os.path.join(ROOT, "*.py")):
            shutil.copy(path, folder)
        if kind == THEIRS:
            for name, text in COURSE_MAINS.items():
                (folder / name).write_text(text)
    return folders


def without_settings(**values):
    """Return this environment without any MYSQL_* variable but
    ``values``."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("MYSQL_") and name != "PYTHONPATH"}
    env.update(values)
    return env


def run(command, cwd, env):
    """Run ``command`` to its end; return the completed process."""
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def one_line(done, code=1):
    """Check the process exited ``code`` with one line on stderr and no
    traceback; return that line."""
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


# A Python without the packages -----------------------------------------

@pytest.fixture(scope="module")
def bare_python(tmp_path_factory):
    """A virtual environment of its own, without a package in it (the
    same Python as the project's .venv); the path of its python."""
    folder = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.base_prefix + "/bin/python3", "-m", "venv",
                    "--without-pip", str(folder)], check=True)
    python = str(folder / "bin" / "python")
    assert run([python, "-c", "import mysql"], ROOT,
               without_settings()).returncode == 1  # it lacks it, really
    return python


@pytest.fixture(scope="module")
def connector_only(tmp_path_factory):
    """A folder that holds the project's mysql-connector-python and no
    python-dotenv: with it on PYTHONPATH, a Python has the one only."""
    import mysql
    folder = tmp_path_factory.mktemp("connector-only")
    os.symlink(os.path.dirname(mysql.__path__[0]) + "/mysql",
               folder / "mysql")
    return str(folder)


@pytest.mark.parametrize("kind", [OURS, THEIRS])
@pytest.mark.parametrize("lacks", ["both", "dotenv"])
def test_missing_package_says_which_and_how_to_run(copy, bare_python,
                                                   connector_only, kind,
                                                   lacks):
    """``python3 1-main.py`` with a Python that lacks the packages: one
    line that names that Python, what it lacks, and both ways to run
    with the environment's Python; the course's 1-main.py too."""
    env = without_settings()
    if lacks == "dotenv":
        env["PYTHONPATH"] = connector_only
    done = run([bare_python, "1-main.py"], copy[kind], env)
    line = one_line(done)
    missing = {"both": "mysql-connector-python and python-dotenv",
               "dotenv": "python-dotenv"}[lacks]
    assert line == (f"error: {bare_python} has no {missing}: run "
                    "`.venv/bin/python 1-main.py`, or `. .venv/bin/activate` "
                    "then `python3 1-main.py` (make run makes .venv)")
    assert done.stdout == ""


def test_missing_package_from_another_folder(copy, bare_python, tmp_path):
    """Run from another folder, the advice names the project's paths."""
    folder = copy[OURS]
    done = run([bare_python, str(folder / "1-main.py")], tmp_path,
               without_settings())
    assert one_line(done) == (
        f"error: {bare_python} has no mysql-connector-python and "
        f"python-dotenv: run `{folder}/.venv/bin/python "
        f"{folder}/1-main.py`, or `. {folder}/.venv/bin/activate` then "
        f"`python3 {folder}/1-main.py` (make run makes .venv)")


# A server that does not answer -------------------------------------------

LOCAL = "# project-local server: written by scripts/localdb.py"
CLUSTER = "# project-local cluster: written by scripts/cluster.py"


@pytest.fixture
def refusing():
    """A loopback port bound to nothing that listens: connecting to it is
    refused at once. Its number."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    yield taken.getsockname()[1]
    taken.close()


def write_env(folder, first_line, port):
    """Write a .env in ``folder`` naming the refusing ``port``, under
    ``first_line`` (a marker, or the learner's own comment)."""
    (folder / ".env").write_text(
        f"{first_line}\nMYSQL_HOST=127.0.0.1\nMYSQL_PORT={port}\n"
        "MYSQL_USER=alx\nMYSQL_PASSWORD=not-the-real-one\n"
        "MYSQL_DATABASE=ALX_prodev\n", encoding="utf-8")


ENV_KINDS = {
    "local": (LOCAL, "; the project's server is not running: make db-start "
              "starts it"),
    "cluster": (CLUSTER, "; the project's cluster is not running: make "
                "cluster starts it again (or make cluster-stop, then make "
                "run, for the single local server)"),
    "own": ("# my own server", "; check that the server your .env names is "
            "running; to use the project's own server instead, move your "
            ".env away (mv .env .env.mine) and run make run"),
}


@pytest.mark.parametrize("kind", [OURS, THEIRS])
@pytest.mark.parametrize("env_kind", ENV_KINDS)
def test_server_down_advice_fits_who_wrote_env(copy, refusing, kind,
                                               env_kind, tmp_path):
    """A .env naming a server that is down: the advice names the command
    that starts that server (the project's server, the project's
    cluster), or for the learner's own, how to use the project's."""
    folder = tmp_path / "project"
    shutil.copytree(copy[kind], folder)
    first_line, advice = ENV_KINDS[env_kind]
    write_env(folder, first_line, refusing)
    line = one_line(run([PYTHON, "1-main.py"], folder, without_settings()))
    assert line.startswith(f"error: cannot use MySQL at 127.0.0.1:{refusing} "
                           "as user 'alx': ")
    assert line.endswith(advice)
    assert "not-the-real-one" not in line


def test_server_down_without_env_says_make_run(monkeypatch, tmp_path):
    """No .env, no MYSQL_* variable: the defaults name no server of the
    project's; make run starts one. (In this process: whatever listens
    on the default port 3306 of this machine cannot change the test.)"""
    monkeypatch.setattr(db, "ENV", str(tmp_path / ".env"))
    monkeypatch.setattr(db, "_environment", [{}])
    assert db._not_answering() == (
        "no .env names a server: make run starts the project's own")
    write_env(tmp_path, LOCAL, 3307)  # control: the same, with a .env
    assert db._not_answering() == ENV_KINDS["local"][1][2:]


@pytest.mark.parametrize("kind", [OURS, THEIRS])
def test_variable_from_the_environment_is_named(copy, refusing, kind,
                                                tmp_path):
    """``export MYSQL_PORT=...`` over the project's .env: the advice says
    the port came from the environment, which wins over .env."""
    folder = tmp_path / "project"
    shutil.copytree(copy[kind], folder)
    write_env(folder, LOCAL, 3307)
    line = one_line(run([PYTHON, "1-main.py"], folder,
                        without_settings(MYSQL_PORT=str(refusing))))
    assert line.startswith(f"error: cannot use MySQL at 127.0.0.1:{refusing} "
                           "as user 'alx': ")
    assert line.endswith(
        "; is the server running and answering? check MYSQL_HOST in .env, "
        f"and MYSQL_PORT='{refusing}', set in the environment, where it wins "
        "over .env")


def test_password_from_the_environment_is_named_not_shown(
        copy, server, tmp_path):
    """A wrong password set in the environment: said, never shown."""
    folder = tmp_path / "project"
    shutil.copytree(copy[OURS], folder)
    (folder / ".env").write_text(
        LOCAL + "\n" + "".join(f"{name}={value}\n" for name, value in
                               server.env.items()
                               if name != "MYSQL_PASSWORD"))
    line = one_line(run([PYTHON, "1-main.py"], folder, without_settings(
        MYSQL_PASSWORD="wrong-and-secret")))
    assert "Access denied" in line and "wrong-and-secret" not in line
    assert line.endswith("; check MYSQL_USER in .env, and MYSQL_PASSWORD, "
                         "set in the environment, where it wins over .env")


# A database the user has no rights on ------------------------------------

RIGHTS = ("the user has no rights on that database: check "
          "MYSQL_DATABASE='mydb', set in the environment, where it wins over "
          ".env, and name ALX_prodev or a database whose name starts "
          "ALX_prodev_ (the project's server grants those alone), or grant "
          "the user rights")


@pytest.mark.parametrize("kind", [OURS, THEIRS])
@pytest.mark.parametrize("script", ["0-main.py", "1-main.py"])
def test_no_rights_on_the_database_says_so(copy, server, kind, script):
    """MYSQL_DATABASE=mydb on the project's server, where the user has
    rights on ALX_prodev and ALX_prodev_* alone: one line that says so,
    from our mains and the course's (error 1044)."""
    line = one_line(run([PYTHON, script], copy[kind],
                        dict(os.environ, MYSQL_DATABASE="mydb")))
    assert "Access denied for user 'alx'@'127.0.0.1' to database 'mydb'" \
        in line
    assert line.startswith("error: ") and line.endswith("; " + RIGHTS)


# Ctrl-C ------------------------------------------------------------------

GATED = "ALX_prodev_ctrl_c"


def interrupted(gate, command, cwd, env=None):
    """Run ``command`` until its query waits at ``gate``, then press Ctrl-C.

    Return the ended process, the id of its connection that waited, and
    what it wrote on stderr. The process is killed if it does not end.
    """
    process = subprocess.Popen(command, cwd=cwd, env=env, text=True,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        waiting = gate.waiting()
        process.send_signal(signal.SIGINT)
        err = process.communicate(timeout=120)[1]
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process, waiting, err


@pytest.fixture(scope="module")
def gated(server):
    """A database whose 3,000th row waits at the gate."""
    gated_table(server, GATED, 5_000, 3_000)
    yield GATED
    server.admin(f"DROP DATABASE `{GATED}`")


@pytest.mark.parametrize("kind, script", [(OURS, "4-stream_ages.py"),
                                          (OURS, "3-main.py"),
                                          (THEIRS, "3-main.py")])
def test_ctrl_c_is_one_line(copy, server, gated, kind, script):
    """Ctrl-C while a main reads (its query waits at the gate): one line,
    no traceback, and the exit of an interrupted program (the shell's
    status 130: killed by SIGINT), with its connection closed."""
    gate = Gate(server)
    try:
        process, reading, err = interrupted(
            gate, [PYTHON, script], cwd=copy[kind],
            env=dict(os.environ, MYSQL_DATABASE=gated))
        assert process.returncode == -signal.SIGINT, err
        assert err == ("stopped (Ctrl-C): run it again to start over (a "
                       "load stopped midway keeps none of its rows)\n")
    finally:
        gate.close()
    server.wait_gone({reading})


# A CSV that is not there -------------------------------------------------

@pytest.mark.parametrize("kind", [OURS, THEIRS])
def test_main_run_from_another_folder_says_where(copy, server, kind,
                                                 tmp_path):
    """``cd /tmp && python3 <clone>/0-main.py``: the course's main loads
    'user_data.csv' from the current folder. The line says where it
    looked, and to run the script from the project's folder."""
    folder = tmp_path / "project"
    shutil.copytree(copy[kind], folder)
    shutil.copy(os.path.join(ROOT, "user_data.csv"), folder)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    database = "ALX_prodev_elsewhere"
    try:
        done = run([PYTHON, str(folder / "0-main.py")], elsewhere,
                   dict(os.environ, MYSQL_DATABASE=database))
    finally:
        server.admin(f"DROP DATABASE IF EXISTS `{database}`")
    assert one_line(done) == (
        f"error: user_data.csv: no such file at {elsewhere}/user_data.csv: "
        f"run the script from {folder}, where user_data.csv is")


@pytest.mark.parametrize("what", ["missing", "folder"])
def test_seed_checks_the_file_before_the_table(server, tmp_path, what):
    """``./seed.py nothere.csv``, or a folder: one line, and no "Table
    user_data created successfully" before it."""
    name = "nothere.csv" if what == "missing" else "a-folder"
    if what == "folder":
        (tmp_path / name).mkdir()
    done = run_script("seed.py", name, cwd=tmp_path)
    assert done.stdout == ""
    assert one_line(done) == {
        "missing": f"error: nothere.csv: no such file at {tmp_path}/"
        'nothere.csv: name a CSV file with the header "name","email","age"',
        "folder": 'error: a-folder is a folder, not a file: name a CSV file '
        'with the header "name","email","age"'}[what]


def test_ctrl_c_during_a_load_keeps_none_of_it(server, database):
    """Ctrl-C while ./seed.py loads (a trigger holds its 500th row at the
    gate): one line, and the table as it was: the load is undone."""
    cursor = database.cursor()
    cursor.execute(
        "CREATE TRIGGER held AFTER INSERT ON user_data FOR EACH ROW IF "
        "(@held_rows := IFNULL(@held_rows, 0) + 1) = 500 THEN "
        f"SET @held = GET_LOCK('{GATE}', 3600); END IF")
    cursor.close()
    gate = Gate(server)
    try:
        process, loading, err = interrupted(gate, [PYTHON, "seed.py"],
                                            cwd=ROOT)
    finally:
        gate.close()
    assert process.returncode == -signal.SIGINT, err
    assert err == ("stopped (Ctrl-C): run it again to start over (a load "
                   "stopped midway keeps none of its rows)\n")
    server.wait_gone({loading})
    database.commit()  # a fresh snapshot
    cursor = database.cursor()
    cursor.execute("SELECT COUNT(*) FROM user_data")
    assert cursor.fetchall() == [(0,)]
    cursor.close()


def test_bench_without_matplotlib_says_so_before_it_starts():
    """``bench/run.py`` run by hand with a Python that cannot draw its
    charts says what to install at once, not after minutes of work."""
    blocked = ("import runpy, sys; sys.modules['matplotlib'] = None; "
               "sys.path.insert(0, 'bench'); "
               "sys.argv = ['bench/run.py']; "
               "runpy.run_path('bench/run.py', run_name='__main__')")
    line = one_line(run([PYTHON, "-c", blocked], ROOT,
                        without_settings(MYSQL_PORT="1")))
    assert "matplotlib" in line and "requirements-bench.txt" in line, line
