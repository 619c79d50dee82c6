"""``salama export``: as a named user, with the list's filters, audited."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from salama.conftest import make_incident
from salama.core.markings import TLP
from salama.core.models import AuditEntry
from salama.interchange.tests.export_readers import read_rows

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("export", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def incidents(reporter, undp):
    make_incident(reporter, undp, country="SS", place="Juba")
    make_incident(reporter, undp, country="AF", place="Herat", latitude=34.35, longitude=62.2)
    make_incident(reporter, undp, country="SS", place="Yei", marking=TLP.RED)


def test_exports_what_the_user_sees_with_the_filters_and_says_so(
    incidents, reporter, outsider, tmp_path
):
    path = tmp_path / "ss.csv"
    printed = run(
        "--format", "csv", "--user", reporter.username, "--output", str(path), "--country", "SS"
    )
    assert f"2 rows written to {path}" in printed
    assert sorted(r["place"] for r in read_rows("csv", path.read_bytes())) == ["Juba", "Yei"]

    # The outsider sees none of UNDP's drafts: the same command gives an empty file.
    other = tmp_path / "outsider.csv"
    printed = run("--format", "csv", "--user", outsider.username, "--output", str(other))
    assert "0 rows written" in printed
    assert read_rows("csv", other.read_bytes()) == []


def test_every_export_is_in_the_audit_log_before_and_after(incidents, reporter, tmp_path):
    path = tmp_path / "out.parquet"
    run(
        "--format",
        "parquet",
        "--scheme",
        "sind",
        "--user",
        reporter.username,
        "--output",
        str(path),
        "--search",
        "Herat",
    )
    start, end = AuditEntry.objects.filter(action__startswith="export").order_by("seq")
    assert (start.action, end.action) == ("export.start", "export.end")
    assert start.actor == end.actor == reporter
    assert start.after == {"format": "parquet", "scheme": "sind", "filters": {"q": "Herat"}}
    assert end.after["rows"] == 1
    assert end.after["completed"] is True


def test_a_user_is_required_and_must_exist(tmp_path):
    with pytest.raises(CommandError, match="--user"):
        run("--format", "csv", "--output", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="No active user 'nobody'"):
        run("--format", "csv", "--user", "nobody", "--output", str(tmp_path / "x.csv"))


def test_bad_filters_and_existing_files_are_refused_and_leave_nothing(reporter, tmp_path):
    path = tmp_path / "x.csv"
    with pytest.raises(CommandError, match="filters are not valid"):
        run(
            "--format",
            "csv",
            "--user",
            reporter.username,
            "--output",
            str(path),
            "--date-from",
            "soon",
        )
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(CommandError, match="No organisation with the acronym 'XYZ'"):
        run(
            "--format",
            "csv",
            "--user",
            reporter.username,
            "--output",
            str(path),
            "--organisation",
            "XYZ",
        )
    path.write_text("keep me")
    with pytest.raises(CommandError, match="--force"):
        run("--format", "csv", "--user", reporter.username, "--output", str(path))
    assert path.read_text() == "keep me"
    run("--format", "csv", "--user", reporter.username, "--output", str(path), "--force")
    assert path.read_bytes().startswith(b"\xef\xbb\xbfreference,")


def test_organisation_filter_takes_an_acronym(incidents, reporter, tmp_path):
    path = tmp_path / "undp.geojson"
    printed = run(
        "--format",
        "geojson",
        "--user",
        reporter.username,
        "--output",
        str(path),
        "--organisation",
        "undp",
    )
    assert "3 features written" in printed
    assert len(read_rows("geojson", path.read_bytes())) == 3
