"""Progress on long loads, as a person at a terminal sees it.

On a terminal (stderr is one), ``./seed.py big.csv`` shows a bar of the
rows sent to the server, the records read, the rate and the time left,
then the commit, and the load's one-line report takes its place at the
end; the bar reaches 100% only once every row is sent. In a pipe there
is no bar at all: stderr is the report alone. Without tqdm, which is
optional, a terminal gets the report alone too, and no warning.
"""
import fcntl
import os
import pty
import re
import struct
import subprocess
import termios
import threading
from collections import namedtuple

import pytest

import loader
from testlab import (DEADLINE, GATE, PYTHON, ROOT, Gate, make_csv,
                     on_screen, run_on_terminal, run_script, wait_for)

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


Bar = namedtuple("Bar", "percent sent read committing")


def bars(written, path):
    """Return each progress bar in ``written``, as a ``Bar``.

    A bar is the text between two carriage returns or line ends, named
    by the file's name: ``big.csv:  42%|████    | 42,000 rows sent,
    47,000 read, 85.3k rows/s, 00:01 left``; once every row is sent,
    ``read`` is followed by ``, committing``. The bar tqdm draws first
    has no ``read``: it is 0 there.
    """
    shape = re.compile(re.escape(os.path.basename(path))
                       + r": +(\d+)%\|[^|]*\| ([\d,]+) rows sent"
                       r"(?:, ([\d,]+) read(, committing)?)?, "
                       r"(?:\?|[\d.]+k?) ?rows/s, (?:\?|[\d:]+) left")
    return [Bar(int(found[1]), number(found[2]), number(found[3] or "0"),
                bool(found[4]))
            for part in re.split("[\r\n]", written)
            if (found := shape.fullmatch(part.rstrip()))]


def number(text):
    """Return the number a bar shows as ``text``: ``42,000`` is 42000."""
    return int(text.replace(",", ""))


def count_rows(connection):
    """Return the rows in user_data, read on ``connection``."""
    connection.commit()  # a fresh snapshot
    cursor = connection.cursor()
    cursor.execute("SELECT COUNT(*) FROM user_data")
    (rows,), = cursor.fetchall()
    cursor.close()
    return rows


def test_terminal_shows_progress_then_the_report(database, big_csv):
    """On a terminal: a bar from 0% to 100% of the exact rows sent, the
    records read ahead of them, then the commit; then the report in its
    place, the last line on the screen."""
    code, written, _ = run_on_terminal([PYTHON, SEED, big_csv])
    assert code == 0, written
    assert [line for line in on_screen(written) if line] == [
        CREATED, report(big_csv)]
    shown = bars(written, big_csv)
    assert shown, "no bar: is tqdm installed? (make installs it)"
    assert shown[0][:2] == (0, 0)
    assert shown[-1] == (100, ROWS, ROWS, True)
    assert all(0 <= bar.sent <= bar.read <= ROWS and bar.percent <= 100
               for bar in shown[1:])
    for counts in ([bar.sent for bar in shown], [bar.read for bar in shown]):
        assert counts == sorted(counts)  # never backwards
    assert all(bar.sent == ROWS for bar in shown if bar.committing)
    assert count_rows(database) == ROWS


class Terminal:
    """A command run on a pseudo-terminal, read as it writes (a thread)."""

    def __init__(self, command):
        """Start ``command`` with stdout and stderr on a terminal."""
        self.side, child = pty.openpty()
        fcntl.ioctl(child, termios.TIOCSWINSZ,
                    struct.pack("HHHH", 24, 100, 0, 0))  # 100 columns
        try:
            self.process = subprocess.Popen(
                command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=child,
                stderr=child)
        finally:
            os.close(child)
        self.got = bytearray()
        self.reading = threading.Thread(target=self._read, daemon=True)
        self.reading.start()

    def _read(self):
        """Keep what the command writes, until its side closes."""
        while True:
            try:
                data = os.read(self.side, 1 << 16)
            except OSError:  # EIO: closed
                return
            if not data:
                return
            self.got += data

    def written(self):
        """Return what the command has written so far."""
        return bytes(self.got).decode(errors="replace")

    def wait(self):
        """Wait for the command's end; return its exit code."""
        try:
            code = self.process.wait(timeout=DEADLINE)
            self.reading.join(timeout=DEADLINE)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            os.close(self.side)
        return code


HELD = loader.FIRST_CHUNK_ROWS + loader.CHUNK_ROWS + 1  # a row past the
# first chunk, whatever the chunks' sizes (they end early, at
# FIRST_CHUNK_ROWS, while the server waits: that depends on timing)


def test_bar_ends_when_the_rows_are_in(server, database, big_csv):
    """The bar is not at 100% while rows are still being sent: a trigger
    holds the load at the gate at row ``HELD``. The thread that reads the
    file does not wait for the server, so it reads the file to its end
    meanwhile. The bar then shows the file read, and only the rows of
    the chunks sent before the held one: fewer than ``HELD``, and not
    100%. Once the load goes on: 100% and "committing", then the report.
    """
    assert ROWS > HELD
    cursor = database.cursor()
    cursor.execute(
        "CREATE TRIGGER slow AFTER INSERT ON user_data FOR EACH ROW IF "
        f"(@slow_rows := IFNULL(@slow_rows, 0) + 1) = {HELD:d} "
        f"THEN SET @held = GET_LOCK('{GATE}', 3600); END IF")
    cursor.close()
    gate = Gate(server)
    try:
        terminal = Terminal([PYTHON, SEED, big_csv])
        try:
            gate.waiting()
            wait_for(lambda: "100%" in terminal.written() or any(
                bar.read == ROWS
                for bar in bars(terminal.written(), big_csv)),
                "the bar of the file read to its end")
            last = bars(terminal.written(), big_csv)[-1]
            assert re.findall(r"(\d+)%\|", terminal.written())[-1] != "100"
            assert last.read == ROWS and not last.committing
            assert last.sent < HELD  # the held chunk is not counted yet
            assert last.percent == 100 * last.sent // ROWS
            assert count_rows(database) == 0  # not committed
        finally:
            gate.release()
            code = terminal.wait()
    finally:
        gate.close()
    written = terminal.written()
    assert code == 0, written
    assert [line for line in on_screen(written) if line] == [
        CREATED, report(big_csv)]
    assert bars(written, big_csv)[-1] == (100, ROWS, ROWS, True)
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
