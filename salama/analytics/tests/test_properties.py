"""Property-based: for random data, every disaggregation sums to its total, and filtering by a
dimension's value then summing gives that value's marginal."""

import datetime

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salama.analytics import query, snapshot
from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.incidents.models import AffectedPerson, Incident

pytestmark = pytest.mark.django_db

PERSON_DIMS = [
    "year",
    "country",
    "region",
    "impact",
    "cause",
    "recruitment",
    "gender",
    "organisation_type",
    "threat_category",
    "medical",
    "recruitment_group",
]
INCIDENT_DIMS = [
    "year",
    "month",
    "country",
    "sub_region",
    "category",
    "threat_category",
    "location_type",
    "means_of_attack",
    "marking",
]

persons = st.fixed_dictionaries(
    {
        "impact": st.sampled_from(list(c.Impact)),
        "cause": st.sampled_from(list(c.Cause)),
        "recruitment": st.sampled_from(list(c.Recruitment)),
        "gender": st.sampled_from(list(c.Gender)),
        "organisation_type": st.sampled_from(list(c.AffectedOrgType)),
        "is_medical": st.sampled_from([True, False, None]),
        "count": st.integers(1, 5),
    }
)
incidents = st.lists(
    st.tuples(
        st.dates(datetime.date(2018, 1, 1), datetime.date(2024, 12, 31)),
        st.sampled_from(["SS", "AF", "SO", "UA", "HT", "CO", "AQ"]),
        st.sampled_from(list(c.SubCategory)),
        st.sampled_from(list(c.LocationType)),
        st.sampled_from(["", *c.MeansOfAttack]),
        st.sampled_from(list(TLP)),
        st.sampled_from([c.Status.SUBMITTED, c.Status.ENDORSED, c.Status.MERGED]),
        st.lists(persons, max_size=4),
    ),
    min_size=1,
    max_size=25,
)


def _load(rows, organisation, user):
    made = Incident.objects.bulk_create(
        [
            Incident(
                reference=f"P-{n}",
                organisation=organisation,
                reported_by=user,
                date=date,
                country=country,
                category=c.CATEGORY_OF[sub],
                subcategory=sub,
                location_type=location,
                means_of_attack=means,
                marking=marking,
                status=status,
            )
            for n, (date, country, sub, location, means, marking, status, _) in enumerate(rows)
        ]
    )
    AffectedPerson.objects.bulk_create(
        [
            AffectedPerson(incident=incident, **person)
            for incident, row in zip(made, rows, strict=True)
            for person in row[-1]
        ]
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=incidents,
    person_dims=st.lists(st.sampled_from(PERSON_DIMS), min_size=1, max_size=3, unique=True),
    incident_dims=st.lists(st.sampled_from(INCIDENT_DIMS), min_size=1, max_size=3, unique=True),
    as_user=st.booleans(),
)
def test_disaggregations_sum_to_totals_and_filters_give_marginals(
    undp, reporter, rows, person_dims, incident_dims, as_user
):
    with transaction.atomic():
        _load(rows, undp, reporter)
        snapshot.refresh(full=True)
        user = reporter if as_user else None
        for measure, dims in (
            ("persons", person_dims),
            ("incidents", incident_dims),
            ("major_attacks", incident_dims),
        ):
            total = query.total(measure, user=user)
            split = query.run(measure, dims, user=user)
            assert sum(r["value"] for r in split) == total
            first = dims[0]
            marginal = query.run(measure, [first], user=user)
            for row in marginal:
                if row[first] is None:
                    continue
                filtered = query.run(measure, dims[1:], {first: row[first]}, user=user)
                assert sum(r["value"] for r in filtered) == row["value"]
        expected = sum(p["count"] for r in rows if r[6] != c.Status.MERGED for p in r[-1])
        assert query.total("persons") == expected
        assert query.total("incidents") == sum(1 for r in rows if r[6] != c.Status.MERGED)
        transaction.set_rollback(True)
