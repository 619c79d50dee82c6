"""Backups, and a restore that checks what it restored: ``salama backup`` and ``salama restore``.

A backup is one ``.tar.gz`` file, readable only by its owner, holding:

- ``manifest.json``: when, from which database kind, the migrations applied, the number of rows
  of every table, the audit log's last entry (sequence number and hash), the SHA-256 of every
  other member, the files folders the apps asked for, and the encryption key ids the stored
  identities and documents need;
- ``database.sqlite3`` (SQLite's online backup API: a consistent copy while others write,
  checked with ``PRAGMA integrity_check``) or ``database.pgdump`` (``pg_dump`` custom format,
  taken in the same snapshot as the row counts);
- ``files/…``: the folders of ``DATA_DIR`` the apps named through :data:`backup_requested` (the
  registry's encrypted documents). Derived data (the analytics snapshot) and temporary files
  (uploads) are left out; encryption keys are never in a backup: keep them apart.

``restore`` refuses a backup of the other database kind, a damaged member (SHA-256), and a
database that already holds data unless told to replace it. It then compares every table's row
count with the manifest and walks the audit chain, which must end at the manifest's last
entry, and reports what :data:`restore_checked` receivers warn about (a missing key). Both
write an entry to the audit log.
"""

import datetime
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.dispatch import Signal
from django.utils import timezone

from salama.core import audit
from salama.core.models import AuditEntry

FORMAT = 1
MANIFEST = "manifest.json"
PAYLOAD = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
FILES = "files"

# Sent before a backup; a receiver returns {"folders": [paths under DATA_DIR to include],
# "key_ids": [encryption key ids the stored data needs]} or None.
backup_requested = Signal()
# Sent after a restore with ``manifest``; a receiver returns a list of warnings (strings).
restore_checked = Signal()


class BackupError(Exception):
    """The backup or the restore cannot go on; the message says why and what to do."""


@dataclass
class Restored:
    manifest: dict
    tables: int = 0
    mismatches: list[str] = field(default_factory=list)
    audit_ok: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.audit_ok and not self.mismatches


# -- what is in the database -------------------------------------------------------------


def _tables() -> list[str]:
    """Every table of an installed model, and Django's own migration records."""
    names = {m._meta.db_table for m in apps.get_models() if m._meta.managed}
    return sorted(names | {MigrationRecorder.Migration._meta.db_table})


def _counts(cursor, tables: list[str], existing: set[str]) -> dict[str, int]:
    """Rows in each of ``tables`` that ``existing`` holds (any DB-API cursor: Django's, or
    sqlite3's on the copy being written)."""
    counts = {}
    for table in tables:
        if table in existing:
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def _audit_head(cursor) -> dict:
    """The audit log's last entry (any DB-API cursor, as for :func:`_counts`)."""
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    cursor.execute(f"SELECT seq, hash FROM {table} ORDER BY seq DESC LIMIT 1")  # noqa: S608
    row = cursor.fetchone()
    return {"seq": row[0], "hash": row[1]} if row else {"seq": 0, "hash": audit.GENESIS}


def _migrations() -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        applied.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(applied.items())}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _pg_environment() -> tuple[list[str], dict]:
    """Connection arguments for pg_dump / pg_restore, the password in the environment."""
    db = connection.settings_dict
    args = ["--dbname", db["NAME"]]
    if db.get("HOST"):
        args += ["--host", db["HOST"]]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    env = os.environ | ({"PGPASSWORD": db["PASSWORD"]} if db.get("PASSWORD") else {})
    return args, env


def _run(command: list[str], env: dict) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError:
        raise BackupError(
            f"{command[0]} is not installed; install PostgreSQL's client tools "
            "(Debian: postgresql-client) of the server's version."
        ) from None
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


# -- backup ------------------------------------------------------------------------------


def default_path() -> Path:
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return Path(settings.DATA_DIR) / "backups" / f"salama-{stamp}.tar.gz"


def backup(output: Path | None = None, *, actor=None) -> tuple[Path, dict]:
    """Write a backup of the configured database (and the apps' files) to ``output``."""
    output = Path(output or default_path())
    output.parent.mkdir(parents=True, exist_ok=True)
    vendor = connection.vendor
    if vendor not in PAYLOAD:
        raise BackupError(f"Backups of {vendor} databases are not supported.")
    facts = [r for _, r in backup_requested.send(sender=None) if r]
    data_dir = Path(settings.DATA_DIR).resolve()
    folders = sorted({Path(f).resolve() for r in facts for f in r.get("folders", [])})
    for folder in folders:
        if not folder.is_relative_to(data_dir):
            raise BackupError(f"{folder} is outside the data directory {data_dir}.")
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".backup-") as scratch:
        payload = Path(scratch) / PAYLOAD[vendor]
        if vendor == "sqlite":
            counts, head = _sqlite_copy(payload)
        else:
            counts, head = _pg_dump(payload)
        manifest = {
            "format": FORMAT,
            "created_at": timezone.now().isoformat(),
            "database": vendor,
            "migrations": _migrations(),
            "counts": counts,
            "audit_head": head,
            "key_ids": sorted({k for r in facts for k in r.get("key_ids", [])}),
            "folders": [str(f.relative_to(data_dir)) for f in folders],
            "sha256": {PAYLOAD[vendor]: _sha256(payload)},
        }
        partial = output.with_name(output.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with (
            os.fdopen(fd, "wb") as raw,
            tarfile.open(fileobj=raw, mode="w:gz", compresslevel=1) as tar,
        ):
            tar.add(payload, arcname=PAYLOAD[vendor])
            for folder in folders:
                for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                    name = f"{FILES}/{path.relative_to(data_dir)}"
                    manifest["sha256"][name] = _sha256(path)
                    tar.add(path, arcname=name)
            text = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(text), int(datetime.datetime.now().timestamp())
            tar.addfile(info, io.BytesIO(text))
        partial.replace(output)
    audit.record(
        "backup",
        actor=actor,
        object_type="database",
        object_repr=output.name,
        after={k: manifest[k] for k in ("created_at", "database", "audit_head", "key_ids")}
        | {"file": str(output), "rows": sum(manifest["counts"].values())},
    )
    return output, manifest


def _sqlite_copy(payload: Path) -> tuple[dict, dict]:
    source = sqlite3.connect(connection.settings_dict["NAME"], uri=True)
    target = sqlite3.connect(payload)
    try:
        source.backup(target)
    finally:
        source.close()
    try:
        check = target.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"The copy of the database is damaged: {check}")
        target.execute("PRAGMA journal_mode = DELETE")
        # Counted in the copy, so counts and data are the same moment.
        cursor = target.cursor()
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        existing = {row[0] for row in cursor.fetchall()}
        return _counts(cursor, _tables(), existing), _audit_head(cursor)
    finally:
        target.close()


