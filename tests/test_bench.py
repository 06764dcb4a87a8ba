"""What the benchmark's figures rest on, on a real server.

``bench/server.py``'s ``settle`` runs before each loading case, so that
no case pays for the writes of the one before: the server must have
written out the pages changed before it, and have its own flushing
settings back after it.
"""
import importlib.util
import os

from testlab import ROOT

SPEC = importlib.util.spec_from_file_location(
    "bench_server", os.path.join(ROOT, "bench", "server.py"))
bench_server = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench_server)
ROWS = 200_000  # about 1,000 changed pages: far more than the server's
#                 own work changes meanwhile
CHANGED = "Innodb_buffer_pool_pages_dirty"


def flushing(server):
    """Return the server's flushing settings that ``settle`` changes."""
    return server.admin("SELECT " + ", ".join(
        f"@@GLOBAL.{name}" for name in bench_server.FLUSHING)).split()


def test_settle_writes_out_the_changed_pages_and_puts_settings_back(
        server, database):
    """After a load, ``settle`` returns with (almost) no changed page left;
    the flushing settings are the server's own again."""
    own = flushing(server)
    cursor = database.cursor()
    cursor.execute(f"INSERT INTO user_data SELECT LPAD(seq, 36, '0'), "
                   f"'a name', 'a@b.c', 42 FROM seq_1_to_{ROWS}")
    database.commit()
    before = server.status(CHANGED)
    assert before >= 1000, before  # the server keeps them, at its pace
    bench_server.settle(server.folder)
    assert server.status(CHANGED) <= 50, (before, server.status(CHANGED))
    assert flushing(server) == own
