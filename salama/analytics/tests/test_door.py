"""The DuckDB door over the snapshot equals the ORM door, persona by persona."""

import itertools

import pytest
from django.contrib.auth.models import AnonymousUser

from salama.analytics import query, snapshot
from salama.conftest import make_incident, make_user
from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.incidents.models import Incident
from salama.organisations.choices import Role

pytestmark = pytest.mark.django_db

STATUSES = [s for s in c.Status if s != c.Status.MERGED]


@pytest.fixture
def every_kind(reporter, endorser, outsider, undp, nrc):
    """An incident for every marking × status × owner, some naming the outsider."""
    other = make_user("nina", nrc, roles=(Role.REPORTER,))
    for marking, status, (who, org), named in itertools.product(
        TLP, STATUSES, [(reporter, undp), (other, nrc)], [False, True]
    ):
        incident = make_incident(who, org, marking=marking)
        Incident.objects.filter(pk=incident.pk).update(status=status)
        if named:
            incident.recipients.create(user=outsider)
    return Incident.objects.count()


def personas(reporter, endorser, outsider):
    return {
        "reporter": reporter,
        "endorser": endorser,
        "outsider": outsider,
        "anonymous": AnonymousUser(),
        "operator": None,
    }


def test_duckdb_door_equals_orm_door_for_every_persona(every_kind, reporter, endorser, outsider):
    snapshot.refresh(full=True)
    for name, user in personas(reporter, endorser, outsider).items():
        orm = Incident.objects.all() if user is None else Incident.objects.visible_to(user)
        expected = sorted(orm.values_list("pk", flat=True))
        got = query.incident_ids("incidents", user=user)
        assert got == expected, name
        persons = query.incident_ids("persons", user=user)
        assert persons == expected, name
    assert query.incident_ids("incidents", user=AnonymousUser()) == []


def test_a_marking_raised_after_the_snapshot_hides_the_incident_at_once(reporter, outsider, undp):
    """Figures may lag behind edits until the next refresh; permissions never do."""
    incident = make_incident(reporter, undp, marking=TLP.GREEN)
    Incident.objects.filter(pk=incident.pk).update(status=c.Status.SUBMITTED)
    snapshot.refresh(full=True)
    assert query.incident_ids("persons", user=outsider) == [incident.pk]
    incident.refresh_from_db()
    incident.marking = TLP.RED
    incident.save()
    assert query.incident_ids("persons", user=outsider) == []
    assert query.total("persons", user=outsider) == 0
    assert query.total("persons", user=reporter) == 1


def test_rates_count_only_the_people_each_persona_may_see(
    every_kind, reporter, endorser, outsider, undp, nrc
):
    """Rates per 10,000 read the snapshot through the same door as every other figure."""
    from django.db.models import Sum

    from salama.analytics.models import Headcount
    from salama.analytics.rates import rates_per_10000
    from salama.incidents.models import AffectedPerson

    for person in AffectedPerson.objects.select_related("incident"):  # staff of the owner
        person.organisation_id = person.incident.organisation_id
        person.save(update_fields=["organisation"])
    Headcount.objects.create(organisation=undp, country="SS", year=2024, staff=4000)
    Headcount.objects.create(organisation=nrc, country="SS", year=2024, staff=1000)
    snapshot.refresh(full=True)
    seen = set()
    for name, user in personas(reporter, endorser, outsider).items():
        people = AffectedPerson.objects.all() if user is None else AffectedPerson.objects
        if user is not None:
            people = people.visible_to(user)
        affected = (
            people.exclude(incident__status=c.Status.MERGED)
            .filter(organisation__in=[undp, nrc], incident__country="SS")
            .filter(incident__date__year=2024)
            .aggregate(n=Sum("count"))["n"]
            or 0
        )
        result = rates_per_10000("country", ["SS"], user, year_from=2024, year_to=2024)
        assert result["rows"] == [["South Sudan", f"{affected * 10000 / 5000:.1f}"]], name
        seen.add(affected)
    assert len(seen) >= 3  # the personas see different people: the test can tell them apart


def test_rates_by_organisation_type_divide_by_the_headcounts_of_that_type(
    every_kind, reporter, undp, nrc
):
    from django.db.models import Sum

    from salama.analytics.models import Headcount
    from salama.analytics.rates import rates_per_10000
    from salama.incidents.models import AffectedPerson
    from salama.organisations.choices import OrganisationType

    assert set(c.AFFECTED_TYPE_OF) == set(OrganisationType.values)
    for person in AffectedPerson.objects.select_related("incident"):
        person.organisation_id = person.incident.organisation_id
        person.save(update_fields=["organisation"])
    Headcount.objects.create(organisation=undp, country="SS", year=2024, staff=4000)
    Headcount.objects.create(organisation=nrc, country="SS", year=2024, staff=1000)
    snapshot.refresh(full=True)

    def affected(org, user):
        people = AffectedPerson.objects.visible_to(user) if user else AffectedPerson.objects
        return (
            people.exclude(incident__status=c.Status.MERGED)
            .filter(organisation=org, incident__date__year=2024)
            .aggregate(n=Sum("count"))["n"]
            or 0
        )

    for user in (None, reporter):
        result = rates_per_10000("organisation_type", [], user, year_from=2024, year_to=2024)
        assert sorted(result["rows"]) == sorted(
            [
                ["International NGO", f"{affected(nrc, user) * 10000 / 1000:.1f}"],
                ["UN", f"{affected(undp, user) * 10000 / 4000:.1f}"],
            ]
        )
    picked = rates_per_10000("organisation_type", ["ingo"], None, year_from=2024, year_to=2024)
    assert [row[0] for row in picked["rows"]] == ["International NGO"]
