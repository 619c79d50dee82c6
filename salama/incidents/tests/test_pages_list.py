"""The incident list: who sees what, filters, search, paging, the map and the query count."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from salama.conftest import incident_fields, make_incident, make_user
from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.incidents import services
from salama.incidents.models import AffectedPerson, Incident
from salama.incidents.tests.conftest import signed_in
from salama.organisations.choices import Role

LIST = reverse("incidents:list")
MAP = reverse("incidents:map")


def shown(client, **params) -> set[str]:
    response = client.get(LIST, params)
    assert response.status_code == 200
    return {incident.reference for incident in response.context["page"].items}


def bulk_incidents(organisation, user, n, **overrides) -> list[Incident]:
    """Many incidents fast, straight into the table (no history: the list does not need it)."""
    start = datetime.date(2020, 1, 1)
    incidents = Incident.objects.bulk_create(
        [
            Incident(
                reference=f"SAL-BULK{i:06d}",
                organisation=organisation,
                reported_by=user,
                status=c.Status.SUBMITTED,
                **incident_fields(date=start + datetime.timedelta(days=i), **overrides),
            )
            for i in range(n)
        ]
    )
    AffectedPerson.objects.bulk_create(
        [
            AffectedPerson(incident=incident, impact=c.Impact.INJURED, cause=c.Cause.VIOLENCE)
            for incident in incidents
        ]
    )
    return incidents


@pytest.fixture
def cases(reporter, endorser, undp, nrc):
    """Four incidents that differ in every filtered respect."""
    nrc_reporter = make_user("nadia", nrc, roles=(Role.REPORTER,))
    juba = make_incident(
        reporter,
        undp,
        narrative="Armed men robbed the crew at a checkpoint.",
        marking=TLP.GREEN,
    )
    mogadishu = make_incident(
        reporter,
        undp,
        date=datetime.date(2023, 6, 1),
        country="SO",
        admin1="Banadir",
        place="Mogadishu",
        latitude=2.04,
        longitude=45.34,
        category=c.Category.SAFETY,
        subcategory=c.SubCategory.ROAD_TRAFFIC,
        means_of_attack="",
        narrative="A truck hit the vehicle.",
        marking=TLP.AMBER,
        persons=[{"impact": c.Impact.KILLED, "cause": c.Cause.SAFETY}],
    )
    mogadishu = services.endorse(services.submit(mogadishu, reporter), endorser)
    kabul = make_incident(
        nrc_reporter,
        nrc,
        date=datetime.date(2022, 1, 10),
        country="AF",
        admin1="Kabul",
        place="Kabul",
        latitude=34.53,
        longitude=69.17,
        subcategory=c.SubCategory.ARMED_CONFLICT,
        narrative="Shelling near the guest house.",
        marking=TLP.CLEAR,
        persons=[{"impact": c.Impact.ABDUCTED, "cause": c.Cause.VIOLENCE}],
    )
    kabul = services.submit(kabul, nrc_reporter)
    secret = make_incident(
        reporter, undp, place="Yei", marking=TLP.RED, latitude=None, longitude=None
    )
    return {"juba": juba, "mogadishu": mogadishu, "kabul": kabul, "secret": secret}


def refs(cases, *names) -> set[str]:
    return {cases[name].reference for name in names}


def test_the_reporter_sees_their_organisations_incidents_and_others_shared_widely(
    as_reporter, cases
):
    assert shown(as_reporter) == refs(cases, "juba", "mogadishu", "kabul", "secret")


def test_an_outsider_sees_neither_amber_incidents_nor_drafts_of_another_organisation(
    as_outsider, cases
):
    # juba is GREEN but still a draft of UNDP; mogadishu is AMBER; secret is RED.
    assert shown(as_outsider) == refs(cases, "kabul")


def test_anonymous_visitors_are_sent_to_sign_in_from_the_list_and_the_map(client):
    for url in (LIST, MAP):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"country": "SO"}, {"mogadishu"}),
        ({"date_from": "2023-01-01"}, {"juba", "mogadishu", "secret"}),
        ({"date_to": "2023-06-01"}, {"mogadishu", "kabul"}),
        ({"date_from": "2022-01-01", "date_to": "2022-12-31"}, {"kabul"}),
        ({"category": "safety"}, {"mogadishu"}),
        ({"subcategory": "armed_conflict"}, {"kabul"}),
        ({"impact": "killed"}, {"mogadishu"}),
        ({"impact": "injured"}, {"juba", "secret"}),
        ({"status": "draft"}, {"juba", "secret"}),
        ({"status": "endorsed"}, {"mogadishu"}),
        ({"marking": "RED"}, {"secret"}),
        ({"country": "SS", "marking": "GREEN"}, {"juba"}),
    ],
)
def test_each_filter_returns_the_right_incidents(as_reporter, cases, params, expected):
    assert shown(as_reporter, **params) == refs(cases, *expected)


def test_the_organisation_filter_returns_that_organisations_incidents(as_reporter, cases, nrc):
    assert shown(as_reporter, organisation=nrc.pk) == refs(cases, "kabul")


@pytest.mark.parametrize(
    "query, expected",
    [
        ("checkpoint", {"juba"}),
        ("TRUCK", {"mogadishu"}),
        ("mogadishu", {"mogadishu"}),
        ("guest house", {"kabul"}),
        ("nothing like this", set()),
    ],
)
def test_search_looks_in_the_narrative_and_the_place(as_reporter, cases, query, expected):
    assert shown(as_reporter, q=query) == refs(cases, *expected)


def test_search_finds_an_incident_by_its_reference(as_reporter, cases):
    assert shown(as_reporter, q=cases["kabul"].reference) == refs(cases, "kabul")


def test_search_never_reaches_past_the_door(as_outsider, cases):
    assert shown(as_outsider, q="checkpoint") == set()


def test_an_invalid_filter_is_shown_and_the_others_still_apply(as_reporter, cases):
    response = as_reporter.get(LIST, {"date_from": "yesterday", "country": "SO"})
    assert response.context["form"].errors["date_from"]
    assert {i.reference for i in response.context["page"].items} == refs(cases, "mogadishu")


def test_the_list_shows_how_many_people_were_affected(as_reporter, reporter, undp):
    make_incident(
        reporter,
        undp,
        persons=[
            {"impact": "killed", "cause": "violence", "count": 2},
            {"impact": "injured", "cause": "violence"},
        ],
    )
    (row,) = as_reporter.get(LIST).context["page"].items
    assert row.affected == 3 and row.country_label == "South Sudan"


def test_the_list_pages_without_counting_every_row(as_reporter, reporter, undp, settings):
    settings.INCIDENTS_PER_PAGE = 10
    bulk_incidents(undp, reporter, 25)
    first = as_reporter.get(LIST).context["page"]
    assert len(first.items) == 10 and first.has_next and not first.has_previous
    assert first.items[0].reference == "SAL-BULK000024"  # most recent first
    last = as_reporter.get(LIST, {"page": 3}).context["page"]
    assert len(last.items) == 5 and not last.has_next and last.has_previous
    assert (last.start, last.end) == (21, 25)
    assert as_reporter.get(LIST, {"page": "abc"}).context["page"].number == 1
    assert as_reporter.get(LIST, {"page": 99}).context["page"].items == []


def test_the_pager_keeps_the_filters(as_reporter, reporter, undp, settings):
    settings.INCIDENTS_PER_PAGE = 10
    bulk_incidents(undp, reporter, 12)
    html = as_reporter.get(LIST, {"country": "SS"}).content.decode()
    assert "?country=SS&amp;page=2" in html


def _queries_for_a_page(client, params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, params)
    assert response.status_code == 200
    return len(queries), response


@pytest.mark.parametrize(
    "params",
    [{}, {"q": "vehicle", "impact": "injured", "country": "SS", "date_from": "2019-01-01"}],
    ids=["unfiltered", "filtered"],
)
def test_the_number_of_queries_does_not_grow_with_the_page_size(
    as_reporter, reporter, undp, nrc, settings, django_assert_max_num_queries, params
):
    bulk_incidents(undp, reporter, 60)
    params = {**params, "organisation": undp.pk} if params else params
    counts = []
    for size in (10, 50):
        settings.INCIDENTS_PER_PAGE = size
        # session, user, memberships, sharing agreements received (one read for the door and
        # the menu), the page, its affected people.
        with django_assert_max_num_queries(6 + 1):
            count, response = _queries_for_a_page(as_reporter, params)
        assert len(response.context["page"].items) == size
        counts.append(count)
    assert counts[0] == counts[1]


def test_an_htmx_request_gets_only_the_results(as_reporter, cases):
    response = as_reporter.get(LIST, {"q": "checkpoint"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"') and "<html" not in html
    assert cases["juba"].reference in html
    assert "HX-Request" in response["Vary"]


def test_the_map_draws_the_visible_filtered_incidents_with_coordinates(as_reporter, cases):
    response = as_reporter.get(MAP)
    assert response["Content-Type"].startswith("image/svg+xml")
    svg = response.content.decode()
    assert svg.count("<circle") == 3  # secret has no coordinates
    assert "<title" in svg and "3 incidents with coordinates" in svg
    assert 'data-country="SS"' in svg
    assert as_reporter.get(MAP, {"country": "SO"}).content.decode().count("<circle") == 1


def test_the_map_shows_an_outsider_only_what_they_may_see(as_outsider, cases):
    assert as_outsider.get(MAP).content.decode().count("<circle") == 1


def test_the_map_draws_at_most_the_latest_points_and_says_so(
    as_reporter, reporter, undp, monkeypatch
):
    monkeypatch.setattr("salama.incidents.views.MAX_POINTS", 5)
    bulk_incidents(undp, reporter, 8)
    svg = as_reporter.get(MAP).content.decode()
    assert svg.count("<circle") == 5
    assert "the latest 5 incidents" in svg


def test_the_map_on_the_list_has_a_text_alternative(as_reporter, cases):
    html = as_reporter.get(LIST, {"country": "SO"}).content.decode()
    image = re.search(r'<img src="/incidents/map\.svg\?country=SO"[^>]*>', html)
    assert image and 'alt="Map of where the incidents' in image.group(0)


def test_the_arabic_interface_reads_right_to_left(as_reporter):
    html = as_reporter.get(LIST, HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert '<html lang="ar" dir="rtl">' in html


def test_choosing_arabic_with_the_language_switch_turns_the_pages_right_to_left(reporter, undp):
    client = signed_in(reporter)
    client.post(reverse("set_language"), {"language": "ar", "next": LIST})
    incident = make_incident(reporter, undp)
    for url in (LIST, reverse("incidents:detail", args=[incident.reference])):
        assert 'dir="rtl"' in client.get(url).content.decode()
    assert 'dir="ltr"' in signed_in(reporter).get(LIST).content.decode()


def test_no_page_carries_an_inline_script_or_style_which_the_csp_would_block(
    as_reporter, reporter, undp
):
    incident = make_incident(reporter, undp)
    urls = [
        LIST,
        reverse("incidents:report"),
        reverse("incidents:detail", args=[incident.reference]),
    ]
    urls += [
        reverse("incidents:step", args=[incident.reference, step])
        for step in ("where", "what", "who", "sources", "marking")
    ]
    for url in urls:
        html = as_reporter.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert not re.search(r"\sstyle=", html) and "<style" not in html, url
        assert "onclick=" not in html and "javascript:" not in html, url
