"""Full and incremental refresh: the snapshot says what the database says."""

import pytest

from salama.analytics import query, snapshot
from salama.conftest import make_incident
from salama.incidents import choices as c
from salama.incidents.models import AffectedPerson, Incident
from salama.incidents.services import update_incident

pytestmark = pytest.mark.django_db


def persons(impact, n=1, **extra):
    return {
        "impact": impact,
        "cause": c.Cause.VIOLENCE,
        "recruitment": c.Recruitment.NATIONAL,
        "gender": c.Gender.FEMALE,
        "count": n,
        **extra,
    }


def test_incremental_refresh_reads_only_what_changed_and_drops_what_was_deleted(
    reporter, undp, analytics_dir
):
    first = make_incident(reporter, undp, persons=[persons(c.Impact.KILLED, 2)])
    second = make_incident(reporter, undp, persons=[persons(c.Impact.INJURED)])
    result = snapshot.refresh()
    assert result.kind == "full"
    assert query.total("persons") == 3
    assert snapshot.refresh().kind == "unchanged"

    update_incident(
        first.pk,
        user=reporter,
        expected_version=first.version,
        persons=[persons(c.Impact.KILLED, 5)],
    )
    # Deleted without the ORM's cascade (other apps' tables may point at incidents).
    AffectedPerson.objects.filter(incident=second)._raw_delete("default")
    Incident.objects.filter(pk=second.pk)._raw_delete("default")
    third = make_incident(reporter, undp, persons=[persons(c.Impact.ABDUCTED, 4)])
    result = snapshot.refresh()
    assert (result.kind, result.changed, result.deleted) == ("incremental", 2, 1)
    assert query.total("persons") == 9
    assert query.run("persons", ["impact"]) == [
        {"impact": "abducted", "value": 4},
        {"impact": "killed", "value": 5},
    ]
    assert query.incident_ids("incidents") == sorted([first.pk, third.pk])

    # Compaction gives the same answer from one generation.
    result = snapshot.refresh(full=True)
    assert result.kind == "full"
    assert query.run("persons", ["impact"]) == [
        {"impact": "abducted", "value": 4},
        {"impact": "killed", "value": 5},
    ]
    names = {p.name for p in analytics_dir.glob("*.parquet")}
    assert all(
        n.endswith(f"{result.generation:06d}.parquet") or "000002" in n or "000001" in n
        for n in names
    )


def test_many_incremental_refreshes_are_compacted(reporter, undp):
    make_incident(reporter, undp)
    snapshot.refresh()
    for _ in range(snapshot.MAX_DELTAS):
        make_incident(reporter, undp)
        assert snapshot.refresh().kind == "incremental"
    make_incident(reporter, undp)
    assert snapshot.refresh().kind == "full"
    assert query.total("incidents") == snapshot.MAX_DELTAS + 2
    assert snapshot.State.load().changes == []


def test_merged_incidents_are_never_counted(reporter, undp):
    make_incident(reporter, undp, persons=[persons(c.Impact.KILLED)])
    merged = make_incident(reporter, undp, persons=[persons(c.Impact.KILLED)])
    Incident.objects.filter(pk=merged.pk).update(status=c.Status.MERGED)
    snapshot.refresh()
    assert query.total("persons") == 1
    assert query.total("incidents") == 1


def test_person_dimensions_cannot_split_incidents(reporter, undp):
    make_incident(reporter, undp)
    snapshot.refresh()
    with pytest.raises(query.QueryError, match="describes people"):
        query.run("incidents", ["gender"])
    # As a filter they select incidents with at least one such person, each counted once.
    assert query.total("incidents", {"gender": "male"}) == 1


def test_a_row_committed_long_after_it_was_saved_is_still_found(reporter, undp):
    """A transaction that commits a row stamped before the last refresh (a long import): the
    counts disagree, so every incident's version is compared."""
    import datetime

    make_incident(reporter, undp)
    snapshot.refresh()
    late = make_incident(reporter, undp, persons=[persons(c.Impact.ABDUCTED, 3)])
    Incident.objects.filter(pk=late.pk).update(
        updated_at=late.updated_at - datetime.timedelta(days=1)
    )
    result = snapshot.refresh()
    assert (result.kind, result.changed) == ("incremental", 1)
    assert query.total("persons", {"impact": "abducted"}) == 3
