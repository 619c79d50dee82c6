"""Real AWSD files and small builders for the import tests."""

import csv
from contextlib import contextmanager
from pathlib import Path

from django.db import transaction

from salama.interchange.runner import run_import, source_organisation

DATA = Path(__file__).resolve().parent.parent / "data" / "awsd"
CURRENT = DATA / "awsd_1997-2022.csv"
OLD_LATIN1 = DATA / "awsd_1997-2016_old-layout_latin1.csv"
DETAINED_HXL = Path(__file__).resolve().parent / "data" / "awsd_detained_layout_hxl.csv"


def awsd_organisation():
    return source_organisation("awsd")


def real_rows(path=CURRENT, encoding="utf-8") -> tuple[list[str], dict[str, dict]]:
    """The header and the rows (by Incident ID) of a real AWSD file."""
    with open(path, encoding=encoding, newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames), {row["Incident ID"]: row for row in reader}


def write_csv(path: Path, header: list[str], rows: list[dict], encoding="utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        writer.writerows(rows)
    return path


@contextmanager
def imported_for_the_module(django_db_blocker, path=CURRENT):
    """Import ``path`` once for a test module, inside a transaction rolled back at its end.

    Each test still runs in its own savepoint (pytest-django's ``db``), so what a test
    changes is undone before the next one, and nothing leaks to other modules.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        batch = run_import("awsd", path, organisation=awsd_organisation())
        yield batch
        transaction.set_rollback(True)
