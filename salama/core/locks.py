"""Named locks across every process that uses the same database.

``held("import:awsd")`` keeps two imports of the same source from running at once: each
would find the other's new rows missing, try to create them too, and the loser's rows would
be refused by the unique external reference (quarantined as database errors) instead of being
found unchanged. Whoever comes second waits for the first to finish, then goes through.

- PostgreSQL: a session-level advisory lock (``pg_advisory_lock``), keyed by the name's
  hash, released at the end of the block or when the connection closes.
- SQLite: an exclusive ``flock`` on a file next to the database (``<database>.locks/``),
  released at the end of the block or when the process ends. SQLite is one machine's
  database, so a lock on that machine covers every process that writes to it.
"""

import contextlib
import fcntl
import hashlib
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.db import connection


def _key(name: str) -> int:
    """A signed 64-bit key for PostgreSQL's advisory locks."""
    return int.from_bytes(
        hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True
    )


def lock_file(name: str) -> Path:
    """SQLite: the file whose ``flock`` stands for the lock ``name``."""
    database = str(connection.settings_dict["NAME"])
    if database == ":memory:" or database.startswith("file:"):
        # An in-memory database (the tests'): one process, but keep its locks apart.
        digest = hashlib.blake2b(database.encode(), digest_size=8).hexdigest()
        folder = Path(tempfile.gettempdir()) / f"salama-locks-{digest}"
    else:
        folder = Path(f"{database}.locks")
    folder.mkdir(parents=True, exist_ok=True)
    return folder / (re.sub(r"[^\w.-]+", "_", name) + ".lock")


@contextlib.contextmanager
def held(name: str, *, on_wait: Callable[[], None] | None = None):
    """Hold the lock ``name`` for the block; wait for it if another process holds it,
    calling ``on_wait()`` once first (to say why nothing happens)."""
    if connection.vendor == "postgresql":
        key = _key(name)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            if not cursor.fetchone()[0]:
                if on_wait:
                    on_wait()
                cursor.execute("SELECT pg_advisory_lock(%s)", [key])
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    with lock_file(name).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
