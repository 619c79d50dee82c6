"""The incident page: what each persona sees, the workflow buttons, and the history."""

import pytest
from django.urls import reverse

from salama.conftest import make_incident, make_user
from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.incidents import services
from salama.incidents.models import ReportedTotal, RoadCrash, Source
from salama.incidents.tests.conftest import signed_in
from salama.organisations.choices import Role


def url(incident, action=None):
    if action:
        return reverse("incidents:transition", args=[incident.reference, action])
    return reverse("incidents:detail", args=[incident.reference])


def buttons(response) -> set[str]:
    html = response.content.decode()
    labels = {
        "edit": ">Edit<",
        "continue": ">Continue the report<",
        "submit": ">Submit<",
        "endorse": ">Endorse<",
        "send-back": ">Send back to draft<",
        "close": ">Close<",
    }
    return {name for name, label in labels.items() if label in html}


@pytest.fixture
def submitted(reporter, undp):
    return services.submit(make_incident(reporter, undp, marking=TLP.AMBER), reporter)


def test_the_reporter_sees_every_fact_of_their_incident(as_reporter, reporter, undp):
    incident = make_incident(
        reporter,
        undp,
        time="06:45",
        attack_context="ambush",
        perpetrator_type="criminal",
        motive="economic",
        vehicles_hit=True,
        persons=[
            {"impact": "killed", "cause": "violence", "count": 2, "recruitment": "national"},
            {"impact": "injured", "cause": "violence", "gender": "female", "on_duty": True},
        ],
    )
    ReportedTotal.objects.create(incident=incident, dimension="gender", value="female", count=1)
    Source.objects.create(
        incident=incident, kind="media", url="https://example.org/a", note="Radio Miraya"
    )
    html = as_reporter.get(url(incident)).content.decode()
    for text in (
        incident.reference,
        "2024-03-14",
        "06:45",
        "South Sudan (SS)",
        "Central Equatoria",
        "Juba",
        "Violence — Crime",
        "Shooting",
        "Ambush",
        "Criminal",
        "Economic",
        "vehicles or convoy",
        "Armed men stopped a clearly marked vehicle",
        "Who was affected (3)",
        "Killed",
        "Female",
        "Totals as the source reported them",
        'href="https://example.org/a"',
        "Radio Miraya",
        "United Nations Development Programme",
        "Draft",
        "TLP:GREEN",
        "Every signed-in user of Salama",
    ):
        assert text in html, text


def test_a_source_link_that_is_not_http_is_shown_as_text(as_reporter, reporter, undp):
    incident = make_incident(reporter, undp)
    Source.objects.create(incident=incident, kind="other", url="javascript:alert(1)")
    html = as_reporter.get(url(incident)).content.decode()
    assert 'href="javascript:' not in html and "javascript:alert(1)" in html


def test_road_crash_facts_are_shown(as_reporter, reporter, undp):
    incident = make_incident(
        reporter, undp, category="safety", subcategory="road_traffic", means_of_attack=""
    )
    RoadCrash.objects.create(incident=incident, vehicle_owner="un", seatbelt_worn=False)
    html = as_reporter.get(url(incident)).content.decode()
    assert "Road crash" in html and "Seatbelts worn" in html


def test_an_outsider_cannot_see_an_amber_incident_of_another_organisation(as_outsider, submitted):
    assert as_outsider.get(url(submitted)).status_code == 404
    assert as_outsider.post(url(submitted, "endorse")).status_code == 404
    assert as_outsider.get(reverse("incidents:edit", args=[submitted.reference])).status_code == 404


def test_an_outsider_sees_a_green_incident_but_no_buttons(as_outsider, reporter, undp):
    incident = services.submit(make_incident(reporter, undp, marking=TLP.GREEN), reporter)
    response = as_outsider.get(url(incident))
    assert response.status_code == 200 and buttons(response) == set()


def test_an_outsider_who_opens_an_edit_page_is_told_they_cannot_edit(as_outsider, reporter, undp):
    incident = services.submit(make_incident(reporter, undp, marking=TLP.GREEN), reporter)
    step = reverse("incidents:step", args=[incident.reference, "where"])
    response = as_outsider.get(step, follow=True)
    assert response.redirect_chain[-1][0] == url(incident)
    assert "You cannot edit" in response.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in_from_the_incident_page(client, submitted):
    for response in (client.get(url(submitted)), client.post(url(submitted, "endorse"))):
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_the_reporter_of_a_draft_may_continue_and_submit_it(as_reporter, reporter, undp):
    incident = make_incident(reporter, undp)
    assert buttons(as_reporter.get(url(incident))) == {"continue", "submit"}
    response = as_reporter.post(url(incident, "submit"), follow=True)
    assert "is submitted for endorsement" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == c.Status.SUBMITTED


def test_the_reporter_of_a_submitted_incident_gets_no_endorse_button(as_reporter, submitted):
    assert buttons(as_reporter.get(url(submitted))) == {"edit"}


def test_an_endorser_sees_endorse_and_send_back_on_someone_elses_submission(as_endorser, submitted):
    assert buttons(as_endorser.get(url(submitted))) == {"edit", "endorse", "send-back"}


