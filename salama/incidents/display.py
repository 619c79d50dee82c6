"""Turn stored snapshots (history entries, edit conflicts) into words people can read.

Snapshots are the dicts of ``services.full_snapshot``: field attribute names → JSON values,
plus the lists ``persons``, ``totals``, ``sources``, the dict ``road_crash`` and the list
``recipients``. Nothing here queries per value: user names are looked up once per page.
"""

import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from salama.core.geo import country_name
from salama.incidents.models import AffectedPerson, Incident, RoadCrash, Source

# Bookkeeping that changes with every save and says nothing to a reader.
HIDDEN = {"version", "updated_at", "created_at", "coordinate_check"}

CHILD_LABELS = {
    "persons": gettext_lazy("affected persons"),
    "totals": gettext_lazy("reported totals"),
    "sources": gettext_lazy("sources"),
    "road_crash": gettext_lazy("road crash facts"),
    "recipients": gettext_lazy("named recipients"),
}

ACTION_LABELS = {
    "create": gettext_lazy("Created"),
    "change": gettext_lazy("Edited"),
    "merge": gettext_lazy("Merged a duplicate into this incident"),
    "status:draft": gettext_lazy("Sent back to draft"),
    "status:submitted": pgettext_lazy("incident status", "Submitted"),
    "status:endorsed": pgettext_lazy("incident status", "Endorsed"),
    "status:closed": pgettext_lazy("incident status", "Closed"),
    "status:merged": pgettext_lazy("incident status", "Merged into another incident"),
}

USER_FIELDS = {"reported_by_id", "endorsed_by_id"}


@dataclass
class Change:
    label: str
    before: str
    after: str


def _field(model, attname):
    try:
        return model._meta.get_field(attname.removesuffix("_id"))
    except FieldDoesNotExist:
        return None


def _plain(model, attname, value, users) -> str:
    if value is None or value == "":
        return "—"
    if attname in USER_FIELDS:
        return users.get(value, f"#{value}")
    if attname == "country":
        return f"{country_name(value)} ({value})"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    field = _field(model, attname)
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.DateTimeField) and isinstance(value, str):
        moment = parse_datetime(value)
        if moment is not None:
            return f"{moment.astimezone(datetime.UTC):%Y-%m-%d %H:%M} UTC"
    return str(value)


def _person(row: dict, users) -> str:
    text = "{} × {}".format(
        row.get("count", 1), _plain(AffectedPerson, "impact", row.get("impact"), users)
    )
    extra = [
        _plain(AffectedPerson, name, row.get(name), users)
        for name in ("cause", "recruitment", "gender", "organisation_type")
        if row.get(name)
    ]
    return f"{text} ({', '.join(extra)})" if extra else text


def _source(row: dict, users) -> str:
    parts = [_plain(Source, "kind", row.get("kind"), users)]
    parts += [row[k] for k in ("system", "external_id", "url") if row.get(k)]
    return " ".join(parts)


def _crash(row: dict, users) -> str:
    return "; ".join(
        f"{_field(RoadCrash, k).verbose_name}: {_plain(RoadCrash, k, v, users)}"
        for k, v in row.items()
        if _field(RoadCrash, k) is not None and v not in (None, "", 0, "unknown")
    )


def value_text(name: str, value, users: dict) -> str:
    if name == "persons":
        return "; ".join(_person(p, users) for p in value or []) or "—"
    if name == "sources":
        return "; ".join(_source(s, users) for s in value or []) or "—"
    if name == "totals":
        return "; ".join(f"{t['dimension']} {t['value']}: {t['count']}" for t in value or []) or "—"
    if name == "road_crash":
        return _crash(value, users) if value else "—"
    if name == "recipients":
        return ", ".join(users.get(u, f"#{u}") for u in value or []) or "—"
    return _plain(Incident, name, value, users)


def label(name: str) -> str:
    if name in CHILD_LABELS:
        return capfirst(CHILD_LABELS[name])
    field = _field(Incident, name)
    return capfirst(field.verbose_name) if field is not None else name


def _user_ids(changes: dict) -> set:
    ids = set()
    for name, pair in changes.items():
        if name in USER_FIELDS:
            ids.update(v for v in pair if v)
        elif name == "recipients":
            for value in pair:
                ids.update(value or [])
    return ids


def user_names(ids) -> dict:
    if not ids:
        return {}
    User = get_user_model()
    return dict(User.objects.filter(pk__in=ids).values_list("pk", User.USERNAME_FIELD))


def describe_changes(changes: dict, users: dict | None = None) -> list[Change]:
    """``{field: (before, after)}`` → readable rows, bookkeeping fields left out."""
    if users is None:
        users = user_names(_user_ids(changes))
    return [
        Change(label(name), value_text(name, before, users), value_text(name, after, users))
        for name, (before, after) in changes.items()
        if name not in HIDDEN
    ]


def describe_history(entries) -> list[dict]:
    """History entries (with their ``changed`` dicts) → rows for the incident page."""
    entries = list(entries)
    ids = set()
    for entry in entries:
        ids |= _user_ids(entry.changed)
    users = user_names(ids)
    return [
        {
            "at": entry.at,
            "who": entry.actor_label,
            "action": str(ACTION_LABELS.get(entry.action, entry.action)),
            "changes": describe_changes(entry.changed, users),
        }
        for entry in entries
    ]
