"""Start each case in a subprocess of its own; show progress on a terminal.

Progress (a line with a running clock, drawn by tqdm as the loader's
bar is) goes to stderr on a terminal only: in a pipe the benchmark's
output is the results alone.
"""
import contextlib
import json
import os
import subprocess
import sys
import threading

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
    """Show ``text`` and a running clock on a terminal while a step runs.

    A tqdm bar of no total, redrawn every quarter of a second by a
    thread of its own, and erased at the end. Nothing in a pipe, nor
    without tqdm (the loader's ``tqdm_on_terminal``).
    """
    tqdm = server.seed.loader.tqdm_on_terminal()
    if tqdm is None:
        yield
        return
    bar = tqdm(desc=text, bar_format="{desc}  {elapsed}", leave=False,
               dynamic_ncols=True, file=sys.stderr)
    done = threading.Event()

    def tick():
        """Redraw the clock until the step is done."""
        while not done.wait(0.25):
            bar.refresh()

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()
        bar.close()


def note(text):
    """Print a line of progress on a terminal; nothing in a pipe."""
    if TTY:
        print(text, file=sys.stderr)


def run_case(label, case, database, arg, env=None, shows_load=False):
    """Run ``case`` in a subprocess against ``database``; return its result.

    ``label`` is the progress line; ``env``, the subprocess's environment
    (``server.environment``), by default that of the project's server.
    The shell in between forks the child: a process started straight
    from this one would inherit this one's peak RSS in its ``ru_maxrss``
    (Linux keeps it across exec), and the cases would all look as big
    as the benchmark itself.

    A case that ``shows_load`` (one not timed) has the terminal, if
    there is one, for its stderr: the loader's own bar shows the records
    read there, then its report, instead of the step's clock; a case
    that fails has said why there already.
    """
    on_terminal = shows_load and TTY
    if on_terminal:
        note(label)
    with contextlib.nullcontext() if on_terminal else step(label):
        done = subprocess.run(
            [SHELL, "-c", '"$@"; exit $?', "sh", sys.executable, CASES,
             case, database, json.dumps(arg)],
            stdout=subprocess.PIPE, text=True,
            stderr=None if on_terminal else subprocess.PIPE,
            env=env or server.environment(database),
            cwd=server.ROOT)
    if done.returncode:
        sys.exit(f"error: {label} failed" + (
            " (see above)" if on_terminal
            else f":\n{done.stderr.strip()[-2000:]}"))
    return json.loads(done.stdout.strip().splitlines()[-1])
