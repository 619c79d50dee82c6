"""Another Salama instance's records, as its REST API gave them (``salama exchange pull``).

The exchange client (``salama.sharing.exchange``) writes what it read, page by page, to a JSON
Lines file: a first line that says where it came from (``{"salama_exchange": 1, "host": …,
"level": "full" | "redacted", "feed": …}``), then one record a line, as the remote's
``/api/v1/incidents`` (full records) or ``/api/v1/shared/{id}/incidents`` (redacted records)
returned it. The runner then imports it like any file, so a pull has the batch report,
quarantine and idempotency of every import (``salama import salama FILE`` works too).

Identity: ``Source.system`` "salama" and ``external_id`` "<remote host>/<remote reference>"
(the runner matches rows on one ``SOURCE_SYSTEM`` per format, and ``Source.system`` holds
30 characters, too few for a host name: so the host goes with the reference). A second pull
finds the same records unchanged; a record changed there is updated here.

Markings are never more open than received, and what came under TLP:AMBER goes no further:
TLP:AMBER lets the recipient share within its own organisation, not onward, and a copy here is
owned by the receiving organisation, whose own sharing agreements would otherwise pass it on.
So a full record keeps its marking, except TLP:AMBER, which becomes TLP:AMBER+STRICT (an
unknown marking is quarantined, never guessed); a redacted record is TLP:AMBER+STRICT (the
agreement shared TLP:AMBER) at month precision (year, if the remote knew only the year),
without district, place or coordinates. A remote draft is not a report yet (the remote shows
it only to its own organisation) and is quarantined rather than made a closed incident seen
more widely here.
"""

import datetime
import json
import re
from functools import partial

from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.interchange.formats import (
    Context,
    Facts,
    NotThisFormat,
    Reading,
    Reject,
    Row,
    coordinate_check,
    valid_country,
)
from salama.organisations.choices import OrganisationType

NAME = "salama"
SOURCE_SYSTEM = "salama"
STATUS = c.Status.CLOSED
DEFAULT_ORGANISATION = {
    "acronym": "SALAMA",
    "name": "Another Salama instance (no organisation named)",
    "type": OrganisationType.OTHER,
}
MAGIC = "salama_exchange"
LAYOUTS = ("full", "redacted")
LINE_LIMIT = 1 << 20  # a record is a few kilobytes; a longer line is not one
REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")
HOST = re.compile(r"^[A-Za-z0-9.-]{1,70}(:[0-9]{1,5})?$")
HITS = ("premises_hit", "vehicles_hit", "supplies_hit", "health_facility_hit")
NO_POINT = {
    "latitude": None,
    "longitude": None,
    "coordinate_precision": "",
    "coordinate_check": "",
    "coordinate_note": "",
}
# A received TLP:AMBER record may be shared within the receiving organisation, not onward.
RECEIVED = {TLP.AMBER: TLP.AMBER_STRICT}
LENGTHS = {
    "admin1": 120,
    "admin2": 120,
    "place": 200,
    "perpetrator_name": 200,
    "narrative": 20_000,
}


def header_line(host: str, level: str, feed: str) -> str:
    """The first line of an exchange file (the client writes it)."""
    return json.dumps({MAGIC: 1, "host": host, "level": level, "feed": feed}) + "\n"


def source_url(feed: str, reference: str, redacted: bool) -> str:
    """Where the copy came from: the record's own address for a full record; the feed, with
    the reference after "#", for a redacted one (no address of its own). A copy's feed is
    found again by this prefix (``salama.sharing.exchange.reconcile``)."""
    return f"{feed}{'#' if redacted else '/'}{reference}"


def read_file(path, **options) -> Reading:
    """Is this an exchange file (its first line says so)? Its layout and its records."""
    handle = open(path, "rb")  # noqa: SIM115 (closed by the row generator, or below)
    try:
        first = handle.readline(LINE_LIMIT)
        try:
            header = json.loads(first)
        except (UnicodeDecodeError, ValueError):
            header = None
        if not isinstance(header, dict) or header.get(MAGIC) != 1:
            raise NotThisFormat(
                "This is not a Salama exchange file (its first line is not the header "
                "'salama exchange pull' writes)."
            )
        level, host, feed = header.get("level"), header.get("host"), header.get("feed")
        if level not in LAYOUTS or not isinstance(host, str) or not HOST.match(host):
            raise NotThisFormat("The exchange file's header names no known level or host.")
        if not isinstance(feed, str) or not feed.startswith(("http://", "https://")):
            raise NotThisFormat("The exchange file's header names no feed it was read from.")
    except BaseException:
        handle.close()
        raise
    reading = Reading(layout=level, rows=_rows(handle), encoding="utf-8")
    reading.to_facts = partial(to_facts, host=host.lower(), feed=feed[:400])
    return reading


