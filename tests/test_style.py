"""House style: loop limits, shebangs, docstrings and pycodestyle.

These tests read the project's files and need no database.
"""
import ast
import glob
import io
import os
import stat
import subprocess
import sys
import tokenize

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = sorted(glob.glob(os.path.join(ROOT, "*.py"))
                 + glob.glob(os.path.join(ROOT, "scripts", "*.py")))
PY_FILES = SCRIPTS + sorted(glob.glob(os.path.join(ROOT, "tests", "*.py")))
LOOP_LIMITS = {"0-stream_users.py": 1, "1-batch_processing.py": 3,
               "2-lazy_paginate.py": 1, "4-stream_ages.py": 2}
SHEBANG = "#!/usr/bin/env python3"


def short(path):
    """Return ``path`` relative to the repository, for test ids."""
    return os.path.relpath(path, ROOT)


def count_loops(readline):
    """Count the ``for`` and ``while`` keywords among the code's tokens.

    Only NAME tokens count: comments, docstrings and other strings do
    not; a comprehension's ``for`` does.
    """
    return sum(token.type == tokenize.NAME
               and token.string in ("for", "while")
               for token in tokenize.generate_tokens(readline))


def test_loop_counter_counts_code_only():
    """The counter sees loops and comprehensions, not comments or text."""
    source = ('"""A for loop, a while loop."""\n'
              "# for while for\n"
              "text = 'for x in y while z'\n"
              "squares = [n * n for n in range(3)]\n"
              "for item in squares:\n"
              "    while False:\n"
              "        pass\n"
              "total = sum(n for n in squares)\n")
    assert count_loops(io.StringIO(source).readline) == 4


@pytest.mark.parametrize("name, limit", sorted(LOOP_LIMITS.items()))
def test_loop_limit(name, limit):
    """Each task module stays within the course's number of loops."""
    with tokenize.open(os.path.join(ROOT, name)) as source:
        loops = count_loops(source.readline)
    print(f"{name}: {loops} loop(s), at most {limit}")
    assert loops <= limit


def test_files_found():
    """The file lists below are not empty: the checks do check something."""
    names = set(map(short, SCRIPTS))
    assert {"seed.py", "0-main.py", "4-stream_ages.py",
            os.path.join("scripts", "make_users_csv.py")} <= names
    assert os.path.join("tests", "conftest.py") in set(map(short, PY_FILES))


@pytest.mark.parametrize("path", SCRIPTS, ids=short)
def test_script_has_shebang_and_is_executable(path):
    """Every script starts with the env shebang and may be run directly."""
    with open(path, encoding="utf-8") as source:
        first = source.readline().rstrip("\n")
    assert first == SHEBANG
    assert os.stat(path).st_mode & stat.S_IXUSR, f"{short(path)}: chmod +x"


@pytest.mark.parametrize("path", PY_FILES, ids=short)
def test_everything_has_a_docstring(path):
    """The module and each function and class in it have a docstring."""
    with open(path, encoding="utf-8") as source:
        tree = ast.parse(source.read(), filename=path)
    missing = [] if ast.get_docstring(tree) else ["the module"]
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    missing += [f"{node.name} (line {node.lineno})"
                for node in ast.walk(tree)
                if isinstance(node, kinds) and not ast.get_docstring(node)]
    assert missing == []


def test_pycodestyle_clean():
    """pycodestyle finds nothing in the scripts and the tests."""
    done = subprocess.run([sys.executable, "-m", "pycodestyle", *PY_FILES],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
