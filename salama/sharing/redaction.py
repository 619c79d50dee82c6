"""The redacted form of an incident, as a redacted-level agreement shares it.

Modelled on what WHO's Surveillance System for Attacks on Health Care publishes and withholds
(domain.md §6.3, §7.2): what happened, in which country and province, in which month, to how
many people — never who, exactly where, or who said so.

Kept: the provider's reference (so partners can ask about a record), the month (the year
when the date is only known to the year), country and province (admin 1), category,
sub-category, means of attack, attack context, perpetrator type, motive, what was hit,
verification, and counts of affected people by impact, cause and recruitment.

Withheld: the day, district, place and coordinates, location type, the perpetrator's name,
sources, reporter and named recipients, gender, each person's organisation, medical status and
duty status, road-crash details, and the narrative unless the agreement shares narratives.
Sexual violence is never shown per incident to another organisation (survivor-centred:
least access), nor flagged on the record: it counts in the figures only
(``salama.sharing.figures``, where small cells are suppressed).
"""

import datetime
from collections import Counter

from salama.incidents import choices as c
from salama.incidents.models import AffectedPerson, Incident
from salama.sharing.models import Agreement

KEPT = (
    "reference",
    "country",
    "admin1",
    "category",
    "subcategory",
    "means_of_attack",
    "attack_context",
    "perpetrator_type",
    "motive",
    "premises_hit",
    "vehicles_hit",
    "supplies_hit",
    "health_facility_hit",
    "verification",
    "updated_at",
)
WITHHELD_IMPACTS = (c.Impact.SEXUAL_ASSAULT,)
# The columns a redacted queryset needs (nothing withheld is even read).
ONLY = (*KEPT, "id", "date", "date_precision", "narrative", "organisation__acronym")


def coarse_date(date: datetime.date, precision: str) -> tuple[datetime.date, str]:
    """The first day of the month (or of the year, when only the year is known)."""
    if precision == c.DatePrecision.YEAR:
        return date.replace(month=1, day=1), c.DatePrecision.YEAR
    return date.replace(day=1), c.DatePrecision.MONTH


def redact_many(incidents: list[Incident], agreement: Agreement) -> list[dict]:
    """Each incident's redacted record under ``agreement``'s terms, in the given order.
    Affected people are read in one query for the whole list."""
    ids = [i.pk for i in incidents]
    people: dict[int, Counter] = {pk: Counter() for pk in ids}
    for incident_id, impact, cause, recruitment, count in AffectedPerson.objects.filter(
        incident_id__in=ids
    ).values_list("incident_id", "impact", "cause", "recruitment", "count"):
        people[incident_id][(impact, cause, recruitment)] += count
    records = []
    for incident in incidents:
        date, precision = coarse_date(incident.date, incident.date_precision)
        counted = people[incident.pk]
        persons = [
            {"impact": impact, "cause": cause, "recruitment": recruitment, "count": n}
            for (impact, cause, recruitment), n in sorted(
                counted.items(), key=lambda item: c.IMPACT_SEVERITY.index(item[0][0])
            )
            if impact not in WITHHELD_IMPACTS
        ]
        records.append(
            {
                **{name: getattr(incident, name) for name in KEPT},
                "date": date,
                "date_precision": precision,
                "organisation": incident.organisation.acronym,
                "narrative": incident.narrative if agreement.narratives else "",
                "narrative_withheld": not agreement.narratives and bool(incident.narrative),
                "persons": persons,
            }
        )
    return records


def redact(incident: Incident, agreement: Agreement) -> dict:
    return redact_many([incident], agreement)[0]