def _pg_dump(payload: Path) -> tuple[dict, dict]:
    """pg_dump in the snapshot the counts are read in, so they describe the same moment."""
    args, env = _pg_environment()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts = _counts(cursor, _tables(), set(connection.introspection.table_names(cursor)))
            head = _audit_head(cursor)
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    "--file",
                    str(payload),
                    *args,
                ],
                env,
            )
        finally:
            cursor.execute("COMMIT")
    return counts, head


# -- restore -----------------------------------------------------------------------------


def read_manifest(path: Path) -> dict:
    try:
        with tarfile.open(path, "r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest = json.loads(member.read())
    except (OSError, tarfile.TarError, KeyError, json.JSONDecodeError) as exc:
        raise BackupError(f"{path} is not a Salama backup ({type(exc).__name__}: {exc}).") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"{path} is a backup of format {manifest.get('format')}; this "
            f"Salama reads format {FORMAT}."
        )
    return manifest


# What makes a database more than freshly migrated (migrations themselves fill content
# types and permissions).
DATA_MODELS = ("auth.User", "organisations.Organisation", "incidents.Incident", "core.AuditEntry")


def holds_data() -> bool:
    """Whether the configured database has anything a restore would overwrite."""
    return any(apps.get_model(label).objects.exists() for label in DATA_MODELS)


def restore(path: Path, *, replace: bool = False, actor=None) -> Restored:
    """Restore the backup at ``path`` into the configured database (and DATA_DIR's folders)."""
    path = Path(path)
    manifest = read_manifest(path)
    vendor = connection.vendor
    if manifest["database"] != vendor:
        raise BackupError(
            f"This backup is of a {manifest['database']} database; the configured one is "
            f"{vendor}. Restore it into a {manifest['database']} database (DATABASE_URL)."
        )
    if not replace and _has_tables() and holds_data():
        raise BackupError(
            "The configured database already holds data. Restore into an empty database, or "
            "give --replace to overwrite everything in it with the backup."
        )
    data_dir = Path(settings.DATA_DIR).resolve()
    with tempfile.TemporaryDirectory(prefix="salama-restore-") as scratch:
        scratch = Path(scratch)
        with tarfile.open(path, "r:gz") as tar:
            tar.extractall(scratch, filter="data")
        for name, expected in manifest["sha256"].items():
            member = scratch / name
            if not member.is_file() or _sha256(member) != expected:
                raise BackupError(f"{path}: {name} is missing or damaged (SHA-256 differs).")
        payload = scratch / PAYLOAD[vendor]
        if vendor == "sqlite":
            _sqlite_restore(payload)
        else:
            args, env = _pg_environment()
            _run(
                [
                    "pg_restore",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    *args,
                    str(payload),
                ],
                env,
            )
        for folder in manifest["folders"]:
            source, target = scratch / FILES / folder, data_dir / folder
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True)
    result = _check(manifest)
    audit.record(
        "restore",
        actor=actor,
        object_type="database",
        object_repr=path.name,
        after={
            "created_at": manifest["created_at"],
            "ok": result.ok,
            "mismatches": result.mismatches[:20],
            "warnings": result.warnings[:20],
        },
    )
    return result


def _has_tables() -> bool:
    return AuditEntry._meta.db_table in connection.introspection.table_names()


def _sqlite_restore(payload: Path) -> None:
    """Copy the backup over the configured database with SQLite's backup API: page by page
    through the target's own journal, so a reader never sees half of it."""
    connection.close()
    source = sqlite3.connect(payload)
    target = sqlite3.connect(connection.settings_dict["NAME"], uri=True)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode = WAL")
    finally:
        source.close()
        target.close()


def _check(manifest: dict) -> Restored:
    result = Restored(manifest)
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
        counts = _counts(cursor, list(manifest["counts"]), existing)
    result.tables = len(counts)
    for table, expected in manifest["counts"].items():
        if counts.get(table) != expected:
            result.mismatches.append(
                f"{table}: {counts.get(table)} rows, the backup had {expected}"
            )
    verified = audit.verify()
    result.audit_ok = verified.ok and verified.head == manifest["audit_head"]["hash"]
    if verified.ok and not result.audit_ok:
        result.mismatches.append("the audit log does not end where the backup's did")
    for _, warnings in restore_checked.send(sender=None, manifest=manifest):
        result.warnings += list(warnings or [])
    return result
