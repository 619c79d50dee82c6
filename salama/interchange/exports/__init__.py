"""Exports: the incidents a person may see, in a file, in one of three schemes.

``run_export(user, format="csv", scheme="native", filters={...}, out=handle)`` writes what
``Incident.objects.visible_to(user)`` lets ``user`` see, narrowed by the incident list's own
filter form (so an export holds exactly what the list shows), in one of the formats of
:mod:`.writers` (CSV, XLSX, HXL, GeoJSON, Parquet) and one of the schemes of :mod:`.schemes`
(``native``: every field with its stable code; ``awsd``: the Aid Worker Security Database's
public layout; ``sind``: Insecurity Insight's aid-worker KIKA layout). Each scheme computes its
categories from the stored raw facts when writing, since the schemes disagree (a person
kidnapped and then killed is *killed* for AWSD and *kidnapped* for SiND).

Exports stream: incidents are read in chunks of ``CHUNK_SIZE`` by keyset pagination (newest
first, as the list shows them), with a fixed number of queries per chunk (the incidents, then
their persons, reported totals, sources and road-crash facts), and written as they come; no
format holds the whole export in memory.

Every export is written to the audit log twice: when it starts, before any byte leaves (who,
format, scheme, filters), and when it ends (how many rows, whether it finished). An export of
sensitive data is thus traceable even if the process dies half-way.
"""

from dataclasses import dataclass, field

from django.db.models import Q
from django.http import QueryDict
from django.utils.translation import gettext as _

from salama.core import audit
from salama.incidents.forms import IncidentFilterForm
from salama.incidents.models import AffectedPerson, Incident, ReportedTotal, RoadCrash, Source
from salama.interchange.exports import schemes, writers

CHUNK_SIZE = 2000

# The incident fields every scheme may use (values, not model instances: cheaper by half).
INCIDENT_FIELDS = (
    "id",
    "reference",
    "organisation__acronym",
    "status",
    "date",
    "date_precision",
    "time",
    "country",
    "admin1",
    "admin2",
    "place",
    "latitude",
    "longitude",
    "coordinate_precision",
    "coordinates_obfuscated",
    "coordinate_check",
    "location_type",
    "category",
    "subcategory",
    "means_of_attack",
    "attack_context",
    "perpetrator_type",
    "perpetrator_name",
    "motive",
    "premises_hit",
    "vehicles_hit",
    "supplies_hit",
    "health_facility_hit",
    "narrative",
    "verification",
    "marking",
    "submitted_at",
    "endorsed_at",
    "closed_at",
    "created_at",
    "updated_at",
)
PERSON_FIELDS = (
    "incident_id",
    "count",
    "impact",
    "cause",
    "recruitment",
    "gender",
    "organisation_type",
    "is_medical",
    "on_duty",
    "killed_in_captivity",
)
TOTAL_FIELDS = ("incident_id", "dimension", "value", "count")
SOURCE_FIELDS = ("incident_id", "kind", "system", "external_id", "reported_on")
CRASH_FIELDS = (
    "incident_id",
    "vehicle_owner",
    "vehicle_type",
    "driver_category",
    "seatbelt_worn",
    "speed_related",
    "light_condition",
    "third_party_killed",
    "third_party_seriously_injured",
    "third_party_slightly_injured",
)


class ExportRefused(Exception):
    """The export cannot be made as asked; the message says why, for a person to read."""


@dataclass
class Loaded:
    """One incident with everything hanging off it, as plain values."""

    incident: dict
    persons: list[dict] = field(default_factory=list)
    totals: list[dict] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    crash: dict | None = None


@dataclass
class Result:
    rows: int
    format: str
    scheme: str
    filters: dict
    completed: bool = True


def filter_form(filters) -> IncidentFilterForm:
    """The incident list's filter form, bound to ``filters`` (a QueryDict or a plain dict)."""
    if not isinstance(filters, QueryDict):
        data = QueryDict(mutable=True)
        for name, value in (filters or {}).items():
            if value not in (None, ""):
                data[name] = str(value)
        filters = data
    return IncidentFilterForm(filters)


def used_filters(form: IncidentFilterForm) -> dict:
    """The filters that narrowed the export, as plain values for the audit log."""
    data = getattr(form, "cleaned_data", {})
    used = {}
    for name, value in data.items():
        if value in (None, ""):
            continue
        used[name] = getattr(value, "acronym", value)
    return audit.jsonable(used)


def incidents_for(user, form: IncidentFilterForm):
    """What the list shows ``user`` with these filters: through the door, merged ones out."""
    return form.filter(Incident.objects.visible_to(user).current())


