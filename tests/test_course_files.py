"""The course's own published main scripts, run unchanged on our modules.

Learners and the course's checker run the course's files, not ours. A
copy of the project gets the course's four main scripts in place of
ours, byte for byte as the course publishes them (below), and each runs
as the course shows: ``0-main.py`` prints its four lines, ``1-main.py``
six users (it calls the module ``0-stream_users`` itself), ``2-main.py``
and ``3-main.py`` print every user, or stop quietly when piped to
``head``; ``4-stream_ages.py`` is run as a script. On a terminal each
shows the same, with tqdm (the load's bar is erased) or without it.
"""
import glob
import os
import shutil
import subprocess

import pytest

from testlab import PYTHON, ROOT, on_screen, run_on_terminal, run_piped
from test_course import expected_users, query
from test_progress import WITHOUT_TQDM

COURSE_MAINS = {
    "0-main.py": (
        "#!/usr/bin/python3\n"
        "\n"
        "seed = __import__('seed')\n"
        "\n"
        "connection = seed.connect_db()\n"
        "if connection:\n"
        "    seed.create_database(connection)\n"
        "    connection.close()\n"
        "    print(f\"connection successful\")\n"
        "\n"
        "    connection = seed.connect_to_prodev()\n"
        "\n"
        "    if connection:\n"
        "        seed.create_table(connection)\n"
        "        seed.insert_data(connection, 'user_data.csv')\n"
        "        cursor = connection.cursor()\n"
        "        cursor.execute(f\"SELECT SCHEMA_NAME FROM "
        "INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = 'ALX_prodev';\")\n"
        "        result = cursor.fetchone()\n"
        "        if result:\n"
        "            print(f\"Database ALX_prodev is present \")\n"
        "        cursor.execute(f\"SELECT * FROM user_data LIMIT 5;\")\n"
        "        rows = cursor.fetchall()\n"
        "        print(rows)\n"
        "        cursor.close()\n"),
    "1-main.py": (
        "#!/usr/bin/python3\n"
        "from itertools import islice\n"
        "stream_users = __import__('0-stream_users')\n"
        "\n"
        "# iterate over the generator function and print only the first 6 "
        "rows\n"
        "\n"
        "for user in islice(stream_users(), 6):\n"
        "    print(user)\n"),
    "2-main.py": (
        "#!/usr/bin/python3\n"
        "import sys\n"
        "processing = __import__('1-batch_processing')\n"
        "\n"
        "##### print processed users in a batch of 50\n"
        "try:\n"
        "    processing.batch_processing(50)\n"
        "except BrokenPipeError:\n"
        "    sys.stderr.close()\n"),
    "3-main.py": (
        "#!/usr/bin/python3\n"
        "import sys\n"
        "lazy_paginator = __import__('2-lazy_paginate').lazy_pagination\n"
        "\n"
        "\n"
        "try:\n"
        "    for page in lazy_paginator(100):\n"
        "        for user in page:\n"
        "            print(user)\n"
        "\n"
        "except BrokenPipeError:\n"
        "    sys.stderr.close()\n"),
}


@pytest.fixture(scope="module")
def course_copy(server, tmp_path_factory):
    """A copy of the project with the course's mains over ours.

    The course's 0-main.py has been run in it, on no ALX_prodev: its
    result is returned with the folder.
    """
    server.admin("DROP DATABASE IF EXISTS ALX_prodev")
    folder = tmp_path_factory.mktemp("course")
    for path in glob.glob(os.path.join(ROOT, "*.py")) + [
            os.path.join(ROOT, "user_data.csv")]:
        shutil.copy(path, folder)
    for name, text in COURSE_MAINS.items():
        (folder / name).write_text(text)
    seeded = run(folder, "0-main.py")
    return folder, seeded


