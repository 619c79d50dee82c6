"""Two imports of the same source at once: the second waits for the first, then finds its
rows unchanged, instead of having them refused as duplicates (``salama.core.locks``)."""

import fcntl
import json
import os
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection

from salama.core import locks
from salama.interchange.tests.helpers import real_rows, write_csv


@pytest.mark.django_db(transaction=True)
def test_a_second_holder_waits_for_the_first():
    """Each thread has its own database connection: on PostgreSQL its own session (advisory
    locks), on SQLite its own open lock file (flock)."""
    events = []
    first_in, second_waits = threading.Event(), threading.Event()

    def first():
        try:
            with locks.held("import:test"):
                first_in.set()
                second_waits.wait(10)
                time.sleep(0.2)  # the second must still be waiting now
                events.append("first out")
        finally:
            connection.close()

    def second():
        try:
            first_in.wait(10)

            def waiting():
                events.append("second waits")
                second_waits.set()

            with locks.held("import:test", on_wait=waiting):
                events.append("second in")
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert events == ["second waits", "first out", "second in"]
    # Released: a third holder gets it at once.
    with locks.held("import:test", on_wait=lambda: events.append("third waits")):
        pass
    assert "third waits" not in events


def test_two_imports_of_one_file_at_once_on_sqlite(tmp_path):
    """Two real ``salama import`` processes on one SQLite database, started together while
    a third party holds the lock: both wait, then one creates the rows and the other finds
    them unchanged; nothing is quarantined as a database error."""
    if connection.vendor != "sqlite":
        pytest.skip("runs its own SQLite database; once per suite is enough")
    header, rows = real_rows()
    path = write_csv(tmp_path / "awsd.csv", header, list(rows.values())[:400])
    database = tmp_path / "salama.sqlite3"
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{database}",
        "SALAMA_DATA_DIR": str(tmp_path),
        "SALAMA_DEBUG": "true",
    }

    def salama(*args):
        return subprocess.Popen(
            [sys.executable, "-m", "salama", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    assert salama("migrate", "-v", "0").wait(180) == 0
    lock = tmp_path / "salama.sqlite3.locks" / "import_awsd.lock"
    lock.parent.mkdir(exist_ok=True)
    with lock.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        imports = [salama("import", "awsd", str(path), "--format", "json") for _ in range(2)]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not all(
            (tmp_path / f"waiting-{i}").exists() for i in range(2)
        ):
            # Each process says it waits on stderr; read it without blocking the other.
            for i, process in enumerate(imports):
                if process.poll() is not None:
                    pytest.fail(
                        f"import {i} ended while the lock was held: {process.stderr.read()}"
                    )
                if not (tmp_path / f"waiting-{i}").exists():
                    line = process.stderr.readline()
                    if "Another import of awsd data is running" in line:
                        (tmp_path / f"waiting-{i}").touch()
        assert all((tmp_path / f"waiting-{i}").exists() for i in range(2))
        fcntl.flock(held, fcntl.LOCK_UN)
    reports = []
    for process in imports:
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    reports.sort(key=lambda r: r["batch"])
    first, second = reports
    assert first["rows_read"] == second["rows_read"] == 400
    assert first["created"] + first["quarantined"] == 400
    assert second["unchanged"] == first["created"]
    assert second["created"] == 0
    assert "database_error" not in first["reasons"] | second["reasons"]
