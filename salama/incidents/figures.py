"""Counting rules for yearly figures, as named functions over incident querysets.

Each function takes the incidents it may count (already through the authorisation door, e.g.
``Incident.objects.visible_to(user)``, or every incident for an operator) and counts with
aggregate queries in the database, never a Python loop over rows. Incidents merged into
another are never counted: the survivor carries their facts.
"""

from django.db.models import Exists, OuterRef, Q, Sum
from django.db.models.functions import Coalesce

from salama.incidents import choices as c
from salama.incidents.models import AffectedPerson, Incident, ReportedTotal

# AWSD's outcome columns, in our impacts. AWSD counts a person kidnapped and then killed as
# killed: that person is stored as killed (with killed_in_captivity), so no rule is needed.
AWSD_OUTCOMES = {
    "killed": c.Impact.KILLED,
    "wounded": c.Impact.INJURED,
    "kidnapped": c.Impact.ABDUCTED,
    "detained": c.Impact.ARRESTED_DETAINED,
}
NATIONALS = (c.Recruitment.NATIONAL, c.Recruitment.LOCALLY_RECRUITED)


def awsd_persons(incidents=None):
    """The people AWSD counts: killed, wounded, kidnapped or detained, by violence.

    Safety incidents (road crashes, illness), intimidation, robbery and the like are left
    out, as AWSD leaves them out.
    """
    persons = AffectedPerson.objects.filter(
        cause=c.Cause.VIOLENCE, impact__in=AWSD_OUTCOMES.values()
    )
    if incidents is not None:
        persons = persons.filter(incident__in=incidents.values("pk"))
    return persons


def awsd_incidents(incidents, year: int):
    """The incidents AWSD counts in ``year``: violence, not merged, dated in that year, and
    with at least one person killed, wounded, kidnapped or detained.

    An incident known only to the month or the year is dated on its first day, so it counts
    in its year.
    """
    return (
        incidents.exclude(status=c.Status.MERGED)
        .filter(date__year=year, category=c.Category.VIOLENCE)
        .filter(Exists(awsd_persons().filter(incident=OuterRef("pk"))))
    )


def female_count(incidents) -> int:
    """Women among the people AWSD counts in ``incidents``.

    Where the source gave gender only as a total (AWSD's "Gender Female" column, stored as a
    ReportedTotal), that total is used; elsewhere, the persons recorded as female. Never both
    for the same incident, so nobody is counted twice and no split is invented.
    """
    margin = ReportedTotal.objects.filter(
        incident=OuterRef("pk"), dimension=c.ReportedTotalDimension.GENDER
    )
    from_margins = ReportedTotal.objects.filter(
        incident__in=incidents.values("pk"),
        dimension=c.ReportedTotalDimension.GENDER,
        value=c.Gender.FEMALE,
    ).aggregate(n=Coalesce(Sum("count"), 0))["n"]
    from_persons = (
        awsd_persons(incidents.filter(~Exists(margin)))
        .filter(gender=c.Gender.FEMALE)
        .aggregate(n=Coalesce(Sum("count"), 0))["n"]
    )
    return from_margins + from_persons


def awsd_figures(incidents, year: int) -> dict:
    """The Aid Worker Security Database's yearly figures, counted from ``incidents``.

    ``incidents``: incidents (AWSD's unit), ``killed`` / ``wounded`` / ``kidnapped``:
    people by outcome, ``affected``: all the people AWSD counts (its "Total affected",
    which includes the detained since AWSD added them), ``nationals`` /
    ``internationals``: the same people by recruitment (locally recruited count as
    nationals; people of unknown recruitment are in neither), ``female``: see
    :func:`female_count`. People are counted, not incidents: one incident can add several.
    """
    counted = awsd_incidents(incidents, year)
    people = awsd_persons(counted).aggregate(
        affected=Coalesce(Sum("count"), 0),
        nationals=Coalesce(Sum("count", filter=Q(recruitment__in=NATIONALS)), 0),
        internationals=Coalesce(Sum("count", filter=Q(recruitment=c.Recruitment.INTERNATIONAL)), 0),
        **{
            name: Coalesce(Sum("count", filter=Q(impact=impact)), 0)
            for name, impact in AWSD_OUTCOMES.items()
        },
    )
    return {
        "year": year,
        "incidents": counted.count(),
        "killed": people["killed"],
        "wounded": people["wounded"],
        "kidnapped": people["kidnapped"],
        "detained": people["detained"],
        "affected": people["affected"],
        "nationals": people["nationals"],
        "internationals": people["internationals"],
        "female": female_count(counted),
    }


SCHEMES = {"awsd": awsd_figures}


def figures(scheme: str, year: int, *, user=None) -> dict:
    """The figures of ``scheme`` for ``year``: what ``user`` may see, or every incident when
    no user is given (operator use: commands run by whoever runs the server)."""
    incidents = Incident.objects.all() if user is None else Incident.objects.visible_to(user)
    return SCHEMES[scheme](incidents, year)
