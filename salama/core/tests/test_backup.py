"""``salama backup`` and ``salama restore``, as an operator runs them: real commands in their
own processes, on real database files (SQLite) or scratch databases (PostgreSQL)."""

import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

# A case with an identity and an attached document, so the backup must carry encrypted data
# and a file of the registry's folder.
ATTACH = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salama.settings")
django.setup()
from django.core.files.uploadedfile import SimpleUploadedFile
from salama.registry import documents
from salama.registry.models import Case
case = Case.objects.exclude(owner=None).order_by("id").first()
upload = SimpleUploadedFile("note.txt", b"Note verbale: request for access.", "text/plain")
print(documents.attach(case, case.owner, upload).sha256)
"""


def salama(env: dict, *args, check=True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "salama", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    return done


def environment(data_dir: Path, database_url: str) -> dict:
    return os.environ | {
        "DATABASE_URL": database_url,
        "SALAMA_DATA_DIR": str(data_dir),
        "SALAMA_DEBUG": "true",
    }


def filled(env: dict) -> str:
    """Migrate, load the demo data, attach a document; return the document's SHA-256."""
    salama(env, "migrate", "-v", "0")
    salama(env, "demo")
    done = subprocess.run(
        [sys.executable, "-c", ATTACH], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def round_trip(source: dict, target: dict, tmp_path: Path, sha: str) -> None:
    made = json.loads(
        salama(source, "backup", "--output", str(tmp_path / "b.tar.gz"), "--format", "json").stdout
    )
    backup = Path(made["file"])
    assert backup.stat().st_mode & 0o777 == 0o600  # it holds everything: only its owner reads it
    assert made["rows"] > 4000 and made["key_ids"]

    # A snapshot of whatever the target held before: it must not outlive the restore.
    stale = Path(target["SALAMA_DATA_DIR"]) / "analytics" / "state.json"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_text("{}")
    restored = json.loads(salama(target, "restore", str(backup), "--format", "json").stdout)
    assert not stale.exists()
    assert restored["ok"] and restored["audit_ok"] and restored["mismatches"] == []
    # The target has another development key: the restore says the identities need the old.
    assert any(made["key_ids"][0] in w for w in restored["warnings"])
    # The document came back, byte for byte, into the target's data directory.
    source_file = Path(source["SALAMA_DATA_DIR"]) / "registry" / sha
    target_file = Path(target["SALAMA_DATA_DIR"]) / "registry" / sha
    assert target_file.read_bytes() == source_file.read_bytes()
    assert "intact" in salama(target, "audit", "verify").stdout

    # Now the target holds data: a second restore must be asked to replace it.
    refused = salama(target, "restore", str(backup), check=False)
    assert refused.returncode != 0 and "--replace" in refused.stderr
    salama(target, "restore", str(backup), "--replace")

    # A damaged backup is refused before anything is written.
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(backup, "r:gz") as original, tarfile.open(damaged, "w:gz") as copy:
        for member in original.getmembers():
            data = original.extractfile(member).read()
            if member.name.startswith("database."):
                data = data[:-10] + b"X" * 10
            copy.addfile(member, io.BytesIO(data))
    refused = salama(target, "restore", str(damaged), "--replace", check=False)
    assert refused.returncode != 0 and "damaged" in refused.stderr


def test_backup_and_restore_on_sqlite(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite round trip runs once per suite, in the SQLite run")
    source = environment(tmp_path / "a", f"sqlite:///{tmp_path / 'a' / 'salama.sqlite3'}")
    target = environment(tmp_path / "b", f"sqlite:///{tmp_path / 'b' / 'salama.sqlite3'}")
    round_trip(source, target, tmp_path, filled(source))
    # A backup of one database kind is not restored into the other.
    other = environment(tmp_path / "c", "postgres://nobody@127.0.0.1:1/none")
    refused = salama(other, "restore", str(tmp_path / "b.tar.gz"), check=False)
    assert refused.returncode != 0 and "sqlite database" in refused.stderr


@pytest.fixture
def scratch_databases():
    import psycopg

    db = connection.settings_dict
    user, host, port = db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    server = f"postgres://{quote(user, safe='')}{password}@{host}:{port}"
    names = [f"salama_backup_{uuid.uuid4().hex[:8]}_{n}" for n in ("a", "b")]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    yield [f"{server}/{name}" for name in names]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_and_restore_on_postgresql(tmp_path, request):
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL round trip runs in the PostgreSQL run")
    first, second = request.getfixturevalue("scratch_databases")
    source = environment(tmp_path / "a", first)
    target = environment(tmp_path / "b", second)
    round_trip(source, target, tmp_path, filled(source))
