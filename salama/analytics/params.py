"""Reading a figure's query from a URL (the records behind a figure, CSV downloads), and
turning stored codes into the labels people read."""

from django.utils.translation import gettext_lazy as _

from salama.analytics import query
from salama.core.markings import TLP
from salama.incidents import choices as c
from salama.organisations.choices import OrganisationType

LABELS = {
    "impact": c.Impact,
    "cause": c.Cause,
    "category": c.Category,
    "threat_category": c.SubCategory,
    "recruitment": c.Recruitment,
    "gender": c.Gender,
    "organisation_type": c.AffectedOrgType,
    "means_of_attack": c.MeansOfAttack,
    "location_type": c.LocationType,
    "status": c.Status,
    "marking": TLP,
    "owner_type": OrganisationType,
}
EXTRA_LABELS = {
    "recruitment_group": {
        "local": _("National / locally recruited"),
        "international": _("International"),
        "unknown": _("Unknown"),
    },
    "medical": {
        "medical": _("Medical personnel"),
        "not_medical": _("Not medical personnel"),
        "unknown": _("Unknown"),
    },
}
DIMENSION_LABELS = {
    "year": _("Year"),
    "month": _("Month"),
    "country": _("Country"),
    "region": _("Region"),
    "sub_region": _("Sub-region"),
    "intermediate_region": _("Intermediate region"),
    "category": _("Category"),
    "threat_category": _("Threat category / cause"),
    "means_of_attack": _("Means of attack"),
    "location_type": _("Location type"),
    "marking": _("Marking"),
    "status": _("Status"),
    "owner": _("Owning organisation"),
    "organisation_type": _("Organisation type"),
    "organisation": _("Organisation"),
    "recruitment": _("Recruitment"),
    "recruitment_group": _("Recruitment"),
    "gender": _("Gender"),
    "impact": _("Impact"),
    "cause": _("Cause"),
    "medical": _("Medical personnel"),
    "value": _("Number"),
}
MEASURE_LABELS = {
    "persons": _("Persons affected"),
    "incidents": _("Incidents"),
    "major_attacks": _("Major attacks (AWSD)"),
}


class BadRequest(ValueError):
    pass


def label(dimension: str, value) -> str:
    if value is None:
        return str(_("Unknown"))
    if dimension in EXTRA_LABELS:
        return str(EXTRA_LABELS[dimension].get(value, value))
    if dimension == "country":
        from salama.core.geo import country_name

        return country_name(value) if value else str(_("Unknown"))
    choices = LABELS.get(dimension)
    if choices is not None:
        try:
            return str(choices(value).label)
        except ValueError:
            return str(value)
    return str(value)


def _year(data, name):
    raw = data.get(name)
    if raw in (None, ""):
        return None
    try:
        year = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a year") from None
    if not 1900 <= year <= 2100:
        raise BadRequest(f"{name} must be a year")
    return year


def from_request(data) -> dict:
    """``measure``, ``filters``, ``year_from``, ``year_to`` from a GET query dict."""
    measure = data.get("measure") or "persons"
    if measure not in query.MEASURES:
        raise BadRequest("unknown measure")
    filters = {}
    for name in (*query.DIMENSIONS, *query.INCIDENT_ONLY_FILTERS):
        values = [v for v in data.getlist(name) if v != ""]
        if values:
            filters[name] = values
    year_from, year_to = _year(data, "year_from"), _year(data, "year_to")
    if data.get("year"):
        year_from = year_to = _year(data, "year")
    return {
        "measure": measure,
        "filters": filters,
        "year_from": year_from,
        "year_to": year_to,
    }
