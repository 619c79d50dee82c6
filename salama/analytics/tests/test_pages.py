"""Dashboards, the annual report in three formats, records behind figures, CSV data."""

import csv
import io
import re

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from salama.analytics import render, report, snapshot
from salama.conftest import make_incident
from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.incidents.models import Incident

pytestmark = pytest.mark.django_db


def _un(impact, cause=c.Cause.VIOLENCE, n=1, **extra):
    return {
        "impact": impact,
        "cause": cause,
        "recruitment": c.Recruitment.LOCALLY_RECRUITED,
        "gender": c.Gender.FEMALE,
        "organisation_type": c.AffectedOrgType.UN,
        "count": n,
        **extra,
    }


@pytest.fixture
def data(reporter, undp):
    import datetime

    green = make_incident(
        reporter,
        undp,
        persons=[_un(c.Impact.KILLED, n=2), _un(c.Impact.INJURED)],
        date=datetime.date(2023, 4, 2),
        marking=TLP.GREEN,
    )
    amber = make_incident(
        reporter,
        undp,
        persons=[_un(c.Impact.KILLED, c.Cause.SAFETY)],
        date=datetime.date(2023, 6, 1),
        marking=TLP.AMBER,
        category=c.Category.SAFETY,
        subcategory=c.SubCategory.ROAD_TRAFFIC,
        means_of_attack="",
    )
    Incident.objects.filter(pk__in=[green.pk, amber.pk]).update(status=c.Status.ENDORSED)
    snapshot.refresh(full=True)
    return green, amber


def login(client, user):
    client.force_login(user)


def test_anonymous_visitors_are_sent_to_sign_in(client, data):
    for name in ("analytics:overview", "analytics:report", "analytics:records"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_every_dashboard_renders_with_charts_tables_and_csv(client, reporter, data):
    login(client, reporter)
    pages = [reverse("analytics:overview"), reverse("analytics:compare")]
    pages += [
        reverse("analytics:theme", args=[t])
        for t in ("road-safety", "sexual-violence", "detention", "health-care", "locally-recruited")
    ]
    pages += [reverse("analytics:compare") + "?by=country&pick=SS&measure=incidents"]
    pages += [reverse("analytics:map") + "?measure=persons"]
    for url in pages:
        response = client.get(url + ("&" if "?" in url else "?") + "year_from=2019&year_to=2023")
        assert response.status_code == 200, url
        html = response.content.decode()
        assert 'type="application/json"' in html or "map.svg" in html
        assert "<script>" not in html  # no inline script (CSP)
        assert "data.csv?" in html
        assert "<table>" in html


def test_the_overview_counts_only_what_the_user_may_see(client, reporter, outsider, data):
    login(client, outsider)
    html = client.get(reverse("analytics:overview") + "?year_from=2023&year_to=2023").content
    url = reverse("analytics:data_csv") + "?measure=persons&dimension=cause&year=2023"
    rows = list(csv.reader(io.StringIO(client.get(url).content.decode())))
    assert rows == [["cause", "cause_label", "persons"], ["violence", "Violence", "3"]]
    client.logout()
    login(client, reporter)
    rows = list(csv.reader(io.StringIO(client.get(url).content.decode())))
    assert rows[1:] == [["safety", "Safety", "1"], ["violence", "Violence", "3"]]
    assert html


def test_the_report_links_each_figure_to_its_records(client, reporter, outsider, data):
    green, amber = data
    login(client, outsider)
    response = client.get(reverse("analytics:report") + "?year=2023")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Table A." in html and "Table H." in html
    links = re.findall(r'href="(/analytics/records/\?[^"]+)"', html)
    assert links
    deaths = [
        link
        for link in links
        if "impact=killed" in link and "cause=violence" in link and "year_from=2023" in link
    ]
    page = client.get(deaths[0].replace("&amp;", "&")).content.decode()
    assert green.reference in page and amber.reference not in page
    # The outsider cannot see the AMBER safety death: no figure, no record.
    assert "impact=killed&amp;cause=safety&amp;year_from=2023" not in html


def test_the_report_as_xlsx_has_one_sheet_per_table(client, reporter, data):
    login(client, reporter)
    response = client.get(reverse("analytics:report") + "?year=2023&format=xlsx")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [f"Table {k}" for k in "ABCDEFGH"] + ["AWSD"]
    sheet = book["Table A"]
    rows = {r[0]: r[1:] for r in sheet.iter_rows(min_row=5, values_only=True)}
    assert rows["Deaths: violence"][-1] == 2
    assert rows["Deaths: safety"][-1] == 1
    assert rows["Total"][-1] == 4


@pytest.mark.parametrize("language", ["ar", "zh-hans"])
def test_the_report_as_pdf_renders_arabic_and_chinese(reporter, data, language):
    with translation.override(language):
        built = report.build(2023, user=reporter)
        built.tables[0].title = "الموظفون المتضررون 受影响的工作人员"
        pdf = render.pdf(built, compress=False)
    assert pdf.startswith(b"%PDF")
    fonts = set(re.findall(rb"/BaseFont\s*/([A-Z]{6}\+)?([A-Za-z0-9-]+)", pdf))
    names = {name.decode() for _, name in fonts}
    assert any("CJK" in name for name in names), names  # the Chinese glyphs
    assert any("DejaVu" in name for name in names), names  # Latin and Arabic glyphs


def test_the_records_page_refuses_bad_input(client, reporter, data):
    login(client, reporter)
    assert client.get(reverse("analytics:records") + "?measure=nope").status_code == 400
    assert client.get(reverse("analytics:records") + "?year=abc").status_code == 400


@pytest.mark.parametrize("fmt", ["html", "xlsx"])
def test_the_report_command_writes_each_format(data, tmp_path, fmt):
    from django.core.management import call_command

    out = tmp_path / f"report.{fmt}"
    call_command(
        "report",
        "annual",
        "--year",
        "2023",
        "--format",
        fmt,
        "--output",
        str(out),
        stdout=io.StringIO(),
    )
    assert out.stat().st_size > 1000
    if fmt == "html":
        assert "Table A." in out.read_text()


def test_the_map_draws_countries_and_hexagons_for_what_the_user_may_see(
    client, reporter, outsider, data
):
    client.force_login(outsider)
    svg = client.get(reverse("analytics:map_svg") + "?year_from=2023&year_to=2023")
    assert svg["Content-Type"] == "image/svg+xml"
    text = svg.content.decode()
    assert 'data-country="SS" fill="#' in text and 'data-country="SS" fill="#ffffff"' not in text
    assert text.count("fill-opacity=") == 1  # one hexagon: the outsider sees one incident
