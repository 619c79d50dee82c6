"""Coordinates that lost their decimal point in public AWSD copies: repaired when exactly one
reading lands inside the stated country, quarantined otherwise."""

import pytest

from salama.incidents import choices as c
from salama.incidents.models import Source
from salama.interchange.runner import run_import
from salama.interchange.tests.helpers import awsd_organisation, real_rows, write_csv

pytestmark = pytest.mark.django_db


def sudan_row(rows: dict, incident_id: str, latitude: str, longitude: str) -> dict:
    template = next(r for r in rows.values() if r.get("Country Code") == "SD")
    return dict(template) | {
        "Incident ID": incident_id,
        "Latitude": latitude,
        "Longitude": longitude,
    }


def test_a_lost_decimal_point_is_repaired_when_one_reading_lies_in_the_country(tmp_path):
    header, rows = real_rows()
    path = write_csv(
        tmp_path / "awsd_lost_points.csv",
        header,
        [
            sudan_row(rows, "900001", "1.407.092.855", "24.88"),  # 14.07092855 N, Darfur
            sudan_row(rows, "900002", "9.999.999.999", "-70.5"),  # no reading lies in Sudan
        ],
    )

    batch = run_import("awsd", path, organisation=awsd_organisation())

    assert (batch.created, batch.quarantined) == (1, 1)
    assert batch.reasons == {"invalid_coordinates": 1}
    incident = Source.objects.get(system="awsd", external_id="900001").incident
    assert float(incident.latitude) == pytest.approx(14.07092855, abs=1e-6)
    assert incident.coordinate_check == c.CoordinateCheckStatus.REPAIRED
    assert "Lost decimal point repaired" in incident.coordinate_note
    assert "coordinates_repaired" in batch.notes
    row = batch.quarantine.get()
    assert row.raw["Incident ID"] == "900002" and "lost its decimal point" in row.message
