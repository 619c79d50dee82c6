"""Rules an incident must satisfy, with messages that say what is wrong and where.

Each function returns ``{field: [message, ...]}`` (empty when all is well) so forms, the
importers and the model's ``clean()`` can share them.
"""

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from salama.core.geo import check_coordinate, country_name, is_country_code
from salama.incidents import choices as c

# A report made in UTC+14 may carry tomorrow's UTC date; anything later is in the future.
LATEST_TIMEZONE_OFFSET = datetime.timedelta(hours=14)


def latest_allowed_date() -> datetime.date:
    return (timezone.now() + LATEST_TIMEZONE_OFFSET).date()


def _add(errors: dict, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def validate_date(date, precision, time=None) -> dict:
    errors: dict = {}
    if date is None:
        _add(errors, "date", _("The date is missing."))
        return errors
    if date > latest_allowed_date():
        _add(errors, "date", _("The date %(date)s is in the future.") % {"date": date})
    if precision == c.DatePrecision.MONTH and date.day != 1:
        _add(errors, "date", _("With precision 'month', the date must be the 1st of the month."))
    if precision == c.DatePrecision.YEAR and (date.month, date.day) != (1, 1):
        _add(errors, "date", _("With precision 'year', the date must be 1 January."))
    if time is not None and precision != c.DatePrecision.DAY:
        _add(errors, "time", _("A time can only be given when the exact day is known."))
    return errors


def validate_place(country, latitude, longitude) -> dict:
    errors: dict = {}
    if not is_country_code(country or ""):
        _add(
            errors, "country", _("%(code)r is not an ISO 3166-1 country code.") % {"code": country}
        )
        return errors
    if (latitude is None) != (longitude is None):
        _add(errors, "longitude", _("Give both latitude and longitude, or neither."))
        return errors
    if latitude is None:
        return errors
    if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
        _add(errors, "latitude", _("Latitude must be within ±90 and longitude within ±180."))
        return errors
    tolerance = settings.COORDINATE_BORDER_TOLERANCE_KM
    check = check_coordinate(country, latitude, longitude, tolerance)
    if not check.acceptable:
        _add(
            errors,
            "latitude",
            _(
                "The point %(lat).4f, %(lon).4f lies %(km)s km outside %(country)s "
                "(more than %(tol)s km from its border)."
            )
            % {
                "lat": latitude,
                "lon": longitude,
                "km": check.distance_km,
                "country": country_name(country),
                "tol": tolerance,
            },
        )
    return errors


def validate_category(category, subcategory) -> dict:
    errors: dict = {}
    if subcategory and c.CATEGORY_OF.get(subcategory) != category:
        _add(
            errors,
            "subcategory",
            _("%(sub)s is not a sub-category of %(cat)s.") % {"sub": subcategory, "cat": category},
        )
    return errors


def validate_incident(incident) -> dict:
    errors: dict = {}
    for part in (
        validate_date(incident.date, incident.date_precision, incident.time),
        validate_place(incident.country, incident.latitude, incident.longitude),
        validate_category(incident.category, incident.subcategory),
    ):
        for field, messages in part.items():
            errors.setdefault(field, []).extend(messages)
    return errors


def validate_totals(person_total: int, totals: dict[str, dict[str, int]]) -> list[str]:
    """Check reported totals against the number of persons.

    ``totals`` maps a dimension ("gender") to value → count. Each count must be
    non-negative, and a dimension's counts must add up to the persons affected.
    """
    problems = []
    for dimension, counts in totals.items():
        for value, count in counts.items():
            if count < 0:
                problems.append(
                    _("%(dim)s %(value)s is negative (%(count)s).")
                    % {"dim": dimension, "value": value, "count": count}
                )
        total = sum(counts.values())
        if counts and total != person_total:
            problems.append(
                _("The %(dim)s counts add up to %(total)s, but %(persons)s people are affected.")
                % {"dim": dimension, "total": total, "persons": person_total}
            )
    return problems
