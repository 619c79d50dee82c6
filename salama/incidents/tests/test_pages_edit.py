"""Editing an incident: the step pages carry the version, and a stale edit never overwrites."""

from django.urls import reverse

from salama.conftest import make_incident
from salama.incidents import choices as c
from salama.incidents import services
from salama.incidents.models import Incident, RoadCrash
from salama.incidents.tests.conftest import page_data, signed_in, step_url


def test_two_people_edit_the_same_version_and_the_second_is_shown_the_conflict(
    as_reporter, as_endorser, reporter, undp
):
    incident = services.submit(make_incident(reporter, undp), reporter)
    first_page = as_reporter.get(step_url(incident, "where"))
    second_page = as_endorser.get(step_url(incident, "where"))
    assert first_page.context["version"] == second_page.context["version"] == incident.version

    first = as_reporter.post(
        step_url(incident, "where"), page_data(first_page, place="Yei", finish="")
    )
    assert first.status_code == 302

    second = as_endorser.post(
        step_url(incident, "where"), page_data(second_page, place="Kajo Keji", admin2="Morobo")
    )
    assert second.status_code == 409
    html = second.content.decode()
    assert "Someone else saved this incident after you opened it" in html
    changes = {row.label: (row.before, row.after) for row in second.context["conflict"]}
    assert changes == {"Place": ("Juba", "Yei")}
    # The second person's input is still in the form, and the first person's change is intact.
    assert 'value="Kajo Keji"' in html and 'value="Morobo"' in html
    incident.refresh_from_db()
    assert (incident.place, incident.admin2) == ("Yei", "")


def test_after_seeing_the_conflict_saving_again_is_a_deliberate_overwrite(
    as_reporter, as_endorser, reporter, undp
):
    incident = make_incident(reporter, undp)
    first_page = as_reporter.get(step_url(incident, "what"))
    second_page = as_endorser.get(step_url(incident, "what"))
    as_reporter.post(step_url(incident, "what"), page_data(first_page, motive="political"))
    conflict = as_endorser.post(
        step_url(incident, "what"), page_data(second_page, motive="economic")
    )
    assert conflict.status_code == 409
    assert conflict.context["version"] == 2
    again = as_endorser.post(step_url(incident, "what"), page_data(conflict))
    assert again.status_code == 302
    incident.refresh_from_db()
    assert incident.motive == "economic" and incident.version == 3


def test_a_conflict_on_the_affected_persons_keeps_both_versions_apart(
    as_reporter, as_endorser, reporter, undp
):
    incident = make_incident(reporter, undp)
    first_page = as_reporter.get(step_url(incident, "who"))
    second_page = as_endorser.get(step_url(incident, "who"))
    as_reporter.post(step_url(incident, "who"), page_data(first_page, **{"persons-0-count": "4"}))
    conflict = as_endorser.post(
        step_url(incident, "who"), page_data(second_page, **{"persons-0-impact": "killed"})
    )
    assert conflict.status_code == 409
    (row,) = conflict.context["conflict"]
    assert row.label == "Affected persons" and row.after.startswith("4 × Injured")
    person = incident.persons.get()
    assert (person.count, person.impact) == (4, "injured")


def test_an_edit_of_a_submitted_incident_keeps_its_status_and_is_in_the_history(
    as_endorser, endorser, reporter, undp
):
    incident = services.submit(make_incident(reporter, undp), reporter)
    page = as_endorser.get(step_url(incident, "what"))
    assert "Save and finish" in page.content.decode()
    response = as_endorser.post(
        step_url(incident, "what"), page_data(page, narrative="Corrected account.", finish="")
    )
    assert response["Location"] == reverse("incidents:detail", args=[incident.reference])
    incident.refresh_from_db()
    assert incident.status == c.Status.SUBMITTED and incident.narrative == "Corrected account."
    entry = next(services.history(incident))
    assert entry.action == "change" and entry.actor == endorser


def test_the_edit_link_opens_the_first_section_of_a_reported_incident(as_reporter, reporter, undp):
    incident = services.submit(make_incident(reporter, undp), reporter)
    response = as_reporter.get(reverse("incidents:edit", args=[incident.reference]))
    assert response["Location"] == step_url(incident, "where")


def test_a_closed_incident_cannot_be_edited(as_endorser, endorser, reporter, undp):
    incident = services.submit(make_incident(reporter, undp), reporter)
    incident = services.close(services.endorse(incident, endorser), endorser)
    page = as_endorser.get(step_url(incident, "where"), follow=True)
    assert "You cannot edit" in page.content.decode()
    response = as_endorser.post(step_url(incident, "where"), {"version": incident.version})
    assert response.status_code == 302
    assert Incident.objects.get(pk=incident.pk).version == incident.version


def test_moving_a_road_crash_to_another_subcategory_drops_its_crash_facts(
    as_reporter, reporter, undp
):
    incident = make_incident(
        reporter, undp, category="safety", subcategory="road_traffic", means_of_attack=""
    )
    services.update_incident(
        incident.pk, user=reporter, expected_version=1, road_crash={"vehicle_owner": "un"}
    )
    page = as_reporter.get(step_url(incident, "where"))
    as_reporter.post(step_url(incident, "where"), page_data(page, subcategory="fire"))
    incident.refresh_from_db()
    assert incident.subcategory == "fire"
    assert not RoadCrash.objects.filter(incident=incident).exists()


def test_an_imported_coordinate_flagged_outside_its_country_does_not_block_other_edits(
    as_reporter, reporter, undp
):
    incident = make_incident(reporter, undp)
    # As an importer leaves it: a point in Kenya on a South Sudan record, flagged.
    Incident.objects.filter(pk=incident.pk).update(
        latitude=-1.29, longitude=36.82, coordinate_check=c.CoordinateCheckStatus.OUTSIDE
    )
    page = as_reporter.get(step_url(incident, "where"))
    response = as_reporter.post(step_url(incident, "where"), page_data(page, place="Nimule"))
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.place == "Nimule"
    assert incident.coordinate_check == c.CoordinateCheckStatus.OUTSIDE


def test_a_named_recipient_who_edits_a_red_incident_stays_named(reporter, endorser, undp):
    incident = make_incident(reporter, undp, marking="RED")
    services.update_incident(incident.pk, user=reporter, expected_version=1, recipients=[endorser])
    client = signed_in(endorser)
    page = client.get(step_url(incident, "marking"))
    response = client.post(step_url(incident, "marking"), page_data(page))
    assert response.status_code == 302
    assert list(incident.recipients.values_list("user_id", flat=True)) == [endorser.pk]
