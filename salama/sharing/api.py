"""The REST API, version 1 (django-ninja; the OpenAPI schema at ``/api/v1/openapi.json``).

Every request carries an organisation's key (``Authorization: Bearer slm_…``, see
``salama.sharing.keys``) and reads through the one door, ``Incident.objects.visible_to``, as
the key's own user: what an analyst of that organisation sees on the pages, and nothing more
(TLP:RED and other organisations' AMBER incidents never leave). An incident the key may not
see is "not found", exactly like one that does not exist. Each request is written to the audit
log (key, filters, how many incidents it returned); each key may make
``SALAMA_API_REQUESTS_PER_MINUTE`` requests a minute (120 by default; counted in the
database, so every server process shares it: ``salama.sharing.throttle``). No interactive
docs page: it would need scripts from elsewhere; the schema is enough for clients and code
generators.

Sharing agreements (``salama.sharing.agreements``): ``/shared`` lists those in force that share
with the key's organisation; a redacted-level one's records come through
``/shared/{id}/incidents`` (``redaction``), every level's figures through
``/shared/{id}/figures``; a full-level one's records are in ``/incidents`` already (the door
widens). ``/references`` and ``/merged`` let a copy (``salama exchange pull``) withdraw what is
no longer shared and follow merges, which ``/incidents`` (current incidents only) cannot say.
"""

import base64
import datetime

from django.conf import settings
from django.db.models import Q
from django.http import Http404
from ninja import NinjaAPI, Query, Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer

from salama.analytics import forecast as forecasts
from salama.analytics.store import NoSnapshot
from salama.core import audit
from salama.incidents import choices as c
from salama.incidents.figures import figures as scheme_figures
from salama.incidents.models import AffectedPerson, Incident, RoadCrash, Source
from salama.sharing import agreements, keys, redaction
from salama.sharing import figures as sharing_figures
from salama.sharing.models import Agreement
from salama.sharing.throttle import PerKeyThrottle

MAX_LIMIT = 500
# References are short: a reconciliation reads many a page.
MAX_REFERENCES = 5000


class KeyAuth(HttpBearer):
    def authenticate(self, request, token):
        key = keys.authenticate(token)
        if key is not None:
            request.api_key = key
        return key


api = NinjaAPI(
    title="Salama",
    version="1",
    description=(
        "Security incidents affecting humanitarian and UN personnel, as the key's "
        "organisation may see them. Counts of people, never names."
    ),
    urls_namespace="api-v1",
    docs_url=None,
    auth=KeyAuth(),
    throttle=[PerKeyThrottle()],
)


class Person(Schema):
    count: int
    impact: str
    cause: str
    recruitment: str
    gender: str
    organisation_type: str
    is_medical: bool | None
    on_duty: bool | None


class SourceOut(Schema):
    kind: str
    system: str
    external_id: str
    reported_on: datetime.date | None


class RoadCrashOut(Schema):
    vehicle_owner: str
    vehicle_type: str
    driver_category: str
    seatbelt_worn: bool | None
    speed_related: bool | None
    light_condition: str
    third_party_killed: int
    third_party_seriously_injured: int
    third_party_slightly_injured: int


class IncidentOut(Schema):
    reference: str
    status: str
    marking: str
    date: datetime.date
    date_precision: str
    time: datetime.time | None  # local time, when known
    country: str
    admin1: str
    admin2: str
    place: str
    latitude: float | None
    longitude: float | None
    coordinate_precision: str
    location_type: str
    category: str
    subcategory: str
    means_of_attack: str
    attack_context: str
    perpetrator_type: str
    perpetrator_name: str
    motive: str
    premises_hit: bool
    vehicles_hit: bool
    supplies_hit: bool
    health_facility_hit: bool
    verification: str
    narrative: str
    updated_at: datetime.datetime
    organisation: str
    persons: list[Person]
    road_crash: RoadCrashOut | None  # the facts of a road crash (the safety sub-category)


class IncidentDetail(IncidentOut):
    sources: list[SourceOut]


class Page(Schema):
    results: list[IncidentOut]
    next: str | None  # pass as ``after`` for the next page; null on the last


class PageFilters(Schema):
    """Paging by last change: ``updated_since`` to synchronise, ``next`` as ``after``."""

    updated_since: datetime.datetime | None = None
    after: str | None = None
    limit: int = 100


class SharedFilters(PageFilters):
    country: str | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


class Filters(SharedFilters):
    category: str | None = None
    subcategory: str | None = None


FIELDS = [
    name
    for name in IncidentOut.model_fields
    if name not in ("organisation", "persons", "road_crash")
]


def _cursor(incident) -> str:
    text = f"{incident.updated_at.isoformat()}|{incident.pk}"
    return base64.urlsafe_b64encode(text.encode()).decode()