def _rows(handle):
    with handle:
        number = 1
        while line := handle.readline(LINE_LIMIT):
            number += 1
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (UnicodeDecodeError, ValueError) as exc:
                text = line[:2000].decode("utf-8", "replace")
                yield Row(number, {"line": text}, Reject("unreadable_row", f"Not JSON ({exc})."))
                continue
            if not isinstance(record, dict):
                yield Row(
                    number,
                    {"line": line[:2000].decode("utf-8", "replace")},
                    Reject("unreadable_row", "The line is not a record (a JSON object)."),
                )
                continue
            yield Row(number, record)


class Problem(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reject = Reject(reason, message)


def _text(raw: dict, name: str, ref: str) -> str:
    value = raw.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Problem("invalid_value", f"{ref}: {name} is not text.")
    limit = LENGTHS.get(name)
    if limit and len(value) > limit:
        raise Problem("invalid_value", f"{ref}: {name} is longer than {limit} characters.")
    return value.replace("\x00", "")


def _choice(raw: dict, name: str, choices, ref: str, *, required=False, default="") -> str:
    value = raw.get(name) or ""
    if value in choices.values:
        return value
    if required or not isinstance(value, str):
        raise Problem("invalid_value", f"{ref}: {name} {str(value)[:40]!r} is not a known code.")
    return default


def _time(raw: dict, ref: str) -> str | None:
    """The local time as the runner takes it (ISO text, like every format), checked."""
    value = raw.get("time")
    if value in (None, ""):
        return None
    try:
        return datetime.time.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise Problem("invalid_value", f"{ref}: time {str(value)[:20]!r} is not a time.") from None


def _flag(raw: dict, name: str) -> bool:
    return raw.get(name) is True


def _date(raw: dict, ref: str, context: Context) -> datetime.date:
    try:
        date = datetime.date.fromisoformat(str(raw.get("date") or ""))
    except ValueError:
        raise Problem(
            "invalid_date", f"{ref}: the date {raw.get('date')!r} is not a date."
        ) from None
    if date.year < 1900:
        raise Problem("invalid_date", f"{ref}: the year {date.year} is not plausible.")
    if date > context.latest_date:
        raise Problem("future_date", f"{ref}: the date {date.isoformat()} is in the future.")
    return date


def _coordinates(raw: dict, country: str, ref: str, context: Context, notes) -> dict:
    latitude, longitude = raw.get("latitude"), raw.get("longitude")
    if latitude is None or longitude is None:
        return NO_POINT
    numbers = all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in (latitude, longitude)
    )
    if not numbers or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise Problem("invalid_coordinates", f"{ref}: the coordinates are not a point on Earth.")
    check = coordinate_check(country, float(latitude), float(longitude), context.tolerance_km)
    note = ""
    if check.status == c.CoordinateCheckStatus.OUTSIDE:
        note = f"The remote places this point {check.distance_km} km outside {country}."
        notes.append(("coordinates_outside", f"{ref}: {note}"))
    return {
        "latitude": float(latitude),
        "longitude": float(longitude),
        "coordinate_precision": _choice(
            raw, "coordinate_precision", c.CoordinatePrecision, ref, default="approximate"
        ),
        "coordinate_check": check.status,
        "coordinate_note": note,
    }


def _persons(raw: dict, ref: str, redacted: bool) -> list[dict]:
    people = raw.get("persons") or []
    if not isinstance(people, list):
        raise Problem("invalid_persons", f"{ref}: persons is not a list.")
    persons = []
    for person in people:
        if not isinstance(person, dict):
            raise Problem("invalid_persons", f"{ref}: a person is not a record.")
        count = person.get("count")
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 100_000:
            raise Problem("invalid_persons", f"{ref}: a person's count {count!r} is not valid.")
        row = {
            "count": count,
            "impact": _choice(person, "impact", c.Impact, ref, required=True),
            "cause": _choice(person, "cause", c.Cause, ref, required=True),
            "recruitment": _choice(
                person, "recruitment", c.Recruitment, ref, default=c.Recruitment.UNKNOWN
            ),
        }
        if not redacted:
            row["gender"] = _choice(
                person, "gender", c.Gender, ref, default=c.Gender.OTHER_OR_UNKNOWN
            )
            row["organisation_type"] = (
                _choice(person, "organisation_type", c.AffectedOrgType, ref, default="")
                or c.AffectedOrgType.UNKNOWN
            )
            for name in ("is_medical", "on_duty"):
                value = person.get(name)
                row[name] = value if isinstance(value, bool) else None
        persons.append(row)
    return persons


