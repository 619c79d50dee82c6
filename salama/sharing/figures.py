"""Figures an agreement shares: incidents and affected people per country and year, with
small cells suppressed.

Every level of agreement shares these figures (at the aggregate level they are all that is
shared). They count the incidents the agreement covers (``agreements.records``: the
provider's TLP:AMBER incidents past draft, in the agreement's countries) — the provider's
TLP:CLEAR and TLP:GREEN incidents are in the recipient's own lists and dashboards already, and
TLP:AMBER+STRICT and TLP:RED are never shared, not even as a count.

A count from 1 to ``settings.SHARING_MIN_CELL`` − 1 is suppressed (``None``, shown as
"fewer than N"). No totals are published beside the cells, so a suppressed cell cannot be
worked out by subtraction; incidents and people are separate counts (a person counts once
per incident, under the most severe impact).
"""

from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import ExtractYear

from salama.incidents import choices as c
from salama.incidents.models import AffectedPerson
from salama.sharing.agreements import records

# The people columns, as (name, impacts counted under it).
PEOPLE = (
    ("killed", (c.Impact.KILLED,)),
    ("injured", (c.Impact.INJURED,)),
    ("abducted", (c.Impact.ABDUCTED,)),
    ("detained", (c.Impact.ARRESTED_DETAINED,)),
    ("sexual_violence", (c.Impact.SEXUAL_ASSAULT,)),
    (
        "other",
        tuple(
            i
            for i in c.Impact
            if i
            not in {
                c.Impact.KILLED,
                c.Impact.INJURED,
                c.Impact.ABDUCTED,
                c.Impact.ARRESTED_DETAINED,
                c.Impact.SEXUAL_ASSAULT,
            }
        ),
    ),
)
COLUMNS = ("incidents", *(name for name, _ in PEOPLE))


def suppress(value: int, minimum: int | None = None) -> int | None:
    minimum = minimum or settings.SHARING_MIN_CELL
    return None if 0 < value < minimum else value


def figures(agreement, minimum: int | None = None) -> list[dict]:
    """One row per country and year the agreement covers (newest year first): ``country``,
    ``year`` and each of ``COLUMNS`` (``None`` where suppressed)."""
    incidents = records(agreement)
    rows: dict[tuple[str, int], dict] = {}
    for row in (
        incidents.annotate(year=ExtractYear("date"))
        .values("country", "year")
        .annotate(n=Count("id"))
        .order_by()
    ):
        rows[(row["country"], row["year"])] = {"incidents": row["n"]}
    sums = {
        name: Sum("count", filter=Q(impact__in=list(impacts)), default=0)
        for name, impacts in PEOPLE
    }
    for row in (
        AffectedPerson.objects.filter(incident__in=incidents.values("pk"))
        .annotate(country=F("incident__country"), year=ExtractYear("incident__date"))
        .values("country", "year")
        .annotate(**sums)
        .order_by()
    ):
        rows.setdefault((row["country"], row["year"]), {"incidents": 0}).update(
            {name: row[name] for name, _ in PEOPLE}
        )
    return [
        {
            "country": country,
            "year": year,
            **{name: suppress(cells.get(name, 0), minimum) for name in COLUMNS},
        }
        for (country, year), cells in sorted(rows.items(), key=lambda kv: (-kv[0][1], kv[0][0]))
    ]
