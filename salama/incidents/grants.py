"""Organisations that may see another organisation's TLP:AMBER incidents in full.

TLP:AMBER lets the owner share with other organisations on a need-to-know basis; Salama records
that decision as a sharing agreement (``salama.sharing``). That app answers here, through the
provider it registers at start-up, so that ``Incident.objects.visible_to`` — and the analytics
door written after it — widen in one place while ``incidents`` knows nothing of agreements.

A :class:`Grant` reads: the user may see the TLP:AMBER incidents (past draft) of organisation
``organisation_id`` in ``countries`` (``None``: every country). TLP:AMBER+STRICT and TLP:RED
are never granted.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q

from salama.organisations.models import organisation_ids


@dataclass(frozen=True)
class Grant:
    organisation_id: int
    countries: tuple[str, ...] | None = None  # ISO 3166 alpha-2; None: every country


_providers: list[Callable] = []


def register(provider: Callable) -> None:
    """Add ``provider(user) -> iterable of Grant`` (once; apps call it from ``ready``)."""
    if provider not in _providers:
        _providers.append(provider)


def for_user(user) -> list[Grant]:
    """The grants ``user`` holds, merged per organisation, without the user's own
    organisations (they see those already). Cached on the user object for its request."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_salama_grants", None)
    if cached is not None:
        return cached
    own = set(organisation_ids(user))
    merged: dict[int, set[str] | None] = {}
    for provider in _providers:
        for grant in provider(user):
            if grant.organisation_id in own:
                continue
            if grant.countries is None or merged.get(grant.organisation_id, set()) is None:
                merged[grant.organisation_id] = None
            else:
                merged.setdefault(grant.organisation_id, set()).update(grant.countries)
    grants = [
        Grant(org, None if countries is None else tuple(sorted(countries)))
        for org, countries in sorted(merged.items())
        if countries is None or countries
    ]
    user._salama_grants = grants
    return grants


def forget(user) -> None:
    """Drop the cached grants (after an agreement changes within one request)."""
    if hasattr(user, "_salama_grants"):
        del user._salama_grants


def as_q(grants: list[Grant]) -> Q:
    """The incidents the grants cover (marking and status are the caller's to add)."""
    found = Q(pk__in=[])
    everywhere = [g.organisation_id for g in grants if g.countries is None]
    if everywhere:
        found |= Q(organisation_id__in=everywhere)
    for grant in grants:
        if grant.countries is not None:
            found |= Q(organisation_id=grant.organisation_id, country__in=grant.countries)
    return found