def test_endorsement_by_a_second_person_works(as_endorser, endorser, submitted):
    response = as_endorser.post(url(submitted, "endorse"), follow=True)
    assert response.status_code == 200
    assert "is endorsed" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == c.Status.ENDORSED and submitted.endorsed_by == endorser
    assert buttons(response) == {"edit", "close"}


def test_the_reporter_cannot_endorse_their_own_report_and_is_told_why(as_reporter, submitted):
    response = as_reporter.post(url(submitted, "endorse"), follow=True)
    assert response.status_code == 200
    assert "The person who reported an incident cannot endorse it." in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == c.Status.SUBMITTED


def test_a_colleague_without_the_endorser_role_cannot_endorse(undp, submitted):
    colleague = signed_in(make_user("cora", undp, roles=(Role.REPORTER,)))
    assert "endorse" not in buttons(colleague.get(url(submitted)))
    response = colleague.post(url(submitted, "endorse"), follow=True)
    assert "Only an endorser of UNDP can endorse this incident." in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == c.Status.SUBMITTED


def test_an_endorser_who_reported_the_incident_cannot_endorse_it(endorser, undp):
    incident = services.submit(make_incident(endorser, undp), endorser)
    client = signed_in(endorser)
    assert "endorse" not in buttons(client.get(url(incident)))
    response = client.post(url(incident, "endorse"), follow=True)
    assert "cannot endorse it" in response.content.decode()


def test_a_move_that_is_not_allowed_from_the_current_status_is_a_message(
    as_endorser, reporter, undp
):
    draft = make_incident(reporter, undp)
    response = as_endorser.post(url(draft, "endorse"), follow=True)
    assert response.status_code == 200
    assert "cannot move from “Draft” to “Endorsed”." in response.content.decode()


def test_an_endorser_may_send_a_submission_back_and_close_an_endorsed_one(
    as_endorser, endorser, submitted
):
    as_endorser.post(url(submitted, "send-back"))
    submitted.refresh_from_db()
    assert submitted.status == c.Status.DRAFT
    incident = services.endorse(services.submit(submitted, endorser), endorser)
    as_endorser.post(url(incident, "close"))
    incident.refresh_from_db()
    assert incident.status == c.Status.CLOSED
    assert buttons(as_endorser.get(url(incident))) == set()


def test_an_unknown_action_and_a_get_on_an_action_are_refused(as_endorser, submitted):
    assert as_endorser.post(url(submitted, "delete")).status_code == 404
    assert as_endorser.get(url(submitted, "endorse")).status_code == 405


def test_the_history_says_who_did_what_and_what_changed(as_reporter, reporter, endorser, undp):
    incident = make_incident(reporter, undp)
    services.update_incident(
        incident.pk,
        user=endorser,
        expected_version=1,
        fields={"place": "Yei", "motive": "political"},
    )
    incident = services.submit(incident, reporter)
    history = as_reporter.get(url(incident)).context["history"]
    assert [(h["action"], h["who"]) for h in history] == [
        ("Submitted", "rita"),
        ("Edited", "emma"),
        ("Created", "rita"),
    ]
    edit = {change.label: (change.before, change.after) for change in history[1]["changes"]}
    assert edit == {"Place": ("Juba", "Yei"), "Motive": ("—", "Political")}
    submitted = {change.label: change.after for change in history[0]["changes"]}
    assert submitted["Status"] == "Submitted"
    html = as_reporter.get(url(incident)).content.decode()
    assert "History" in html and "Yei" in html


def test_the_history_shows_changes_to_the_affected_persons(as_reporter, reporter, undp):
    incident = make_incident(reporter, undp)
    services.update_incident(
        incident.pk,
        user=reporter,
        expected_version=1,
        persons=[{"impact": "killed", "cause": "violence", "count": 2}],
    )
    history = as_reporter.get(url(incident)).context["history"]
    (change,) = history[0]["changes"]
    assert change.label == "Affected persons"
    assert change.before.startswith("1 × Injured") and change.after.startswith("2 × Killed")


def test_a_red_incident_is_seen_by_its_named_recipients_only(reporter, endorser, undp):
    incident = make_incident(reporter, undp, marking=TLP.RED)
    colleague = make_user("cora", undp, roles=(Role.REPORTER,))
    assert signed_in(colleague).get(url(incident)).status_code == 404
    services.update_incident(incident.pk, user=reporter, expected_version=1, recipients=[colleague])
    html = signed_in(colleague).get(url(incident)).content.decode()
    assert "Named recipients" in html and "cora" in html


def test_coordinates_keep_the_decimal_point_in_every_language(client, reporter, undp):
    from decimal import Decimal

    from salama.conftest import make_incident

    incident = make_incident(
        reporter, undp, country="SD", latitude=Decimal("14.070929"), longitude=Decimal("33.5")
    )
    client.force_login(reporter)
    for language in ("fr", "ru", "ar"):
        page = client.get(url(incident), headers={"accept-language": language}).content.decode()
        assert "14.070929, 33.5" in page.replace("33.500000", "33.5")
