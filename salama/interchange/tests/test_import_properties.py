"""Whatever the file holds, the importer does not crash and accounts for every row.

"Does not crash" means: either the file is refused as a whole with :class:`ImportRefused`
(a message for a person), or a finished batch comes back whose counters add up.
"""

import csv
import io
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salama.interchange.formats import ImportRefused
from salama.interchange.models import ImportBatch
from salama.interchange.runner import run_import
from salama.interchange.tests.helpers import awsd_organisation, real_rows

pytestmark = pytest.mark.django_db

HEADER, ROWS = real_rows()
REAL_VALUES = sorted({value for row in ROWS.values() for value in row.values() if len(value) < 40})

SMALL = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

cells = st.one_of(
    st.sampled_from(REAL_VALUES),
    st.integers(min_value=-3, max_value=40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=12),
    st.just(""),
)
rows = st.lists(
    st.one_of(
        st.lists(cells, min_size=len(HEADER), max_size=len(HEADER)),
        st.lists(cells, max_size=len(HEADER) + 3),  # too short or too long
    ),
    max_size=12,
)


def check(batch: ImportBatch) -> None:
    assert batch.state == ImportBatch.State.DONE
    assert batch.rows_read == (batch.created + batch.updated + batch.unchanged + batch.quarantined)
    assert batch.quarantine.count() == batch.quarantined == sum(batch.reasons.values())
    for row in batch.quarantine.all():
        assert row.reason and row.message.startswith(f"Row {row.row_number}: ")


def import_bytes(tmp_path, content: bytes):
    path = tmp_path / f"{uuid.uuid4().hex}.csv"
    path.write_bytes(content)
    return run_import("awsd", path, organisation=awsd_organisation())


@SMALL
@given(content=st.binary(max_size=2000))
def test_random_bytes_never_crash_the_importer(tmp_path, content):
    try:
        batch = import_bytes(tmp_path, content)
    except ImportRefused:
        return
    check(batch)


@SMALL
@given(content=st.binary(max_size=2000))
def test_random_bytes_after_a_real_header_are_rows_accounted_for(tmp_path, content):
    header = (",".join(HEADER) + "\r\n").encode()
    check(import_bytes(tmp_path, header + content))


@SMALL
@given(records=rows)
def test_random_cells_under_the_awsd_header_never_crash_and_every_row_counts(tmp_path, records):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(records)
    batch = import_bytes(tmp_path, buffer.getvalue().encode("utf-8"))
    check(batch)
    # A record the CSV module writes as blank is not a row; every other one is.
    written = sum(1 for record in records if any(cell.strip() for cell in record))
    assert batch.rows_read == written