def run(folder, script, head=None):
    """Run ``script`` in ``folder`` as the course does, on ALX_prodev.

    With ``head``, its output goes through ``head -n <head>``. Return
    the script's own exit code, stdout and stderr.
    """
    env = dict(os.environ, MYSQL_DATABASE="ALX_prodev")
    if head:
        return run_piped([PYTHON, script], head, cwd=folder, env=env)
    done = subprocess.run([PYTHON, script], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout, done.stderr


def run_at_terminal(folder, script, piped_stdout, tqdm=True):
    """Run ``script`` as ``run`` does, but on a pseudo-terminal.

    Its stderr is the terminal, and its stdout too unless
    ``piped_stdout``; without ``tqdm``, tqdm is made unimportable first.
    Return the exit code, what the terminal got and the piped stdout
    (``run_on_terminal``).
    """
    command = [PYTHON, script] if tqdm else [PYTHON, "-c", WITHOUT_TQDM,
                                             script]
    return run_on_terminal(command, cwd=folder, piped_stdout=piped_stdout,
                           env=dict(os.environ, MYSQL_DATABASE="ALX_prodev"))


@pytest.fixture
def prodev(course_copy, configure):
    """The course's copy, with this process's settings on ALX_prodev."""
    configure(MYSQL_DATABASE="ALX_prodev")
    return course_copy[0]


def test_course_mains_are_in_the_copy(prodev):
    """The copy runs the course's files, not ours."""
    for name, text in COURSE_MAINS.items():
        assert (prodev / name).read_text() == text
        with open(os.path.join(ROOT, name)) as ours:
            assert ours.read() != text


def test_0_main_prints_the_course_lines(course_copy, prodev):
    """The course's 0-main.py: its four lines on stdout, line for line.

    The fifth line is the rows the same query gives on the server. The
    load's report goes to stderr, alone.
    """
    code, out, err = course_copy[1]
    assert code == 0, err
    assert out.splitlines() == [
        "connection successful", "Table user_data created successfully",
        "Database ALX_prodev is present ",
        repr(query("SELECT * FROM user_data LIMIT 5;"))]
    assert err == "user_data.csv: 1000 loaded, 0 already present, 0 rejected\n"


def test_1_main_calls_the_module(prodev):
    """The course's 1-main.py calls the module: six users, in key order."""
    code, out, err = run(prodev, "1-main.py")
    assert (code, err) == (0, "")
    assert out.splitlines() == [str(user) for user in expected_users()[:6]]


def test_module_and_function_give_the_same_stream(prodev):
    """``module()`` and ``module.stream_users()`` are the same generator."""
    module = __import__("0-stream_users")
    from_module, from_function = module(), module.stream_users()
    assert type(from_module) is type(from_function)
    assert from_module.__name__ == "stream_users"
    assert list(from_module) == list(from_function) == expected_users()


def over_25():
    """Return the printed lines the course's 2-main.py should give."""
    return [str(user) for user in expected_users() if user["age"] > 25]


@pytest.mark.parametrize("script, expected", [
    ("2-main.py", over_25),
    ("3-main.py", lambda: [str(user) for user in expected_users()]),
])
def test_2_and_3_main_print_everything(prodev, script, expected):
    """The course's 2-main.py and 3-main.py, read to the end."""
    code, out, err = run(prodev, script)
    assert (code, err) == (0, "")
    assert out.splitlines() == expected()


@pytest.mark.parametrize("script, expected", [
    ("2-main.py", over_25),
    ("3-main.py", lambda: [str(user) for user in expected_users()]),
])
def test_2_and_3_main_piped_to_head(prodev, server, script, expected):
    """The course's 2-main.py and 3-main.py into ``head -n 5``: quiet.

    Nothing on stderr, no connection left on the server. The exit code
    is 0, or 120: the course's mains close stderr on a broken pipe, and
    Python then exits 120 when the last flush of stdout fails too.
    """
    before = server.ids()
    code, out, err = run(prodev, script, head=5)
    assert err == ""
    assert code in (0, 120)
    assert out.splitlines() == expected()[:5]
    server.wait_settled(before)


def test_4_stream_ages_as_a_script(prodev):
    """4-stream_ages.py run in the copy prints the table's average age."""
    code, out, err = run(prodev, "4-stream_ages.py")
    assert (code, err) == (0, "")
    ((average,),) = query("SELECT ROUND(AVG(age), 2) FROM user_data")
    assert out == f"Average age of users: {average}\n"


SCRIPTS = [*COURSE_MAINS, "4-stream_ages.py"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_mains_without_tqdm_on_a_terminal(prodev, script):
    """Without tqdm, on a terminal: stdout is the same, byte for byte, as
    in a pipe, and the terminal gets what stderr got there: no bar, no
    warning. ``0-main.py`` loads the CSV again in both runs."""
    code, out, err = run(prodev, script)
    assert run_at_terminal(prodev, script, True, tqdm=False) == (
        code, err.replace("\n", "\r\n"), out)


@pytest.mark.parametrize("script", SCRIPTS)
def test_mains_on_a_terminal_show_what_a_pipe_gets(prodev, script):
    """With tqdm, stdout and stderr on a terminal: once the script ends,
    the screen shows the lines it prints in a pipe (without the spaces
    at their ends), in order; a load's bar is gone."""
    code, out, err = run(prodev, script)
    shown_code, written, _ = run_at_terminal(prodev, script, False)
    assert shown_code == code
    lines = out.splitlines()
    if err:  # the load's report, right after the table's line
        lines.insert(lines.index("Table user_data created successfully") + 1,
                     err.rstrip("\n"))
    assert on_screen(written) == [line.rstrip() for line in lines] + [""]
