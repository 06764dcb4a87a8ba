"""The load's two sides at once: chunks are made while the server works.

The loader's thread reads, checks and writes the chunk files as fast as
it can, never waiting for the server to take one (``made_ahead``); a
chunk ends early, at ``loader.FIRST_CHUNK_ROWS`` rows, only while the
server waits for one (``write_chunks``), so that the server starts soon
and ends soon after the file is read, and is full while the server is
busy. How much time that saves is the benchmark's to say
(bench/run.py); these tests hold the server at a known point instead.
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import loader
import pytest

from testlab import DEADLINE, GATE, make_csv, seed, wait_for

LOAD_DATA = loader.Method("LOAD DATA LOCAL INFILE", True, "", 1 << 20)


def rows_in(folder):
    """Return the rows of each chunk file in ``folder``, by its number.

    None if the folder is gone: the load that made it has ended.
    """
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return None
    rows = {}
    for name in names:
        with open(os.path.join(folder, name), "rb") as chunk:
            rows[int(name[len("rows-"):-len(".tsv")])] = chunk.read().count(
                b"\n")
    return [rows[number] for number in sorted(rows)]


def test_chunks_are_made_while_the_server_is_held(database, gate, tmp_path,
                                                  monkeypatch):
    """While the server is held at the first row, every chunk is written.

    A trigger takes the gate's lock at the first row the load inserts:
    the server waits there, on the first chunk, until the test lets it
    go. The first chunk, which the server waits for, holds 2 rows (of
    52, in chunks of 10 at most). Meanwhile the thread writes all the
    other chunk files, each full: the server is busy, so none ends
    early. Once the gate opens, every row is loaded.
    """
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(temp))
    monkeypatch.setattr(loader, "FIRST_CHUNK_ROWS", 2)
    monkeypatch.setattr(loader, "CHUNK_ROWS", 10)
    monkeypatch.setattr(loader, "CHECK_ROWS", 2)
    path = make_csv(tmp_path / "users.csv", 52)
    cursor = database.cursor()
    cursor.execute("CREATE TRIGGER held AFTER INSERT ON user_data FOR EACH "
                   f"ROW IF @held IS NULL THEN SET @held = GET_LOCK('{GATE}',"
                   " 3600); END IF")
    cursor.close()
    with ThreadPoolExecutor(1) as pool:
        loading = pool.submit(seed.insert_data, database, path)
        try:
            gate.waiting()
            folder, = [temp / name for name in os.listdir(temp)]
            wait_for(lambda: loading.done() or sum(rows_in(folder)) == 52,
                     "every chunk file, while the server is held")
            written = rows_in(folder)
            assert not loading.done(), (
                "the load ended while the server was held (its read "
                "time-out), before the thread wrote every chunk")
        finally:
            gate.release()
        counts = loading.result(timeout=DEADLINE)
    assert written == [2] + [10] * 5
    assert counts[:3] == (52, 0, 0)


@pytest.mark.parametrize("waits, sizes", [(True, [3] * 8 + [1]),
                                          (False, [10, 10, 5])])
def test_chunks_end_early_while_the_server_waits(tmp_path, monkeypatch,
                                                 waits, sizes):
    """A chunk ends at FIRST_CHUNK_ROWS while the server waits, else full.

    ``write_chunks`` of 25 records, chunks of 10 rows at most: of 3 rows
    while the event that says the server waits is set (the last, what is
    left), of 10 while it is not. Each file holds its rows, sorted.
    """
    monkeypatch.setattr(loader, "FIRST_CHUNK_ROWS", 3)
    monkeypatch.setattr(loader, "CHUNK_ROWS", 10)
    monkeypatch.setattr(loader, "CHECK_ROWS", 1)
    path = make_csv(tmp_path / "users.csv", 25)
    folder = tmp_path / "chunks"
    folder.mkdir()
    wanted = threading.Event()
    if waits:
        wanted.set()
    records, layout = loader.read_header(path)
    rejects = loader.Rejects(path)
    try:
        chunks = list(loader.write_chunks(records, layout, LOAD_DATA,
                                          rejects, str(folder), wanted))
    finally:
        records.close()
        rejects.close()
    assert [rows for _, rows in chunks] == sizes
    assert rows_in(folder) == sizes
    for chunk, _ in chunks:
        with open(chunk, "rb") as rows:
            lines = rows.readlines()
        assert lines == sorted(lines)
