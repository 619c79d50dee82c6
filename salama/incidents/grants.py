"""Organisations that may see another organisation's TLP:AMBER records in full.

TLP:AMBER lets the owner share with other organisations on a need-to-know basis; Salama records
that decision as a sharing agreement (``salama.sharing``). That app answers here, through the
provider it registers at start-up, so that ``Incident.objects.visible_to`` — and the analytics
door written after it — widen in one place while ``incidents`` knows nothing of agreements.

A :class:`Grant` reads: the user may see the TLP:AMBER records of ``subject`` (past draft) of
organisation ``organisation_id`` in ``countries`` (``None``: every country). The subjects are
``incidents`` and ``assessments`` (security risk assessments, whose door is
``risk.models.AssessmentQuerySet.visible_to``: an app below asks here, never the sharing app).
TLP:AMBER+STRICT and TLP:RED are never granted.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q

from salama.organisations.models import organisation_ids

INCIDENTS = "incidents"
ASSESSMENTS = "assessments"
SUBJECTS = (INCIDENTS, ASSESSMENTS)
CACHE = "_salama_grants"


@dataclass(frozen=True)
class Grant:
    organisation_id: int
    countries: tuple[str, ...] | None = None  # ISO 3166 alpha-2; None: every country
    subject: str = INCIDENTS


_providers: list[Callable] = []


def register(provider: Callable) -> None:
    """Add ``provider(user) -> iterable of Grant`` (once; apps call it from ``ready``)."""
    if provider not in _providers:
        _providers.append(provider)


def for_user(user, subject: str = INCIDENTS) -> list[Grant]:
    """The grants of ``subject`` that ``user`` holds, merged per organisation, without the
    user's own organisations (they see those already).

    The providers are asked once for every subject, and the answer is cached on the user
    object for its request (the incident and assessment doors of one page ask both).
    """
    if subject not in SUBJECTS:
        raise ValueError(f"Unknown grant subject {subject!r}: one of {', '.join(SUBJECTS)}.")
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, CACHE, None)
    if cached is None:
        cached = _merged(user)
        setattr(user, CACHE, cached)
    return cached[subject]


def _merged(user) -> dict[str, list[Grant]]:
    own = set(organisation_ids(user))
    merged: dict[str, dict[int, set[str] | None]] = {subject: {} for subject in SUBJECTS}
    for provider in _providers:
        for grant in provider(user):
            if grant.organisation_id in own:
                continue
            found = merged[grant.subject]
            if grant.countries is None or found.get(grant.organisation_id, set()) is None:
                found[grant.organisation_id] = None
            else:
                found.setdefault(grant.organisation_id, set()).update(grant.countries)
    return {
        subject: [
            Grant(org, None if countries is None else tuple(sorted(countries)), subject)
            for org, countries in sorted(found.items())
            if countries is None or countries
        ]
        for subject, found in merged.items()
    }


def forget(user) -> None:
    """Drop the cached grants (after an agreement changes within one request)."""
    if hasattr(user, CACHE):
        delattr(user, CACHE)


def as_q(grants: list[Grant], country: str = "country") -> Q:
    """The records the grants cover (marking and status are the caller's to add); ``country``
    is the lookup of a record's country (``area__country`` for an assessment)."""
    found = Q(pk__in=[])
    everywhere = [g.organisation_id for g in grants if g.countries is None]
    if everywhere:
        found |= Q(organisation_id__in=everywhere)
    for grant in grants:
        if grant.countries is not None:
            found |= Q(organisation_id=grant.organisation_id, **{f"{country}__in": grant.countries})
    return found