def chunks(incidents, chunk_size: int = CHUNK_SIZE):
    """``incidents`` newest first (as the list shows them), in chunks of :class:`Loaded`.

    Keyset pagination on (date, id) rather than one long cursor: each chunk is a short query
    the date index serves, on SQLite and PostgreSQL alike, and memory holds one chunk. Five
    queries per chunk, whatever its size; the related rows are those of incidents that came
    through the door, so they need no door of their own.
    """
    ordered = incidents.order_by("-date", "-id").values(*INCIDENT_FIELDS)
    after = None
    while True:
        page = ordered
        if after is not None:
            date, pk = after
            # The ``date <= d`` bound lets the index scan start at the last chunk's end; with
            # the OR alone PostgreSQL walks from the newest incident every time (quadratic).
            page = page.filter(Q(date__lte=date), Q(date__lt=date) | Q(date=date, id__lt=pk))
        rows = list(page[:chunk_size])
        if not rows:
            return
        after = (rows[-1]["date"], rows[-1]["id"])
        loaded = {row["id"]: Loaded(row) for row in rows}
        ids = list(loaded)
        for model, fields, attribute in (
            (AffectedPerson, PERSON_FIELDS, "persons"),
            (ReportedTotal, TOTAL_FIELDS, "totals"),
            (Source, SOURCE_FIELDS, "sources"),
        ):
            for related in model.objects.filter(incident_id__in=ids).order_by("id").values(*fields):
                getattr(loaded[related["incident_id"]], attribute).append(related)
        for crash in RoadCrash.objects.filter(incident_id__in=ids).values(*CRASH_FIELDS):
            loaded[crash["incident_id"]].crash = crash
        yield list(loaded.values())
        if len(rows) < chunk_size:
            return


def records(incidents, scheme, chunk_size: int = CHUNK_SIZE):
    """(loaded incident, row values) for every incident the scheme writes."""
    for chunk in chunks(scheme.select(incidents), chunk_size):
        for item in chunk:
            yield item, scheme.row(item)


def prepare(user, *, format: str, scheme: str, filters=None):
    """Check the request and return (writer class, scheme module, bound filter form).

    Raises :class:`ExportRefused` for an unknown format or scheme, an anonymous user, or a
    filter that is not valid (an export must never silently hold more than asked).
    """
    if not getattr(user, "is_authenticated", False):
        raise ExportRefused(_("Exports are made for a signed-in user: name one."))
    writer = writers.get(format)
    scheme_module = schemes.get(scheme)
    form = filter_form(filters)
    if not form.is_valid():
        problems = "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in form.errors.items()
        )
        raise ExportRefused(_("The filters are not valid: %(problems)s") % {"problems": problems})
    return writer, scheme_module, form


def run_export(
    user, *, format: str, scheme: str = "native", filters=None, out, chunk_size=CHUNK_SIZE
) -> Result:
    """Write the export to the binary file object ``out``; return how many rows it holds.

    Audited before the first row and after the last (see the module's docstring).
    """
    writer_class, scheme_module, form = prepare(user, format=format, scheme=scheme, filters=filters)
    used = used_filters(form)
    audit_start(user, format, scheme, used)
    rows, completed = 0, False
    try:
        writer = writer_class(out, scheme_module)
        for item, values in records(incidents_for(user, form), scheme_module, chunk_size):
            rows += writer.write(item, values)
        writer.close()
        completed = True
    finally:
        audit_end(user, format, scheme, used, rows, completed)
    return Result(rows, format, scheme, used, completed)


class Stream:
    """The export as an iterable of bytes, for a streamed download (CSV, HXL, GeoJSON).

    The caller checks the request with :func:`prepare` and calls :func:`audit_start` first,
    so the entry exists before the response begins. The end entry is written by ``close()``,
    which the web server calls when the response is done, finished or not (a download
    cancelled half-way, even before its first byte, says so).
    """

    def __init__(self, user, *, format: str, scheme: str, form, chunk_size=CHUNK_SIZE):
        self.user, self.format, self.scheme = user, format, scheme
        self.form, self.chunk_size = form, chunk_size
        self.rows, self.completed, self.closed = 0, False, False

    def __iter__(self):
        scheme_module = schemes.get(self.scheme)
        buffer = writers.Chunks()
        writer = writers.get(self.format)(buffer, scheme_module)
        incidents = incidents_for(self.user, self.form)
        for item, values in records(incidents, scheme_module, self.chunk_size):
            self.rows += writer.write(item, values)
            if buffer.size >= writers.FLUSH_BYTES:
                yield buffer.take()
        writer.close()
        self.completed = True
        yield buffer.take()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            used = used_filters(self.form)
            audit_end(self.user, self.format, self.scheme, used, self.rows, self.completed)


def audit_start(user, format: str, scheme: str, filters: dict) -> None:
    audit.record(
        "export.start",
        actor=user,
        object_type="incidents.incident",
        object_repr=f"export {format}/{scheme}",
        after={"format": format, "scheme": scheme, "filters": filters},
    )


def audit_end(user, format: str, scheme: str, filters: dict, rows: int, completed: bool) -> None:
    audit.record(
        "export.end",
        actor=user,
        object_type="incidents.incident",
        object_repr=f"export {format}/{scheme}: {rows} rows",
        after={
            "format": format,
            "scheme": scheme,
            "filters": filters,
            "rows": rows,
            "completed": completed,
        },
    )
