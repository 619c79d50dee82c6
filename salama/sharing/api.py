"""The REST API, version 1 (django-ninja; the OpenAPI schema at ``/api/v1/openapi.json``).

Every request carries an organisation's key (``Authorization: Bearer slm_…``, see
``salama.sharing.keys``) and reads through the one door, ``Incident.objects.visible_to``, as
the key's own user: what an analyst of that organisation sees on the pages, and nothing more
(TLP:RED and other organisations' AMBER incidents never leave). An incident the key may not
see is "not found", exactly like one that does not exist. Each request is written to the audit
log (key, filters, how many incidents it returned); each key may make
``SALAMA_API_REQUESTS_PER_MINUTE`` requests a minute (120 by default; counted per server
process). No interactive docs page: it would need scripts from elsewhere; the schema is
enough for clients and code generators.
"""

import base64
import datetime

from django.conf import settings
from django.db.models import Q
from django.http import Http404
from ninja import NinjaAPI, Query, Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.throttling import AuthRateThrottle

from salama.analytics import forecast as forecasts
from salama.analytics.store import NoSnapshot
from salama.core import audit
from salama.incidents.figures import figures as scheme_figures
from salama.incidents.models import AffectedPerson, Incident, RoadCrash, Source
from salama.sharing import keys

MAX_LIMIT = 500


class PerKeyThrottle(AuthRateThrottle):
    """``SALAMA_API_REQUESTS_PER_MINUTE`` per key (read at each request); over it, 429."""

    def __init__(self):
        super().__init__("1/min")

    def allow_request(self, request) -> bool:
        self.num_requests, self.duration = self.parse_rate(
            f"{settings.API_REQUESTS_PER_MINUTE}/min"
        )
        return super().allow_request(request)

    def get_cache_key(self, request):
        return f"salama-api-throttle-{request.auth.prefix}" if request.auth else None


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
    motive: str
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


class Filters(Schema):
    country: str | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    category: str | None = None
    subcategory: str | None = None
    updated_since: datetime.datetime | None = None
    after: str | None = None
    limit: int = 100


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
    limit = max(1, min(filters.limit, MAX_LIMIT))
    found = Incident.objects.visible_to(request.auth.user).current()
    for name in ("country", "category", "subcategory"):
        if value := getattr(filters, name):
            found = found.filter(**{name: value.upper() if name == "country" else value})
    if filters.date_from:
        found = found.filter(date__gte=filters.date_from)
    if filters.date_to:
        found = found.filter(date__lte=filters.date_to)
    if filters.updated_since:
        found = found.filter(updated_at__gte=filters.updated_since)
    if filters.after:
        found = found.filter(_after(filters.after))
    page = list(found.select_related("organisation").order_by("updated_at", "id")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    audit.record(
        "api:incidents",
        actor=request.auth.user,
        object_type="incidents.incident",
        object_repr=f"{len(page)} incidents through key {request.auth.prefix}",
        after={"filters": filters.model_dump(mode="json"), "returned": len(page)},
    )
    return {"results": _rows(page), "next": _cursor(page[-1]) if more else None}


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
