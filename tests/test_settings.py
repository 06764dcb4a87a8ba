"""The README's Configuration section, checked through real processes.

A bad ``MYSQL_DATABASE`` or a bad number in a ``MYSQL_*`` variable stops
a script with one line on stderr, before any connection; ``.env`` beside
the code is read and the environment wins over it; importing a module
or creating a generator connects to nothing.

"No connection" is observed, not assumed: the scripts are pointed at a
loopback port of the test's own that accepts nothing while they run.
A connection a script makes completes in the kernel and waits in that
port's accept queue, where a non-blocking ``accept`` finds it after the
script has exited. Controls show the same setup does see a connection.
No database server is needed.
"""
import glob
import os
import shutil
import socket
import subprocess
import sys

import pytest

from testlab import ROOT

PYTHON = sys.executable
SETTINGS = ("MYSQL_HOST", "MYSQL_PORT", "MYSQL_USER", "MYSQL_PASSWORD",
            "MYSQL_DATABASE", "MYSQL_CONNECT_TIMEOUT", "MYSQL_READ_TIMEOUT",
            "MYSQL_NET_WRITE_TIMEOUT", "MYSQL_SSL_CA", "MYSQL_SSL_VERIFY")

# The one place that reads the settings: adapt it if settings() changes.
# argv[1] is the folder holding seed.py; it prints the database's name.
PROBE = ("import sys; sys.path.insert(0, sys.argv[1]); import db; "
         "print(db.__file__); print(db.settings().database)")


class Listener:
    """A loopback TCP port that accepts only when drained, and counts."""

    def __init__(self):
        """Listen on a free port of 127.0.0.1, accepting nothing yet."""
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(64)
        self.socket.setblocking(False)
        self.port = self.socket.getsockname()[1]

    def drain(self):
        """Accept and close every waiting connection; return how many."""
        accepted = 0
        while True:
            try:
                client, _ = self.socket.accept()
            except BlockingIOError:
                return accepted
            client.close()
            accepted += 1

    def close(self):
        """Stop listening."""
        self.socket.close()


@pytest.fixture
def listener():
    """A counting listener on loopback, closed after the test."""
    counting = Listener()
    yield counting
    counting.close()


def environment(port, **values):
    """Return an environment naming every MYSQL_* setting explicitly.

    Every setting is given (empty ones mean their default), so a ``.env``
    in the project cannot change what a test sees; the host and port are
    the listener's, the timeouts short, in case something does connect.
    """
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("MYSQL_") and name != "PYTHONPATH"}
    env.update(dict.fromkeys(SETTINGS, ""))
    env.update(MYSQL_HOST="127.0.0.1", MYSQL_PORT=str(port),
               MYSQL_CONNECT_TIMEOUT="1", MYSQL_READ_TIMEOUT="1")
    env.update(values)
    return env


def run(command, env, cwd):
    """Run ``command`` to its end; return the completed process."""
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True,
                          encoding="utf-8", errors="replace", timeout=60)


def run_script(name, env, cwd):
    """Run the project script ``name`` with no arguments."""
    return run([PYTHON, os.path.join(ROOT, name)], env, cwd)


def assert_refused(done, variable):
    """The process exited 1 with one line on stderr naming ``variable``."""
    lines = done.stderr.splitlines()
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert len(lines) == 1, done.stderr
    assert variable in lines[0]
    assert done.stdout == ""


BAD_NAMES = {
    "semicolon": "x;DROP",
    "dash": "a-b",
    "backticks": "`x`",
    "65-chars": "a" * 65,
    "non-ascii-letter": "ALX_prod\u00e9v",
    "trailing-newline": "ALX_prodev\n",
    "space": "ALX prodev",
    "dot": "ALX.prodev",
}
VALID_NAMES = {"64-chars": "A" * 30 + "_" + "9" * 33, "one-char": "x"}


@pytest.mark.parametrize("script", ["seed.py", "4-stream_ages.py"])
@pytest.mark.parametrize("name", list(BAD_NAMES.values()),
                         ids=list(BAD_NAMES))
def test_bad_database_name_is_refused_before_connecting(listener, tmp_path,
                                                        script, name):
    """A name that is not 1-64 of [A-Za-z0-9_] stops the script with one
    line naming MYSQL_DATABASE, and nothing connects."""
    env = environment(listener.port, MYSQL_DATABASE=name)
    done = run_script(script, env, tmp_path)
    accepted = listener.drain()
    assert_refused(done, "MYSQL_DATABASE")
    assert accepted == 0


@pytest.mark.parametrize("script", ["0-main.py", "1-main.py", "2-main.py",
                                    "3-main.py"])
def test_bad_database_name_stops_every_main_script(listener, tmp_path,
                                                   script):
    """The course's drivers refuse a bad name the same way."""
    env = environment(listener.port, MYSQL_DATABASE="x;DROP")
    done = run_script(script, env, tmp_path)
    accepted = listener.drain()
    assert_refused(done, "MYSQL_DATABASE")
    assert accepted == 0


@pytest.mark.parametrize("name", list(VALID_NAMES.values()),
                         ids=list(VALID_NAMES))
