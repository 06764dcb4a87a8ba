"""Start each case in a subprocess of its own; show progress on a terminal.

Progress (a line with a running clock) goes to stderr on a terminal
only: in a pipe the benchmark's output is the results alone.
"""
import contextlib
import json
import os
import subprocess
import sys
import threading
import time

import server

BENCH = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(BENCH, "cases.py")
TTY = sys.stderr.isatty()
SHELL = "/bin/sh"


def rotated(items, turn):
    """Return ``items`` rotated by ``turn``: each repetition starts anew."""
    turn %= len(items)
    return list(items[turn:]) + list(items[:turn])


@contextlib.contextmanager
def step(text):
    """Show ``text`` and a running clock on a terminal while a step runs."""
    if not TTY:
        yield
        return
    start, done = time.monotonic(), threading.Event()

    def tick():
        """Rewrite the progress line until the step is done."""
        while not done.wait(0.25):
            sys.stderr.write(f"\r\033[K{text}  {time.monotonic() - start:.0f}"
                             " s")
            sys.stderr.flush()

    sys.stderr.write(f"\r\033[K{text}")
    sys.stderr.flush()
    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()


def note(text):
    """Print a line of progress on a terminal; nothing in a pipe."""
    if TTY:
        print(text, file=sys.stderr)


def run_case(label, case, database, arg, env=None):
    """Run ``case`` in a subprocess against ``database``; return its result.

    ``label`` is the progress line; ``env``, the subprocess's environment
    (``server.environment``), by default that of the project's server.
    The shell in between forks the child: a process started straight
    from this one would inherit this one's peak RSS in its ``ru_maxrss``
    (Linux keeps it across exec), and the cases would all look as big
    as the benchmark itself.
    """
    with step(label):
        done = subprocess.run(
            [SHELL, "-c", '"$@"; exit $?', "sh", sys.executable, CASES,
             case, database, json.dumps(arg)],
            capture_output=True, text=True,
            env=env or server.environment(database),
            cwd=server.ROOT)
    if done.returncode:
        sys.exit(f"error: {label} failed:\n{done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
