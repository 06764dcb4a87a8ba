"""Progress on long loads, as a person at a terminal sees it.

On a terminal (stderr is one), ``./seed.py big.csv`` shows a bar of the
records read, their rate and the time left, and the load's one-line
report takes its place at the end. In a pipe there is no bar at all:
stderr is the report alone. Without tqdm, which is optional, a terminal
gets the report alone too, and no warning.
"""
import os
import re

import pytest

from testlab import PYTHON, ROOT, make_csv, on_screen, run_on_terminal
from testlab import run_script

ROWS = 100_000
SEED = os.path.join(ROOT, "seed.py")
CREATED = "Table user_data created successfully"
# tqdm made unimportable before the script runs: as if not installed.
WITHOUT_TQDM = ("import runpy, sys; sys.modules['tqdm'] = None; "
                "sys.argv[:] = sys.argv[1:]; "
                "runpy.run_path(sys.argv[0], run_name='__main__')")


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory):
    """A generated users CSV of ``ROWS`` rows; its path."""
    return make_csv(tmp_path_factory.mktemp("progress") / "big.csv", ROWS)


def report(path):
    """Return the report of a first load of the ``ROWS`` rows of ``path``."""
    return f"{path}: {ROWS} loaded, 0 already present, 0 rejected"


def bars(written, path):
    """Return ``(percent, records)`` of each progress bar in ``written``.

    A bar is the text between two carriage returns or line ends, named
    by the file's name: ``big.csv:  42%|████    | 42,000 records read,
    85.3k rows/s, 00:01 left``.
    """
    shape = re.compile(re.escape(os.path.basename(path))
                       + r": +(\d+)%\|[^|]*\| ([\d,]+) records read, "
                       r"(?:\?|[\d.]+k?) rows/s, (?:\?|[\d:]+) left")
    return [(int(found[1]), int(found[2].replace(",", "")))
            for part in re.split("[\r\n]", written)
            if (found := shape.fullmatch(part.rstrip()))]


def count_rows(connection):
    """Return the rows in user_data, read on ``connection``."""
    connection.commit()  # a fresh snapshot
    cursor = connection.cursor()
    cursor.execute("SELECT COUNT(*) FROM user_data")
    (rows,), = cursor.fetchall()
    cursor.close()
    return rows


def test_terminal_shows_progress_then_the_report(database, big_csv):
    """On a terminal: a bar from 0% to 100% of the exact records, then
    the report in its place, the last line on the screen."""
    code, written, _ = run_on_terminal([PYTHON, SEED, big_csv])
    assert code == 0, written
    assert [line for line in on_screen(written) if line] == [
        CREATED, report(big_csv)]
    shown = bars(written, big_csv)
    assert shown, "no bar: is tqdm installed? (make installs it)"
    assert shown[0] == (0, 0)
    assert shown[-1] == (100, ROWS)
    assert all(0 <= records <= ROWS and percent <= 100
               for percent, records in shown)
    assert shown == sorted(shown)  # never backwards
    assert count_rows(database) == ROWS


def test_pipe_shows_no_progress(database, big_csv):
    """In a pipe: stdout is the course's line, stderr the report alone."""
    done = run_script("seed.py", big_csv)
    assert done.returncode == 0, done.stderr
    assert done.stdout == CREATED + "\n"
    assert done.stderr == report(big_csv) + "\n"
    assert count_rows(database) == ROWS


def test_terminal_without_tqdm_gets_the_report_alone(database, big_csv):
    """Without tqdm, a terminal gets the report alone: no bar, no warning,
    and stdout, piped, is the course's line."""
    code, written, out = run_on_terminal(
        [PYTHON, "-c", WITHOUT_TQDM, SEED, big_csv], piped_stdout=True)
    assert code == 0, written
    assert out == CREATED + "\n"
    assert written == report(big_csv) + "\r\n"
    assert count_rows(database) == ROWS
