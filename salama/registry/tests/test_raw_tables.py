"""A stolen database (a backup) reveals no identity: read every registry table raw."""

from django.db import connection

from salama.registry import services
from salama.registry.conftest import IDENTITY


def _all_rows(table):
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names are ours
        return cursor.fetchall()


def test_database_alone_reveals_no_identity(case, officer, sv_case, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from salama.registry import documents

    letter = f"Note verbale concerning {IDENTITY['name']}, staff {IDENTITY['staff_number']}"
    documents.attach(case, officer, SimpleUploadedFile("nv.txt", letter.encode()))
    # Read and re-save, so the audit log and every table have seen the identity pass by.
    services.read_identity(case, officer)
    services.set_identity(case, officer, expected_version=case.version, data=IDENTITY)
    tables = [
        t
        for t in connection.introspection.table_names()
        if t.startswith("registry_") or t == "core_auditentry"
    ]
    assert "registry_identity" in tables
    secrets = [v.encode() for v in IDENTITY.values()] + [b"Quixotic", b"7730142", b"Idris"]
    for table in tables:
        for row in _all_rows(table):
            for value in row:
                if value is None:
                    continue
                raw = (
                    bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode()
                )
                for secret in secrets:
                    assert secret not in raw, f"{secret!r} found in {table}"
    # And what is there is indeed the sealed identity, openable only with the key.
    assert len(_all_rows("registry_identity")) == 2
    # Nor do the attached documents on disk.
    for path in (settings.DATA_DIR / "registry").iterdir():
        for secret in secrets:
            assert secret not in path.read_bytes(), f"{secret!r} found in {path.name}"
