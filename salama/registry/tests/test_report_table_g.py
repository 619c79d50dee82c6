"""Table G of the annual report: the status list of arrests, detentions and abductions still
open, which analytics asks the registry for through ``open_cases_requested``."""

import datetime
import io
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from salama.analytics import render, report, snapshot
from salama.analytics.signals import open_cases_requested
from salama.conftest import make_incident
from salama.incidents import choices as ic
from salama.incidents.models import Incident
from salama.registry import choices as rc
from salama.registry import services
from salama.registry.conftest import IDENTITY, make_case

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year - 1
STATUS_SHEET = "Table G status"


def _day(month, day=1, year=YEAR):
    return datetime.date(year, month, day)


def _detained(officer, organisation, *, on=None, identity=None, **detention):
    case = make_case(
        officer,
        organisation,
        identity=identity,
        offence=rc.Offence.ARREST_DETENTION,
        date=on or _day(3, 10),
    )
    services.update_case(
        case.pk,
        user=officer,
        expected_version=case.version,
        detention={"authority": rc.DetainingAuthority.DE_FACTO, **detention},
    )
    case.refresh_from_db()
    return case


def _abducted(officer, organisation, *, on=None, **case_fields):
    case = make_case(
        officer,
        organisation,
        offence=case_fields.pop("offence", rc.Offence.ABDUCTION),
        date=on or _day(7, 20),
        country="SO",
        **case_fields,
    )
    services.update_case(
        case.pk,
        user=officer,
        expected_version=case.version,
        fields={"offence": rc.Offence.ABDUCTION},
        abduction={"abductor_type": rc.AbductorType.NSAG},
    )
    case.refresh_from_db()
    return case


@pytest.fixture
def held(officer, undp):
    """A detention (medical access given, legal not) and an abduction, both still open, and
    an incident in the year with a detained person, so Table G's counts have a row too."""
    detention = _detained(officer, undp, identity=IDENTITY, medical_access_on=_day(4, 2))
    abduction = _abducted(officer, undp)
    incident = make_incident(
        officer,
        undp,
        persons=[
            {
                "impact": ic.Impact.ARRESTED_DETAINED,
                "cause": ic.Cause.VIOLENCE,
                "recruitment": ic.Recruitment.NATIONAL,
                "gender": ic.Gender.MALE,
            }
        ],
        date=_day(3, 10),
    )
    Incident.objects.filter(pk=incident.pk).update(status=ic.Status.ENDORSED)
    snapshot.refresh(full=True)
    return detention, abduction


def _report_page(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("analytics:report") + f"?year={YEAR}")
    assert response.status_code == 200
    return response.content.decode()


def _status_rows(path: Path) -> dict:
    book = load_workbook(path)
    assert STATUS_SHEET in book.sheetnames
    sheet = book[STATUS_SHEET]
    return {row[0]: row[1:] for row in sheet.iter_rows(min_row=5, values_only=True)}


def _days_since(day):
    return (timezone.localdate() - day).days


def test_open_cases_are_listed_for_a_user_who_may_see_registry_figures(client, analyst, held):
    detention, abduction = held
    html = _report_page(client, analyst)
    assert 'id="table-g-status"' in html
    assert "Arrests / detentions and abductions currently open" in html
    status = html[html.index('id="table-g-status"') :]
    status = status[: status.index("</section>")]
    # Longest held first: the March detention, then the July abduction.
    assert status.index(detention.reference) < status.index(abduction.reference)
    assert "De facto authority" in status and "Non-state armed group" in status
    assert f"Yes, {_day(4, 2).isoformat()}" in status
    assert f'<td class="number">{_days_since(detention.date)}</td>' in status
    assert f'<td class="number">{_days_since(abduction.date)}</td>' in status
    # The counts per country stay above the list, and no longer send readers elsewhere.
    assert 'id="table-G"' in html and html.index('id="table-G"') < html.index("table-g-status")
    assert "kept in the victims registry" not in html