def to_facts(
    raw: dict, layout: str, context: Context, host: str = "", feed: str = ""
) -> Facts | Reject:
    """One remote record as incident facts, or the reason to quarantine it."""
    reference = raw.get("reference")
    if not isinstance(reference, str) or not REFERENCE.match(reference):
        return Reject("missing_id", "The record has no valid reference.")
    if not host:
        return Reject("missing_host", "The exchange file names no remote host.")
    external_id = f"{host}/{reference}"
    if len(external_id) > 100:
        return Reject("invalid_id", f"{external_id[:40]!r}… is too long for a reference here.")
    redacted = layout == "redacted"
    notes: list[tuple[str, str]] = []
    try:
        if not redacted and raw.get("status") == c.Status.DRAFT:
            raise Problem(
                "remote_draft",
                f"{reference} is a draft there (seen by its own organisation only): it comes "
                "once it is submitted.",
            )
        country = str(raw.get("country") or "").upper()
        if not valid_country(country):
            raise Problem("unknown_country", f"{reference}: unknown country {country[:10]!r}.")
        date = _date(raw, reference, context)
        fields = {
            "date": date,
            "country": country,
            "admin1": _text(raw, "admin1", reference),
            "category": _choice(raw, "category", c.Category, reference, required=True),
            "subcategory": _choice(raw, "subcategory", c.SubCategory, reference, required=True),
            "means_of_attack": _choice(raw, "means_of_attack", c.MeansOfAttack, reference),
            "attack_context": _choice(raw, "attack_context", c.AttackContext, reference),
            "perpetrator_type": _choice(raw, "perpetrator_type", c.PerpetratorType, reference),
            "motive": _choice(raw, "motive", c.Motive, reference),
            "verification": _choice(
                raw, "verification", c.Verification, reference, default=c.Verification.UNVERIFIED
            ),
            "narrative": _text(raw, "narrative", reference),
        }
        if redacted:
            # At most month precision; shared under TLP:AMBER, kept in the organisation.
            precision = (
                c.DatePrecision.YEAR
                if raw.get("date_precision") == c.DatePrecision.YEAR
                else c.DatePrecision.MONTH
            )
            fields["date"] = (
                date.replace(month=1, day=1)
                if precision == c.DatePrecision.YEAR
                else date.replace(day=1)
            )
            fields |= {
                "date_precision": precision,
                "marking": TLP.AMBER_STRICT,
                "admin2": "",
                "place": "",
                "location_type": c.LocationType.UNKNOWN,
                **NO_POINT,
                **{name: _flag(raw, name) for name in HITS},
            }
        else:
            marking = raw.get("marking")
            if marking not in TLP.values:
                raise Problem(
                    "unknown_marking",
                    f"{reference}: the marking {str(marking)[:20]!r} is unknown; a record is "
                    "never imported more openly than it was marked.",
                )
            fields |= {
                "date_precision": _choice(
                    raw, "date_precision", c.DatePrecision, reference, required=True
                ),
                "marking": RECEIVED.get(marking, marking),
                "time": _time(raw, reference),
                "perpetrator_name": _text(raw, "perpetrator_name", reference),
                **{name: _flag(raw, name) for name in HITS},
                "admin2": _text(raw, "admin2", reference),
                "place": _text(raw, "place", reference),
                "location_type": _choice(
                    raw, "location_type", c.LocationType, reference, default=c.LocationType.UNKNOWN
                ),
                **_coordinates(raw, country, reference, context, notes),
            }
            if raw.get("road_crash"):
                notes.append(
                    ("road_crash_not_imported", f"{reference}: the road-crash details stay there.")
                )
        persons = _persons(raw, reference, redacted)
    except Problem as problem:
        return problem.reject
    return Facts(
        external_id=external_id,
        fields=fields,
        persons=persons,
        sources=[
            {
                "kind": c.SourceKind.DATABASE_IMPORT,
                "system": SOURCE_SYSTEM,
                "external_id": external_id,
                "url": source_url(feed, reference, redacted),
            }
        ],
        notes=notes,
    )
