"""Reporting an incident in steps over the test client, as a focal point on a phone would."""

import datetime

import pytest
from django.urls import reverse

from salama.conftest import make_incident, make_user
from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.incidents.models import Incident, RoadCrash, Source
from salama.incidents.tests.conftest import page_data, signed_in, step_url
from salama.organisations.choices import Role

REPORT = reverse("incidents:report")


def where(**overrides):
    data = {
        "date": "2024-03-14",
        "date_precision": "day",
        "time": "",
        "country": "SS",
        "admin1": "Central Equatoria",
        "admin2": "",
        "place": "Juba",
        "latitude": "4.85",
        "longitude": "31.6",
        "coordinate_precision": "place",
        "category": "violence",
        "subcategory": "crime",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def start_draft(client, **overrides) -> Incident:
    response = client.post(REPORT, where(**overrides))
    assert response.status_code == 302, response.content.decode()[:2000]
    return Incident.objects.latest("id")


def test_a_reporter_reports_an_incident_step_by_step_and_submits_it(as_reporter, reporter, undp):
    response = as_reporter.get(REPORT)
    assert response.status_code == 200
    assert b"Step 1 of 5" in response.content

    # 1. When and where: creates the draft, owned by the reporter's organisation.
    response = as_reporter.post(REPORT, where(time="07:30"))
    incident = Incident.objects.get()
    assert response["Location"] == step_url(incident, "what")
    assert incident.status == c.Status.DRAFT
    assert incident.organisation == undp and incident.reported_by == reporter
    assert incident.time == datetime.time(7, 30) and incident.version == 1

    # 2. What happened.
    page = as_reporter.get(step_url(incident, "what"))
    assert b"Road crash" not in page.content
    response = as_reporter.post(
        step_url(incident, "what"),
        page_data(
            page,
            means_of_attack="shooting",
            attack_context="ambush",
            perpetrator_type="criminal",
            motive="economic",
            vehicles_hit="on",
            narrative="Two armed men stopped the vehicle at a checkpoint and robbed the crew.",
        ),
    )
    assert response["Location"] == step_url(incident, "who")
    incident.refresh_from_db()
    assert incident.means_of_attack == "shooting" and incident.vehicles_hit
    assert incident.version == 2

    # 3. Who was affected: two rows, one of them for three people.
    page = as_reporter.get(step_url(incident, "who"))
    assert b"No names here" in page.content
    data = page_data(
        page,
        add_rows=1,
        **{
            "persons-0-impact": "injured",
            "persons-0-recruitment": "national",
            "persons-0-gender": "female",
            "persons-0-on_duty": "true",
            "persons-1-count": "3",
            "persons-1-impact": "robbery",
            "persons-1-cause": "violence",
            "persons-1-organisation_type": "un",
        },
    )
    response = as_reporter.post(step_url(incident, "who"), data)
    assert response["Location"] == step_url(incident, "sources")
    persons = list(incident.persons.order_by("id").values("count", "impact", "gender", "on_duty"))
    assert persons == [
        {"count": 1, "impact": "injured", "gender": "female", "on_duty": True},
        {"count": 3, "impact": "robbery", "gender": "unknown", "on_duty": None},
    ]

    # 4. Sources.
    page = as_reporter.get(step_url(incident, "sources"))
    response = as_reporter.post(
        step_url(incident, "sources"),
        page_data(
            page,
            **{
                "sources-0-kind": "media",
                "sources-0-url": "https://example.org/news/1",
                "sources-0-note": "Local radio",
            },
        ),
    )
    assert response["Location"] == step_url(incident, "marking")
    assert list(incident.sources.values_list("kind", "url")) == [
        ("media", "https://example.org/news/1")
    ]

    # 5. Marking, then submit.
    page = as_reporter.get(step_url(incident, "marking"))
    assert "Only you and the people you name below" in page.content.decode()
    response = as_reporter.post(
        step_url(incident, "marking"), page_data(page, marking="GREEN", submit="")
    )
    assert response["Location"] == reverse("incidents:detail", args=[incident.reference])
    incident.refresh_from_db()
    assert incident.status == c.Status.SUBMITTED and incident.marking == TLP.GREEN
    response = as_reporter.get(response["Location"])
    assert "is submitted" in response.content.decode()


def test_each_step_saves_the_draft_so_the_reporter_can_come_back_to_it(as_reporter, reporter, undp):
    incident = start_draft(as_reporter)
    listing = as_reporter.get(reverse("incidents:list")).content.decode()
    assert incident.reference in listing and "Draft" in listing
    detail = as_reporter.get(reverse("incidents:detail", args=[incident.reference]))
    assert "Continue the report" in detail.content.decode()
    response = as_reporter.get(reverse("incidents:edit", args=[incident.reference]))
    assert response["Location"] == step_url(incident, "what")


def test_a_colleague_of_the_same_organisation_sees_the_draft_in_the_list(as_reporter, undp):
    incident = start_draft(as_reporter)
    colleague = signed_in(make_user("cora", undp, roles=(Role.ANALYST,)))
    assert incident.reference in colleague.get(reverse("incidents:list")).content.decode()


def test_a_future_date_is_refused_next_to_the_date_field(as_reporter):
    future = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    response = as_reporter.post(REPORT, where(date=future))
    assert response.status_code == 200
    assert response.context["form"].errors["date"] == [f"The date {future} is in the future."]
    assert not Incident.objects.exists()


def test_a_coordinate_outside_the_country_is_refused_next_to_the_latitude(as_reporter):
    # Nairobi is in Kenya, far from South Sudan.
    response = as_reporter.post(REPORT, where(latitude="-1.29", longitude="36.82"))
    errors = response.context["form"].errors
    assert "outside South Sudan" in errors["latitude"][0]
    assert 'id="id_latitude_error"' in response.content.decode()
    assert not Incident.objects.exists()


def test_only_one_of_latitude_and_longitude_is_refused(as_reporter):
    response = as_reporter.post(REPORT, where(longitude=""))
    assert response.context["form"].errors["longitude"] == [
        "Give both latitude and longitude, or neither."
    ]


def test_a_subcategory_of_another_category_is_refused(as_reporter):
    response = as_reporter.post(REPORT, where(category="violence", subcategory="road_traffic"))
    assert response.context["form"].errors["subcategory"] == [
        "road_traffic is not a sub-category of violence."
    ]


def test_a_time_needs_an_exact_day(as_reporter):
    response = as_reporter.post(REPORT, where(date_precision="month", time="10:00"))
    assert response.context["form"].errors["time"] == [
        "A time can only be given when the exact day is known."
    ]


def test_a_date_known_to_the_month_is_stored_as_the_first_of_the_month(as_reporter):
    incident = start_draft(as_reporter, date="2024-03-14", date_precision="month")
    assert incident.date == datetime.date(2024, 3, 1)
    assert incident.date_display() == "2024-03"


def test_coordinates_are_optional(as_reporter):
    incident = start_draft(as_reporter, latitude="", longitude="", coordinate_precision="")
    assert incident.latitude is None and incident.coordinate_check == ""


def test_someone_reporting_for_several_organisations_chooses_the_owner(undp, nrc):
    both = make_user("bea", undp, roles=(Role.REPORTER,))
    both.memberships.create(organisation=nrc, role=Role.REPORTER)
    client = signed_in(both)
    page = client.get(REPORT)
    assert "Report for" in page.content.decode()
    response = client.post(REPORT, where())
    assert "organisation" in response.context["form"].errors
    start = client.post(REPORT, where(organisation=str(nrc.pk)))
    assert start.status_code == 302
    assert Incident.objects.get().organisation == nrc


def test_someone_without_reporter_rights_cannot_report(as_outsider):
    response = as_outsider.get(REPORT)
    assert response.status_code == 403
    assert "You cannot report incidents" in response.content.decode()
    assert as_outsider.post(REPORT, where()).status_code == 403
    assert not Incident.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in_from_the_report_pages(client, reporter, undp):
    incident = make_incident(reporter, undp)
    for url in (REPORT, step_url(incident, "what")):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_road_crash_facts_are_asked_for_and_saved_for_a_road_traffic_incident(as_reporter):
    incident = start_draft(as_reporter, category="safety", subcategory="road_traffic")
    page = as_reporter.get(step_url(incident, "what"))
    assert "Road crash" in page.content.decode()
    response = as_reporter.post(
        step_url(incident, "what"),
        page_data(
            page,
            **{
                "crash-vehicle_owner": "un",
                "crash-vehicle_type": "light",
                "crash-driver_category": "self_drive",
                "crash-seatbelt_worn": "false",
                "crash-speed_related": "true",
                "crash-light_condition": "night",
                "crash-third_party_killed": "1",
                "crash-third_party_seriously_injured": "2",
                "crash-third_party_slightly_injured": "0",
            },
        ),
    )
    assert response.status_code == 302
    crash = RoadCrash.objects.get(incident=incident)
    assert (crash.vehicle_owner, crash.seatbelt_worn, crash.speed_related) == ("un", False, True)
    assert crash.third_party_killed == 1 and crash.third_party_seriously_injured == 2
    detail = as_reporter.get(reverse("incidents:detail", args=[incident.reference]))
    assert "1 killed, 2 seriously injured, 0 slightly injured" in detail.content.decode()


def test_a_new_person_row_defaults_its_cause_to_the_incident_category(as_reporter):
    incident = start_draft(as_reporter, category="safety", subcategory="fire")
    page = as_reporter.get(step_url(incident, "who"))
    assert page.context["formset"].forms[0]["cause"].value() == "safety"


def test_the_empty_person_row_is_ignored_and_a_removed_row_is_deleted(as_reporter, reporter, undp):
    incident = make_incident(reporter, undp)
    page = as_reporter.get(step_url(incident, "who"))
    assert len(page.context["formset"].forms) == 2  # the stored row and one empty row
    as_reporter.post(step_url(incident, "who"), page_data(page))
    assert incident.persons.count() == 1
    page = as_reporter.get(step_url(incident, "who"))
    as_reporter.post(step_url(incident, "who"), page_data(page, **{"persons-0-DELETE": "on"}))
    assert incident.persons.count() == 0


def test_a_person_row_without_impact_is_refused_next_to_the_field(as_reporter, reporter, undp):
    incident = make_incident(reporter, undp)
    page = as_reporter.get(step_url(incident, "who"))
    response = as_reporter.post(
        step_url(incident, "who"), page_data(page, **{"persons-0-impact": ""})
    )
    assert response.status_code == 200
    assert response.context["formset"].forms[0].errors["impact"]
    assert incident.persons.get().impact == c.Impact.INJURED


def test_editing_sources_keeps_what_an_import_recorded(as_reporter, reporter, undp):
    incident = make_incident(reporter, undp)
    Source.objects.create(
        incident=incident,
        kind="database_import",
        system="awsd",
        external_id="1234",
        content_hash="abc",
        note="imported",
    )
    page = as_reporter.get(step_url(incident, "sources"))
    as_reporter.post(
        step_url(incident, "sources"), page_data(page, **{"sources-0-note": "checked by phone"})
    )
    source = incident.sources.get()
    assert (source.system, source.external_id, source.content_hash) == ("awsd", "1234", "abc")
    assert source.note == "checked by phone"


def test_tlp_red_names_its_recipients_and_other_markings_name_nobody(
    as_reporter, reporter, endorser, undp
):
    incident = make_incident(reporter, undp)
    page = as_reporter.get(step_url(incident, "marking"))
    as_reporter.post(
        step_url(incident, "marking"),
        page_data(page, marking="RED", recipients=[str(endorser.pk)], stay=""),
    )
    incident.refresh_from_db()
    assert incident.marking == TLP.RED
    assert list(incident.recipients.values_list("user_id", flat=True)) == [endorser.pk]
    page = as_reporter.get(step_url(incident, "marking"))
    as_reporter.post(step_url(incident, "marking"), page_data(page, marking="AMBER", stay=""))
    assert not incident.recipients.exists()


def test_submitting_without_anyone_or_anything_affected_says_what_is_missing(
    as_reporter, reporter, undp
):
    incident = make_incident(reporter, undp, persons=[])
    page = as_reporter.get(step_url(incident, "marking"))
    response = as_reporter.post(
        step_url(incident, "marking"), page_data(page, submit=""), follow=True
    )
    assert response.status_code == 200
    assert "Add at least one affected person" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == c.Status.DRAFT


def test_a_page_posted_without_its_version_is_refused_not_guessed(as_reporter, reporter, undp):
    incident = make_incident(reporter, undp)
    page = as_reporter.get(step_url(incident, "where"))
    response = as_reporter.post(step_url(incident, "where"), page_data(page, version=None))
    assert response.status_code == 400


@pytest.mark.parametrize("step", ["where", "what", "who", "sources", "marking"])
def test_every_step_page_renders_for_the_reporter(as_reporter, reporter, undp, step):
    incident = make_incident(reporter, undp)
    response = as_reporter.get(step_url(incident, step))
    assert response.status_code == 200
    assert f'name="version" value="{incident.version}"' in response.content.decode()


def test_an_unknown_step_is_not_found(as_reporter, reporter, undp):
    incident = make_incident(reporter, undp)
    assert as_reporter.get(step_url(incident, "why")).status_code == 404


def test_malformed_input_gets_messages_not_an_error_page(as_reporter):
    response = as_reporter.post(
        REPORT, where(date="14/03/2024", time="25:99", latitude="north", country="XX")
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) >= {"date", "time", "latitude", "country"}
    assert not Incident.objects.exists()


def test_tlp_red_offers_the_organisations_members_not_every_user(
    as_reporter, reporter, endorser, outsider, undp
):
    incident = make_incident(reporter, undp)
    page = as_reporter.get(step_url(incident, "marking")).content.decode()
    assert endorser.get_username() in page
    assert outsider.get_username() not in page  # another organisation's staff stay private
    response = as_reporter.post(
        step_url(incident, "marking"),
        {"marking": "RED", "recipients": [str(outsider.pk)], "stay": ""},
    )
    assert response.status_code == 400  # refused: not a valid choice
    assert not incident.recipients.exists()


def test_someone_already_named_stays_on_the_list(as_reporter, reporter, outsider, undp):
    from salama.incidents.models import IncidentRecipient

    incident = make_incident(reporter, undp, marking=TLP.RED)
    IncidentRecipient.objects.create(incident=incident, user=outsider)
    page = as_reporter.get(step_url(incident, "marking")).content.decode()
    assert outsider.get_username() in page


def test_saving_step_one_twice_updates_the_same_draft(as_reporter, reporter, undp):
    page = as_reporter.get(REPORT)
    token = page.context["draft_token"]
    assert f'name="draft_token" value="{token}"' in page.content.decode()
    first = as_reporter.post(REPORT, where(draft_token=token))
    assert first.status_code == 302
    # Back in the browser, a change, and save again: the same draft, changed.
    second = as_reporter.post(REPORT, where(draft_token=token, place="Juba town"))
    assert second["Location"] == first["Location"]
    assert Incident.objects.count() == 1
    assert Incident.objects.get().place == "Juba town"
    # A new report (a new form, a new token) is a new draft.
    other = as_reporter.get(REPORT).context["draft_token"]
    assert other != token
    as_reporter.post(REPORT, where(draft_token=other))
    assert Incident.objects.count() == 2


def test_a_token_of_a_submitted_report_makes_a_new_draft(as_reporter, reporter, undp):
    token = as_reporter.get(REPORT).context["draft_token"]
    as_reporter.post(REPORT, where(draft_token=token))
    Incident.objects.update(status=c.Status.SUBMITTED)
    as_reporter.post(REPORT, where(draft_token=token))
    assert Incident.objects.count() == 2
