import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from salama.conftest import incident_fields, make_incident, make_user
from salama.core.models import AuditEntry
from salama.incidents import choices as c
from salama.incidents import services
from salama.incidents.models import Incident
from salama.organisations.choices import Role


def test_a_new_incident_is_a_draft_with_a_reference_and_a_history(reporter, undp):
    incident = make_incident(reporter, undp)
    assert incident.status == c.Status.DRAFT
    assert incident.reference.startswith("SAL-")
    entries = list(services.history(incident))
    assert [e.action for e in entries] == ["create"]
    assert entries[0].after["persons"][0]["impact"] == "injured"


def test_a_reporter_cannot_report_for_an_organisation_they_do_not_belong_to(reporter, nrc):
    with pytest.raises(PermissionDenied):
        services.create_incident(user=reporter, organisation=nrc, fields=incident_fields())


def test_it_moves_draft_to_submitted_to_endorsed_to_closed(reporter, endorser, undp):
    incident = make_incident(reporter, undp)
    incident = services.submit(incident, reporter)
    assert incident.status == c.Status.SUBMITTED and incident.submitted_at
    incident = services.endorse(incident, endorser)
    assert incident.status == c.Status.ENDORSED and incident.endorsed_by == endorser
    incident = services.close(incident, endorser)
    assert incident.status == c.Status.CLOSED
    actions = [e.action for e in services.history(incident)]
    assert actions == ["status:closed", "status:endorsed", "status:submitted", "create"]


def test_the_reporter_cannot_endorse_their_own_report_even_as_an_endorser(endorser, undp):
    incident = services.submit(make_incident(endorser, undp), endorser)
    with pytest.raises(PermissionDenied, match="cannot endorse"):
        services.endorse(incident, endorser)


def test_only_an_endorser_of_the_owning_organisation_can_endorse(reporter, undp, nrc):
    incident = services.submit(make_incident(reporter, undp), reporter)
    colleague = make_user("cora", undp, roles=(Role.REPORTER,))
    foreign_endorser = make_user("fred", nrc, roles=(Role.ENDORSER,))
    for person in (colleague, foreign_endorser):
        with pytest.raises(PermissionDenied):
            services.endorse(incident, person)


def test_a_draft_cannot_be_endorsed_without_being_submitted(reporter, endorser, undp):
    incident = make_incident(reporter, undp)
    with pytest.raises(services.WorkflowError):
        services.endorse(incident, endorser)


def test_an_incident_with_nobody_and_nothing_hit_cannot_be_submitted(reporter, undp):
    incident = make_incident(reporter, undp, persons=[])
    with pytest.raises(services.WorkflowError, match="affected person"):
        services.submit(incident, reporter)


def test_an_edit_on_the_current_version_is_saved_with_before_and_after(reporter, undp):
    incident = make_incident(reporter, undp)
    updated = services.update_incident(
        incident.pk, user=reporter, expected_version=1, fields={"place": "Yei"}
    )
    assert updated.version == 2 and updated.place == "Yei"
    entry = AuditEntry.objects.filter(action="change").get()
    assert entry.before["place"] == "Juba" and entry.after["place"] == "Yei"


def test_a_stale_edit_is_refused_and_says_what_changed_meanwhile(reporter, endorser, undp):
    incident = make_incident(reporter, undp)
    services.update_incident(
        incident.pk, user=endorser, expected_version=1, fields={"place": "Yei"}
    )
    with pytest.raises(services.StaleEdit) as refused:
        services.update_incident(
            incident.pk, user=reporter, expected_version=1, fields={"narrative": "mine"}
        )
    assert refused.value.changes["place"] == ("Juba", "Yei")
    assert Incident.objects.get(pk=incident.pk).place == "Yei"
    assert Incident.objects.get(pk=incident.pk).narrative != "mine"


def test_an_edit_cannot_set_workflow_fields(reporter, undp):
    incident = make_incident(reporter, undp)
    with pytest.raises(ValueError, match="workflow"):
        services.update_incident(
            incident.pk, user=reporter, expected_version=1, fields={"status": "endorsed"}
        )


def test_an_edit_with_an_invalid_value_changes_nothing(reporter, undp):
    incident = make_incident(reporter, undp)
    with pytest.raises(ValidationError):
        services.update_incident(
            incident.pk, user=reporter, expected_version=1, fields={"country": "ZZ"}
        )
    assert Incident.objects.get(pk=incident.pk).version == 1


def test_an_outsider_cannot_edit(reporter, outsider, undp):
    incident = make_incident(reporter, undp)
    with pytest.raises(PermissionDenied):
        services.update_incident(
            incident.pk, user=outsider, expected_version=1, fields={"place": "x"}
        )


def test_merging_moves_the_sources_and_points_to_the_survivor(reporter, endorser, undp):
    survivor = make_incident(reporter, undp)
    duplicate = make_incident(reporter, undp)
    duplicate.sources.create(kind=c.SourceKind.MEDIA, system="awsd", external_id="42")
    merged = services.merge(duplicate, survivor, endorser)
    assert merged.status == c.Status.MERGED and merged.merged_into == survivor
    assert list(survivor.sources.values_list("external_id", flat=True)) == ["42"]
    assert not Incident.objects.visible_to(reporter).current().filter(pk=duplicate.pk).exists()


def test_only_who_sees_both_and_reviews_duplicates_may_merge(reporter, endorser, outsider, undp):
    from salama.conftest import make_user
    from salama.organisations.choices import Role

    survivor = make_incident(reporter, undp)
    duplicate = make_incident(reporter, undp, marking="AMBER")
    for someone in (reporter, outsider):  # a reporter; an analyst who cannot see the AMBER one
        with pytest.raises(PermissionDenied):
            services.merge(duplicate, survivor, someone)
    analyst = make_user("ana", undp, roles=(Role.ANALYST,))
    assert services.merge(duplicate, survivor, analyst).status == c.Status.MERGED


def test_every_change_leaves_a_verifiable_chain(reporter, endorser, undp):
    from salama.core.audit import verify

    incident = make_incident(reporter, undp)
    services.update_incident(incident.pk, user=reporter, expected_version=1, fields={"place": "Y"})
    services.endorse(services.submit(Incident.objects.get(pk=incident.pk), reporter), endorser)
    result = verify()
    assert result.ok and result.entries == 4


def test_an_edit_that_changes_nothing_keeps_the_version_and_the_history(reporter, undp):
    incident = make_incident(reporter, undp)
    same = services.update_incident(
        incident.pk, user=reporter, expected_version=1, fields={"place": incident.place}
    )
    assert same.version == 1
    assert [e.action for e in services.history(same)] == ["create"]