def test_valid_database_name_is_accepted(listener, tmp_path, name):
    """A name of 1 to 64 letters, digits or underscores is used as is."""
    assert len(VALID_NAMES["64-chars"]) == 64
    env = environment(listener.port, MYSQL_DATABASE=name)
    done = run([PYTHON, "-c", PROBE, ROOT], env, tmp_path)
    assert done.returncode == 0, done.stderr
    where, database = done.stdout.splitlines()
    assert os.path.dirname(where) == ROOT
    assert database == name
    assert listener.drain() == 0


def test_valid_database_name_reaches_the_server(listener, tmp_path):
    """Control: with a valid 64-character name the script does connect
    (so the listener would see a connection a bad name let through)."""
    env = environment(listener.port, MYSQL_DATABASE=VALID_NAMES["64-chars"])
    done = run_script("4-stream_ages.py", env, tmp_path)
    assert listener.drain() >= 1
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert f"127.0.0.1:{listener.port}" in done.stderr


NUMBERS = ("MYSQL_PORT", "MYSQL_CONNECT_TIMEOUT", "MYSQL_READ_TIMEOUT",
           "MYSQL_NET_WRITE_TIMEOUT")
BAD_NUMBERS = ("abc", "0", "-1", "1.5", " 7", "7 ", "0x10", "1e3", "+5")


@pytest.mark.parametrize("value", BAD_NUMBERS, ids=repr)
@pytest.mark.parametrize("variable", NUMBERS)
def test_bad_number_is_refused_before_connecting(listener, tmp_path,
                                                 variable, value):
    """A setting that is not a whole number above 0 stops the script with
    one line naming the variable, and nothing connects."""
    env = environment(listener.port, **{variable: value})
    done = run_script("4-stream_ages.py", env, tmp_path)
    accepted = listener.drain()
    assert_refused(done, variable)
    assert accepted == 0


@pytest.fixture
def scratch(tmp_path):
    """A copy of the project's top-level modules, with a .env of its own.

    The project's own ``.env``, if any, is neither read nor touched.
    """
    folder = tmp_path / "project"
    folder.mkdir()
    modules = glob.glob(os.path.join(ROOT, "*.py"))
    assert any(path.endswith("seed.py") for path in modules)
    for path in modules:
        shutil.copy(path, folder)
    (folder / ".env").write_text("MYSQL_DATABASE=ALX_prodev_fromfile\n"
                                 "MYSQL_PORT=4406\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".env").write_text("MYSQL_DATABASE=ALX_prodev_fromcwd\n",
                                    encoding="utf-8")
    return str(folder), str(elsewhere)


def probe(folder, cwd, **values):
    """Run PROBE against the modules in ``folder``; return the database.

    The environment has no MYSQL_* variable but ``values``.
    """
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("MYSQL_") and name != "PYTHONPATH"}
    env.update(values)
    done = run([PYTHON, "-c", PROBE, folder], env, cwd)
    assert done.returncode == 0, done.stderr
    where, database = done.stdout.splitlines()
    assert os.path.dirname(where) == folder  # the copy, not the project
    return database


def test_dotenv_beside_the_code_is_read(scratch):
    """With MYSQL_DATABASE unset, the name comes from the .env beside
    seed.py, not from one in the working directory."""
    folder, elsewhere = scratch
    assert probe(folder, elsewhere) == "ALX_prodev_fromfile"


def test_environment_wins_over_dotenv(scratch):
    """A variable set in the environment wins over the .env file."""
    folder, elsewhere = scratch
    database = probe(folder, elsewhere, MYSQL_DATABASE="ALX_prodev_fromenv")
    assert database == "ALX_prodev_fromenv"


def test_without_dotenv_the_default_applies(scratch):
    """Control: without the file (and no variable) the default is used,
    so the value seen above did come from the file."""
    folder, elsewhere = scratch
    os.remove(os.path.join(folder, ".env"))
    assert probe(folder, elsewhere) == "ALX_prodev"


IMPORTS = """
import inspect, sys
sys.path.insert(0, sys.argv[1])
import seed, loader, keyset_paginate
tasks = [__import__(name) for name in ('0-stream_users',
         '1-batch_processing', '2-lazy_paginate', '4-stream_ages')]
streams = [tasks[0].stream_users(), tasks[1].stream_users_in_batches(10),
           tasks[2].lazy_paginate(10), tasks[3].stream_user_ages(),
           keyset_paginate.keyset_paginate(10), seed.stream_rows('SELECT 1')]
print(sum(map(inspect.isgenerator, streams)))
if sys.argv[2] == 'next':
    try:
        next(streams[int(sys.argv[3])])
    except Exception as err:
        print(type(err).__name__)
"""
STREAMS = 6


def test_importing_and_creating_generators_connects_to_nothing(listener,
                                                               tmp_path):
    """Importing every module and creating every generator connects to
    nothing; control: advancing one of them does reach the listener."""
    env = environment(listener.port)
    idle = run([PYTHON, "-c", IMPORTS, ROOT, "idle"], env, tmp_path)
    assert idle.returncode == 0, idle.stderr
    assert idle.stdout.split() == [str(STREAMS)]
    assert listener.drain() == 0
    ages = 3  # stream_user_ages()
    moved = run([PYTHON, "-c", IMPORTS, ROOT, "next", str(ages)], env,
                tmp_path)
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.split()[0] == str(STREAMS)
    assert len(moved.stdout.split()) == 2  # next() failed: no server there
    assert listener.drain() >= 1
