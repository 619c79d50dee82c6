"""Running linkage over the database, and the review actions: confirm, reject, unmerge."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied

from salama.conftest import make_user
from salama.core.models import AuditEntry
from salama.incidents import choices as c
from salama.incidents.models import Incident, Source
from salama.incidents.services import full_snapshot
from salama.linkage import services
from salama.linkage.frame import records_from_database
from salama.linkage.models import CandidatePair, LinkageSettings, MergeRecord, Rejection
from salama.linkage.tests.conftest import AMBUSH, KILLED_NATIONAL, make_sourced
from salama.organisations.choices import Role


def test_records_are_read_in_bulk_with_counts_and_origin(
    same_event, undp, reporter, django_assert_max_num_queries
):
    awsd, sind = same_event
    make_sourced(awsd.organisation, "awsd", "9", status=c.Status.DRAFT)  # drafts are left out
    merged = make_sourced(awsd.organisation, "awsd", "10")
    Incident.objects.filter(pk=merged.pk).update(status=c.Status.MERGED, merged_into=awsd)
    from salama.conftest import incident_fields
    from salama.incidents.services import create_incident

    own = create_incident(
        user=reporter,
        organisation=undp,
        fields=incident_fields(),
        persons=[{**KILLED_NATIONAL, "count": 2}, {**KILLED_NATIONAL, "impact": "abducted"}],
    )
    Incident.objects.filter(pk=own.pk).update(status=c.Status.SUBMITTED)
    with django_assert_max_num_queries(3):
        table = records_from_database()
    rows = {row["id"]: row for row in table.to_pylist()}
    assert set(rows) == {awsd.pk, sind.pk, own.pk}
    assert rows[awsd.pk]["origin"] == "awsd" and rows[awsd.pk]["external_id"] == "3150"
    assert rows[own.pk]["origin"] == f"org:{undp.pk}"
    assert (rows[own.pk]["killed"], rows[own.pk]["abducted"]) == (2, 1)


def test_run_proposes_the_pair_once_and_remembers_a_rejection(same_event, analyst):
    awsd, sind = same_event
    first = services.run_linkage(user=analyst)
    assert first.run.proposed == 1
    pair = CandidatePair.objects.get()
    assert (pair.incident_a_id, pair.incident_b_id) == (awsd.pk, sind.pk)
    assert pair.probability > 0.9
    assert "victims:same_counts" in pair.agreements
    again = services.run_linkage(user=analyst)
    assert again.run.proposed == 0 and CandidatePair.objects.count() == 1

    services.reject(pair.pk, analyst, reason="different convoys")
    assert Rejection.objects.filter(incident_a=awsd, incident_b=sind).exists()
    after = services.run_linkage(user=analyst)
    assert after.run.skipped_rejected == 1 and after.run.proposed == 0
    assert not services.review_queue(analyst).exists()
    assert AuditEntry.objects.filter(action="linkage:reject").count() == 1
    assert AuditEntry.objects.filter(action="linkage:run").count() == 3


def test_confirm_merges_keeping_every_source_and_who_said_what(same_event, analyst):
    awsd, sind = same_event
    services.run_linkage(user=analyst)
    pair = CandidatePair.objects.get()
    record = services.confirm(pair.pk, analyst, survivor_id=awsd.pk)
    awsd.refresh_from_db()
    sind.refresh_from_db()
    assert sind.status == c.Status.MERGED and sind.merged_into_id == awsd.pk
    assert set(awsd.sources.values_list("system", flat=True)) == {"awsd", "sind"}
    by_field = {entry["field"]: entry for entry in record.provenance}
    assert by_field["country"]["agree"] is True
    assert by_field["date"]["agree"] is False
    assert [v["value"] for v in by_field["date"]["values"]] == ["2021-06-12", "2021-06-13"]
    assert by_field["date"]["values"][1]["sources"] == ["Database import sind:30111"]
    assert by_field["victims:killed"]["agree"] is True
    pair.refresh_from_db()
    assert pair.status == CandidatePair.Status.CONFIRMED and pair.decided_by == analyst
    entry = AuditEntry.objects.get(action="linkage:merge")
    assert "date" in entry.after["disagreements"]
    # A merged incident leaves the queue and is not linked again.
    assert not services.review_queue(analyst).exists()
    assert services.run_linkage(user=analyst).run.incidents == 1


def test_unmerge_restores_both_incidents(same_event, analyst):
    awsd, sind = same_event
    before = {i.pk: full_snapshot(i) for i in same_event}
    services.run_linkage(user=analyst)
    record = services.confirm(CandidatePair.objects.get().pk, analyst, survivor_id=sind.pk)
    services.unmerge(record.pk, analyst)
    for incident in (awsd, sind):
        incident.refresh_from_db()
        now = full_snapshot(incident)
        assert {k: v for k, v in now.items() if k != "version"} == {
            k: v for k, v in before[incident.pk].items() if k != "version"
        }
    record.refresh_from_db()
    assert record.unmerged_by == analyst
    assert CandidatePair.objects.get().status == CandidatePair.Status.UNMERGED
    with pytest.raises(services.LinkageError):
        services.unmerge(record.pk, analyst)
    assert AuditEntry.objects.filter(action="unmerge", object_id=str(awsd.pk)).exists()


def test_a_decided_pair_cannot_be_decided_again(same_event, analyst):
    services.run_linkage(user=analyst)
    pair = CandidatePair.objects.get()
    services.reject(pair.pk, analyst)
    with pytest.raises(services.LinkageError):
        services.confirm(pair.pk, analyst)
    with pytest.raises(services.LinkageError):
        services.reject(pair.pk, analyst)


def test_only_analysts_who_see_both_incidents_review(
    same_event, analyst, reporter, outsider, awsd_org
):
    awsd, sind = same_event
    services.run_linkage(user=analyst)
    pair = CandidatePair.objects.get()
    with pytest.raises(PermissionDenied):
        services.confirm(pair.pk, reporter)  # not an analyst
    assert not services.review_queue(reporter).exists()
    # AWSD's record becomes AMBER: only AWSD's members see it, so the pair vanishes for others.
    Incident.objects.filter(pk=awsd.pk).update(marking="AMBER")
    assert not services.review_queue(outsider).exists()
    with pytest.raises(PermissionDenied):
        services.reject(pair.pk, outsider)
    insider = make_user("ida", awsd_org, roles=(Role.ANALYST,))
    assert list(services.review_queue(insider)) == [pair]


def test_automatic_merging_is_off_by_default_and_merges_when_on(same_event, analyst):
    awsd, sind = same_event
    config = LinkageSettings.current()
    assert config.auto_merge is False
    services.run_linkage(user=analyst)
    assert not MergeRecord.objects.exists()
    CandidatePair.objects.all().delete()
    config.auto_merge, config.auto_merge_threshold = True, 0.9
    config.save()
    result = services.run_linkage(user=analyst)
    assert result.run.auto_merged == 1
    record = MergeRecord.objects.get()
    assert record.automatic and record.merged_by is None
    sind.refresh_from_db()
    assert sind.merged_into_id == awsd.pk
    assert AuditEntry.objects.filter(action="linkage:merge").count() == 1


def test_a_proposal_the_model_no_longer_finds_is_withdrawn(same_event, analyst):
    awsd, sind = same_event
    services.run_linkage(user=analyst)
    Incident.objects.filter(pk=sind.pk).update(date=datetime.date(2021, 9, 1))
    services.run_linkage(user=analyst)
    assert not CandidatePair.objects.exists()


def test_source_rows_survive_a_merge_and_its_undo(same_event, analyst):
    services.run_linkage(user=analyst)
    record = services.confirm(CandidatePair.objects.get().pk, analyst)
    assert Source.objects.count() == 2
    services.unmerge(record.pk, analyst)
    assert sorted(Source.objects.values_list("incident_id", "system")) == sorted(
        [(same_event[0].pk, "awsd"), (same_event[1].pk, "sind")]
    )


def test_same_event_amber_reports_of_one_organisation_are_not_pairs(undp, reporter, analyst):
    # Two reports by one organisation are that organisation's own business (one origin).
    make_sourced(undp, "", "", **AMBUSH)
    make_sourced(undp, "", "", **AMBUSH)
    assert services.run_linkage(user=analyst).run.pairs == 0


def test_demo_runs_linkage_once(same_event, analyst):
    from salama.linkage.demo import load_demo

    first = load_demo({}, {"analyst": analyst})
    assert first == {"linkage runs": 1, "pairs to review": 1}
    assert load_demo({}, {"analyst": analyst}) == first
    assert AuditEntry.objects.filter(action="linkage:run").count() == 1