def test_the_operator_command_puts_the_list_in_the_workbook(held, tmp_path):
    detention, abduction = held
    out = tmp_path / "report.xlsx"
    call_command(
        "report",
        "annual",
        "--year",
        str(YEAR),
        "--format",
        "xlsx",
        "--output",
        str(out),
        stdout=io.StringIO(),
    )
    rows = _status_rows(out)
    assert list(rows) == [detention.reference, abduction.reference]
    offence, authority, country, date, days, medical, legal, released = rows[detention.reference]
    assert (offence, authority) == ("Arrest or detention", "De facto authority")
    assert country == "South Sudan (SS)" and date == detention.date.isoformat()
    assert days == _days_since(detention.date)
    assert (medical, legal, released) == (f"Yes, {_day(4, 2).isoformat()}", "No", None)
    assert rows[abduction.reference][:2] == ("Abduction", "Non-state armed group")
    assert rows[abduction.reference][5:7] == ("—", "—")
    counts = load_workbook(out)["Table G"]
    assert any(
        row[0] == "South Sudan (SS)" and row[1] == 1
        for row in counts.iter_rows(min_row=5, values_only=True)
    )


def test_an_analyst_of_another_organisation_gets_no_rows(client, outsider, held):
    # The outsider analyses NRC's figures: NRC has no case open, UNDP's are not theirs.
    html = _report_page(client, outsider)
    for case in held:
        assert case.reference not in html
    assert "No case is open." in html


def test_a_user_without_registry_rights_gets_the_note_instead(client, reporter, held):
    html = _report_page(client, reporter)
    for case in held:
        assert case.reference not in html
    assert 'id="table-g-status"' not in html
    assert "kept in the victims registry, for its case officers" in html


def test_anonymous_visitors_get_no_answer_and_the_operator_gets_everything(held):
    def answers(user):
        return [
            answer
            for _receiver, answer in open_cases_requested.send(
                sender=report.Report, user=user, year_from=YEAR, year_to=YEAR
            )
        ]

    assert answers(AnonymousUser()) == [None]
    [everything] = answers(None)
    assert {row["reference"] for row in everything["rows"]} == {c.reference for c in held}


def test_a_released_detainee_is_not_currently_open(client, analyst, officer, undp, held):
    released = _detained(officer, undp, on=_day(2, 1), release_date=_day(5, 1))
    html = _report_page(client, analyst)
    assert held[0].reference in html
    assert released.reference not in html


def test_a_case_that_began_after_the_period_is_not_in_its_list(client, analyst, officer, undp):
    later = _detained(officer, undp, on=timezone.localdate() - datetime.timedelta(days=3))
    snapshot.refresh(full=True)
    html = _report_page(client, analyst)
    assert later.reference not in html
    assert "No case is open." in html


def test_a_sexual_violence_case_is_listed_only_with_consent_to_statistics(
    client, analyst, officer, undp, held
):
    restricted = _abducted(
        officer, undp, on=_day(1, 5), offence=rc.Offence.SEXUAL_ASSAULT, gender="female"
    )
    assert restricted.sexual_violence
    html = _report_page(client, analyst)
    assert held[1].reference in html
    assert restricted.reference not in html
    assert "1 sexual-violence case is left out" in html
    services.record_consent(
        restricted,
        officer,
        use=rc.ConsentUse.STATISTICS,
        given=True,
        recorded_on=timezone.localdate(),
    )
    html = _report_page(client, analyst)
    assert restricted.reference in html
    assert "sexual-violence case is left out" not in html


def test_no_identity_ever_appears_in_the_report(client, analyst, held, tmp_path):
    pages = [_report_page(client, analyst), render.html(report.build(YEAR), standalone=True)]
    out = tmp_path / "report.xlsx"
    out.write_bytes(render.xlsx(report.build(YEAR)))
    book = load_workbook(out)
    pages.append(
        " ".join(
            str(value)
            for sheet in book
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        )
    )
    assert held[0].reference in pages[1] and held[0].reference in pages[2]
    for text in pages:
        for secret in ("Quixotic", IDENTITY["staff_number"], "Idris", IDENTITY["date_of_birth"]):
            assert secret not in text


def test_the_pdf_renders_with_the_list(held):
    built = report.build(YEAR)
    status = next(table for table in built.tables if table.listing)
    assert [row.label for row in status.rows] == [case.reference for case in held]
    assert render.pdf(built).startswith(b"%PDF")


def test_analytics_does_not_import_the_registry():
    analytics = Path(report.__file__).parent
    for path in analytics.rglob("*.py"):
        assert "salama.registry" not in path.read_text(), path


def test_without_the_registry_the_operator_gets_the_note(held):
    from salama.registry.report_hooks import open_cases

    assert open_cases_requested.disconnect(dispatch_uid="registry-table-g-status")
    try:
        built = report.build(YEAR)
    finally:
        open_cases_requested.connect(open_cases, dispatch_uid="registry-table-g-status")
    assert [table.key for table in built.tables if table.key.startswith("G")] == ["G"]
    assert "kept in the victims registry" in str(built.tables[6].note)