def _after(cursor: str) -> Q:
    try:
        moment, pk = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        moment, pk = datetime.datetime.fromisoformat(moment), int(pk)
    except (ValueError, UnicodeDecodeError):
        raise HttpError(
            400, "Unknown 'after' cursor: pass the 'next' value of the previous page."
        ) from None
    return Q(updated_at__gt=moment) | Q(updated_at=moment, pk__gt=pk)


def _where(found, filters: SharedFilters):
    """``found`` narrowed to the filters' country and dates."""
    if filters.country:
        found = found.filter(country=filters.country.upper())
    if filters.date_from:
        found = found.filter(date__gte=filters.date_from)
    if filters.date_to:
        found = found.filter(date__lte=filters.date_to)
    return found


def _paged(found, updated_since, after, limit) -> tuple[list, str | None]:
    """One page of ``found`` by last change, and the cursor of the next (None on the last)."""
    limit = max(1, min(limit, MAX_LIMIT))
    if updated_since:
        found = found.filter(updated_at__gte=updated_since)
    if after:
        found = found.filter(_after(after))
    page = list(found.order_by("updated_at", "id")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return page, _cursor(page[-1]) if more else None


def _rows(incidents: list[Incident], with_sources: bool = False) -> list[dict]:
    ids = [i.pk for i in incidents]
    persons: dict[int, list] = {i: [] for i in ids}
    for person in AffectedPerson.objects.filter(incident_id__in=ids).order_by("id"):
        persons[person.incident_id].append(person)
    crashes = {crash.incident_id: crash for crash in RoadCrash.objects.filter(incident_id__in=ids)}
    sources: dict[int, list] = {i: [] for i in ids}
    if with_sources:
        for source in Source.objects.filter(incident_id__in=ids).order_by("id"):
            sources[source.incident_id].append(source)
    return [
        {
            **{name: getattr(i, name) for name in FIELDS},
            "organisation": i.organisation.acronym,
            "persons": persons[i.pk],
            "road_crash": crashes.get(i.pk),
            "sources": sources[i.pk],
        }
        for i in incidents
    ]


@api.get("/incidents", response=Page, summary="Incidents the key may see, oldest change first")
def incidents(request, filters: Query[Filters]):
    """Page through incidents by last change (``updated_since`` to synchronise; ``next`` as
    ``after`` for the following page), at most 500 a page."""
    found = _where(Incident.objects.visible_to(request.auth.user).current(), filters)
    for name in ("category", "subcategory"):
        if value := getattr(filters, name):
            found = found.filter(**{name: value})
    page, following = _paged(
        found.select_related("organisation"), filters.updated_since, filters.after, filters.limit
    )
    audit.record(
        "api:incidents",
        actor=request.auth.user,
        object_type="incidents.incident",
        object_repr=f"{len(page)} incidents through key {request.auth.prefix}",
        after={"filters": filters.model_dump(mode="json"), "returned": len(page)},
    )
    return {"results": _rows(page), "next": following}


@api.get("/incidents/{reference}", response=IncidentDetail, summary="One incident")
def incident(request, reference: str):
    found = (
        Incident.objects.visible_to(request.auth.user)
        .select_related("organisation")
        .filter(reference__iexact=reference)
        .first()
    )
    if found is None:
        raise Http404("No incident with this reference that this key may see.")
    audit.record(
        "api:incident",
        actor=request.auth.user,
        obj=found,
        after={"key": request.auth.prefix},
    )
    return _rows([found], with_sources=True)[0]


class AwsdFigures(Schema):
    year: int
    incidents: int
    killed: int
    wounded: int
    kidnapped: int
    affected: int
    nationals: int
    internationals: int
    female: int


@api.get("/figures/awsd/{year}", response=AwsdFigures, summary="A year's AWSD-style figures")
def awsd_figures(request, year: int):
    """Incidents and people killed, wounded, kidnapped (AWSD's definitions) in ``year``,
    counted from the incidents the key may see: people and incidents are separate counts."""
    if not 1900 <= year <= 2100:
        raise HttpError(400, "Give a year between 1900 and 2100.")
    result = scheme_figures("awsd", year, user=request.auth.user)
    audit.record(
        "api:figures",
        actor=request.auth.user,
        object_type="incidents.incident",
        object_repr=f"AWSD figures {year} through key {request.auth.prefix}",
        after={"scheme": "awsd", "year": year},
    )
    return result


class ForecastOut(Schema):
    country: str
    month: str
    model: str
    mean: float
    low: int
    high: int
    p_any: float
    recent_share: float
    warning: bool
    skill: float | None


@api.get("/forecast", response=list[ForecastOut], summary="Next month's major attacks")
def forecast(request, country: str | None = None):
    """Major attacks expected next month per country, from the incidents the key may see: the
    80 % interval, the probability of at least one, the early-warning flag, and the model that
    did best in the country's backtest (see docs/analytics.md, "Forecasts")."""
    try:
        results = forecasts.forecast(
            request.auth.user, countries=[country.upper()] if country else None
        )
    except NoSnapshot:
        raise HttpError(503, "The analytics snapshot is being built; try again shortly.") from None
    audit.record(
        "api:forecast",
        actor=request.auth.user,
        object_type="incidents.incident",
        object_repr=f"forecast through key {request.auth.prefix}",
        after={"country": country, "countries": len(results)},
    )
    return [r.as_dict() for r in results]


# -- sharing agreements ------------------------------------------------------------------------


class SharedAgreement(Schema):
    id: int
    provider: str  # the providing organisation's acronym
    provider_name: str
    level: str  # full, redacted or aggregate
    countries: list[str]  # ISO 3166 alpha-2; empty: every country
    narratives: bool
    assessments: bool  # full level: the provider's security risk assessments are shared too
    starts_on: datetime.date
    ends_on: datetime.date | None
    purpose: str


class RedactedPerson(Schema):
    impact: str
    cause: str
    recruitment: str
    count: int


class RedactedOut(Schema):
    reference: str
    organisation: str
    date: datetime.date  # the first day of the month (of the year, when only it is known)
    date_precision: str
    country: str
    admin1: str
    category: str
    subcategory: str
    means_of_attack: str
    attack_context: str
    perpetrator_type: str
    motive: str
    premises_hit: bool
    vehicles_hit: bool
    supplies_hit: bool
    health_facility_hit: bool
    verification: str
    narrative: str
    narrative_withheld: bool
    updated_at: datetime.datetime
    persons: list[RedactedPerson]


class RedactedPage(Schema):
    results: list[RedactedOut]
    next: str | None  # pass as ``after`` for the next page; null on the last


class FigureRow(Schema):
    country: str
    year: int
    incidents: int | None  # null: suppressed (fewer than minimum_cell)
    killed: int | None
    injured: int | None
    abducted: int | None
    detained: int | None
    sexual_violence: int | None
    other: int | None


class SharedFigures(Schema):
    agreement: int
    minimum_cell: int  # counts from 1 to minimum_cell - 1 are suppressed (null)
    rows: list[FigureRow]


class ReferencePage(Schema):
    results: list[str]
    next: str | None  # pass as ``after`` for the next page; null on the last


class MergedOut(Schema):
    reference: str
    merged_into: str
    updated_at: datetime.datetime


class MergedPage(Schema):
    results: list[MergedOut]
    next: str | None


def _received(request, agreement_id: int) -> Agreement:
    """An agreement in force that shares with the key's organisation; any other is "not
    found", exactly like one that does not exist."""
    found = agreements.received(request.auth.user).filter(pk=agreement_id).first()
    if found is None:
        raise Http404("No agreement in force with this id shares with this key's organisation.")
    return found


def _agreement_out(agreement: Agreement) -> dict:
    return {
        "id": agreement.pk,
        "provider": agreement.provider.acronym,
        "provider_name": agreement.provider.name,
        "level": agreement.level,
        "countries": agreement.countries,
        "narratives": agreement.narratives,
        "assessments": agreement.assessments,
        "starts_on": agreement.starts_on,
        "ends_on": agreement.ends_on,
        "purpose": agreement.purpose,
    }


@api.get("/shared", response=list[SharedAgreement], summary="Agreements sharing with the key")
def shared(request):
    """The sharing agreements in force that share with the key's organisation. At the full
    level their records come through ``/incidents``; at the redacted level through
    ``/shared/{id}/incidents``; every level has ``/shared/{id}/figures``."""
    found = list(agreements.received(request.auth.user).order_by("pk"))
    audit.record(
        "api:shared",
        actor=request.auth.user,
        object_type="sharing.agreement",
        object_repr=f"{len(found)} agreements through key {request.auth.prefix}",
        after={"agreements": [a.pk for a in found]},
    )
    return [_agreement_out(a) for a in found]


@api.get(
    "/shared/{agreement_id}/incidents",
    response=RedactedPage,
    summary="A redacted agreement's records, oldest change first",
)
def shared_incidents(request, agreement_id: int, filters: Query[SharedFilters]):
    """The redacted form of the records a redacted-level agreement shares (month, country and
    province, what happened, counts of people; never who, exactly where or who said so), paged
    by last change like ``/incidents``. A full-level agreement's records come through
    ``/incidents`` as they are; an aggregate one shares ``/shared/{id}/figures`` only."""
    agreement = _received(request, agreement_id)
    if agreement.level == Agreement.Level.FULL:
        raise HttpError(
            409,
            "This agreement shares full records: they come through /api/v1/incidents "
            "with every other incident this key may see.",
        )
    if agreement.level == Agreement.Level.AGGREGATE:
        raise HttpError(
            409,
            f"This agreement shares figures only: see /api/v1/shared/{agreement.pk}/figures.",
        )
    found = agreements.records(agreement).select_related("organisation").only(*redaction.ONLY)
    found = _where(found, filters)
    page, following = _paged(found, filters.updated_since, filters.after, filters.limit)
    audit.record(
        "api:shared_incidents",
        actor=request.auth.user,
        obj=agreement,
        after={
            "key": request.auth.prefix,
            "filters": filters.model_dump(mode="json"),
            "returned": len(page),
        },
    )
    return {"results": redaction.redact_many(page, agreement), "next": following}


@api.get(
    "/shared/{agreement_id}/references",
    response=ReferencePage,
    summary="The references a redacted agreement shares now",
)
def shared_references(request, agreement_id: int, after: str = "", limit: int = 1000):
    """Every reference the redacted-level agreement shares now, in reference order, so that a
    copy can withdraw the records it no longer shares."""
    agreement = _received(request, agreement_id)
    if agreement.level != Agreement.Level.REDACTED:
        raise HttpError(409, "Only a redacted-level agreement has references of its own.")
    found = agreements.records(agreement)
    results, following = _references(found, after, limit)
    audit.record(
        "api:shared_references",
        actor=request.auth.user,
        obj=agreement,
        after={"key": request.auth.prefix, "after": after, "returned": len(results)},
    )
    return {"results": results, "next": following}


@api.get(
    "/shared/{agreement_id}/figures",
    response=SharedFigures,
    summary="An agreement's figures, small cells suppressed",
)
def shared_figures(request, agreement_id: int):
    """Incidents and people per country and year the agreement covers, at every level; a
    count below ``minimum_cell`` (other than 0) is null."""
    agreement = _received(request, agreement_id)
    minimum = settings.SHARING_MIN_CELL
    rows = sharing_figures.figures(agreement, minimum)
    audit.record(
        "api:shared_figures",
        actor=request.auth.user,
        obj=agreement,
        after={"key": request.auth.prefix, "rows": len(rows)},
    )
    return {"agreement": agreement.pk, "minimum_cell": minimum, "rows": rows}


# -- reconciliation: what a copy needs to withdraw and merge what it holds ---------------------


def _references(found, after: str, limit: int) -> tuple[list[str], str | None]:
    limit = max(1, min(limit, MAX_REFERENCES))
    if after:
        found = found.filter(reference__gt=after)
    results = list(found.order_by("reference").values_list("reference", flat=True)[: limit + 1])
    more = len(results) > limit
    results = results[:limit]
    return results, results[-1] if more else None


@api.get("/references", response=ReferencePage, summary="Every reference the key may see now")
def references(request, after: str = "", limit: int = 1000):
    """The reference of every incident ``/incidents`` would return now, in reference order (at
    most 5,000 a page; ``next`` as ``after``). A copy kept by paging ``/incidents`` withdraws
    what is not in this list any more (an agreement ended, a marking tightened)."""
    found = Incident.objects.visible_to(request.auth.user).current()
    results, following = _references(found, after, limit)
    audit.record(
        "api:references",
        actor=request.auth.user,
        object_type="incidents.incident",
        object_repr=f"{len(results)} references through key {request.auth.prefix}",
        after={"after": after, "returned": len(results)},
    )
    return {"results": results, "next": following}


@api.get("/merged", response=MergedPage, summary="Incidents merged into another, by last change")
def merged(request, filters: Query[PageFilters]):
    """Incidents found to be duplicates and merged into another (the survivor), which
    ``/incidents`` no longer returns: a copy marks its own copy of ``reference`` as merged into
    its copy of ``merged_into``. Only pairs whose both incidents the key may see."""
    user = request.auth.user
    found = (
        Incident.objects.visible_to(user)
        .filter(status=c.Status.MERGED)
        .filter(merged_into__in=Incident.objects.visible_to(user).values("pk"))
        .select_related("merged_into")
        .only("id", "reference", "updated_at", "merged_into__reference")
    )
    page, following = _paged(found, filters.updated_since, filters.after, filters.limit)
    audit.record(
        "api:merged",
        actor=user,
        object_type="incidents.incident",
        object_repr=f"{len(page)} merged incidents through key {request.auth.prefix}",
        after={"filters": filters.model_dump(mode="json"), "returned": len(page)},
    )
    return {
        "results": [
            {
                "reference": i.reference,
                "merged_into": i.merged_into.reference,
                "updated_at": i.updated_at,
            }
            for i in page
        ],
        "next": following,
    }
