"""The driver and the layers: the fast path is the one in use, no cycles.

``driver.py`` holds every use of the connector's internals. If a driver
upgrade renames one, the code falls back to the public, slower path in
silence; these tests fail instead. The import graph of the project's
own modules has one direction: each imports only those below it.
"""
import ast
import glob
import os
import subprocess

import mysql.connector
import pytest
from mysql.connector.connection_cext import CMySQLConnection

from testlab import PYTHON, ROOT, seed

import driver

stream_users = __import__("0-stream_users").stream_users

# Each module of ours, and the ones of ours it may import.
LAYERS = {
    "driver": set(),
    "db": {"driver"},
    "table": {"db"},
    "loader": {"db", "driver", "table"},
    "seed": {"db", "loader", "table"},
    "0-stream_users": {"seed"},
    "1-batch_processing": {"seed"},
    "2-lazy_paginate": {"seed"},
    "4-stream_ages": {"seed"},
    "keyset_paginate": {"seed"},
    "0-main": {"seed"},
    "1-main": {"seed", "0-stream_users"},
    "2-main": {"seed", "1-batch_processing"},
    "3-main": {"seed", "2-lazy_paginate"},
}


def test_c_extension_driver_active(server):
    """The connector's C extension is there and connections use it."""
    print(f"mysql.connector {mysql.connector.__version__}, "
          f"HAVE_CEXT={mysql.connector.HAVE_CEXT}")
    connection = seed.connect(database=False)
    try:
        assert mysql.connector.HAVE_CEXT is True
        assert isinstance(connection, CMySQLConnection)
        assert driver.fast(connection)
    finally:
        connection.close()


def test_streams_take_the_fast_path(course_db, monkeypatch):
    """A stream reads its rows through the C extension's fetch_row.

    ``driver.native`` is watched: the stream asked it for the C handle,
    and got one, for every connection it read from.
    """
    answers = []
    native = driver.native

    def watched(connection):
        """Note what the adapter finds for ``connection``."""
        handle = native(connection)
        answers.append(handle)
        return handle

    monkeypatch.setattr(driver, "native", watched)
    assert len(list(stream_users())) == 1000
    assert answers and all(handle is not None for handle in answers)


def test_pure_python_connection_is_not_fast(server):
    """The check can fail: a pure-Python connection is not the fast path."""
    connection = seed.connect(database=False, use_pure=True)
    try:
        assert not driver.fast(connection)
    finally:
        connection.close()


def imported(path):
    """Return the names of the modules that ``path`` imports.

    ``import x``, ``from x import y`` and ``__import__("x")`` all count.
    """
    with open(path, encoding="utf-8") as source:
        tree = ast.parse(source.read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif (isinstance(node, ast.Call) and getattr(node.func, "id", None)
              == "__import__" and isinstance(node.args[0], ast.Constant)):
            names.add(node.args[0].value)
    return names


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(ROOT,
                                                               "*.py"))),
                         ids=os.path.basename)
def test_imports_go_one_way(path):
    """Each module imports only the modules of ours below it."""
    name = os.path.basename(path)[:-3]
    assert name in LAYERS, f"{name}: give it a place in LAYERS"
    assert imported(path) & set(LAYERS) <= LAYERS[name]


def import_graph():
    """Return each module of ours and the modules of ours it imports.

    The modules: every top-level ``*.py``, ``scripts/*.py`` and
    ``bench/*.py``, each read from its own source. Each folder is on the
    path of the code that imports it, so a module is known by its file
    name alone, and no two may share one.
    """
    paths = [path for folder in ("", "scripts", "bench")
             for path in glob.glob(os.path.join(ROOT, folder, "*.py"))]
    modules = {os.path.basename(path)[:-3]: path for path in paths}
    assert len(modules) == len(paths), sorted(paths)
    return {name: imported(path) & set(modules)
            for name, path in modules.items()}


def reached(graph, start):
    """Return the modules ``start`` imports, directly or through others."""
    seen, todo = set(), list(graph[start])
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(graph[name])
    return seen


def test_layers_have_no_cycle():
    """The modules' own imports form no cycle and keep the layers' order.

    The graph is read from the code, not from ``LAYERS``, the benchmark's
    and scripts/ included: no module reaches itself through imports (so
    ``bench/cases.py``, run as each case's ``__main__``, never loads
    itself again under its own name, with a second registry of cases);
    ``driver``, ``db``, ``table``, ``loader`` and ``seed`` each reach only the
    layers below them (so none reaches a numbered script), and each
    numbered script (and the keyset paginator) reaches ``seed``; the
    benchmark's ``sizes`` is a leaf, and its cases reach no other part
    of the benchmark than ``server`` and ``sizes``.
    """
    graph = import_graph()
    below = {name: reached(graph, name) for name in graph}
    assert not [name for name in graph if name in below[name]], below
    layers = ["driver", "db", "table", "loader", "seed"]
    for index, name in enumerate(layers):
        assert below[name] <= set(layers[:index]), (name, below[name])
    above = [name for name in graph if name[0].isdigit()] + [
        "keyset_paginate"]
    assert len(above) > 1 and all("seed" in below[name] for name in above)
    bench = {os.path.basename(path)[:-3]
             for path in glob.glob(os.path.join(ROOT, "bench", "*.py"))}
    assert below["sizes"] == set()
    assert below["cases"] & bench == {"server", "sizes"}


def test_shared_tools_are_plain_python():
    """What the tests and the benchmark share needs neither pytest nor
    the tests' conftest: scripts/testlab.py imports neither, and no
    module of the benchmark reaches them (or the tests' folder)."""
    lab = imported(os.path.join(ROOT, "scripts", "testlab.py"))
    assert {"db", "localdb", "seed"} <= lab
    assert not lab & {"pytest", "conftest"}
    for path in glob.glob(os.path.join(ROOT, "bench", "*.py")):
        assert not imported(path) & {"pytest", "conftest"}, path
        with open(path, encoding="utf-8") as source:
            assert '"tests"' not in source.read(), path


@pytest.mark.parametrize("module", ["driver", "db", "loader", "seed"])
def test_each_layer_imports_alone(module):
    """``python -c "import <module>"`` works, each on its own."""
    done = subprocess.run([PYTHON, "-c", f"import {module}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")
