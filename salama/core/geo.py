"""Countries and their shapes, offline: ISO 3166-1 codes and Natural Earth 1:110m polygons.

Natural Earth is joined on ADM0_A3, because its ISO_A2 column holds -99 for France, Norway and
others. A few Natural Earth units have no ISO code of their own and belong to the country that
ISO 3166 names (Somaliland → Somalia, Northern Cyprus → Cyprus).
"""

import gettext
import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pycountry
from django.utils import translation
from shapely import prepared
from shapely.geometry import Point, shape
from shapely.ops import nearest_points, unary_union

NATURAL_EARTH = Path(__file__).parent / "data" / "ne_110m_admin_0_countries.geojson"

# Natural Earth ADM0_A3 codes that pycountry does not know as ISO alpha-3.
ADM0_TO_ISO2 = {"CYN": "CY", "KOS": "XK", "PSX": "PS", "SAH": "EH", "SDS": "SS", "SOL": "SO"}
# Codes in use that ISO 3166-1 reserves but pycountry does not list.
EXTRA_COUNTRIES = {"XK": "Kosovo"}
# Their names in the other UN languages (pycountry's catalogs do not have them).
EXTRA_COUNTRY_NAMES = {
    "XK": {"ar": "كوسوفو", "fr": "Kosovo", "es": "Kosovo", "ru": "Косово", "zh-hans": "科索沃"}
}

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class CoordinateCheck:
    """Where a coordinate lies relative to a country: inside, near its border, or outside."""

    status: str  # "inside", "near_border", "outside", "unchecked"
    distance_km: float | None = None

    @property
    def acceptable(self) -> bool:
        return self.status in ("inside", "near_border", "unchecked")


# Django language code → the locale of pycountry's ISO 3166-1 catalogs (from Debian iso-codes).
PYCOUNTRY_LOCALES = {"ar": "ar", "fr": "fr", "es": "es", "ru": "ru", "zh-hans": "zh_CN"}


@cache
def _catalog(language: str):
    locale = PYCOUNTRY_LOCALES.get(language)
    if locale is None:
        return None
    try:
        return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[locale])
    except OSError:
        return None


def _language(language: str | None) -> str:
    return (language or translation.get_language() or "en").lower()


@cache
def _country_name(code: str, language: str) -> str:
    if code in EXTRA_COUNTRIES:
        return EXTRA_COUNTRY_NAMES.get(code, {}).get(language, EXTRA_COUNTRIES[code])
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    catalog = _catalog(language)
    common = getattr(country, "common_name", None)
    if catalog is None:
        return common or country.name
    # The catalogs translate common names ("Bolivia") as well as ISO names.
    if common and (translated := catalog.gettext(common)) != common:
        return translated
    return catalog.gettext(country.name)


def country_name(code: str, language: str | None = None) -> str:
    """The country's name in ``language`` (default: the active language)."""
    return _country_name(code, _language(language))


def is_country_code(code: str) -> bool:
    return bool(code) and (
        code in EXTRA_COUNTRIES or pycountry.countries.get(alpha_2=code) is not None
    )


def country_choices(language: str | None = None) -> list[tuple[str, str]]:
    """(code, name) for every country, sorted by name in ``language`` (default: active)."""
    return _country_choices(_language(language))


@cache
def _country_choices(language: str) -> list[tuple[str, str]]:
    codes = [c.alpha_2 for c in pycountry.countries] + list(EXTRA_COUNTRIES)
    named = [(code, country_name(code, language)) for code in codes]
    return sorted(named, key=lambda pair: pair[1].casefold())


@cache
def _features() -> list[dict]:
    return json.loads(NATURAL_EARTH.read_text(encoding="utf-8"))["features"]


def _iso2_of(props: dict) -> str | None:
    adm0 = props["ADM0_A3"]
    if adm0 in ADM0_TO_ISO2:
        return ADM0_TO_ISO2[adm0]
    country = pycountry.countries.get(alpha_3=adm0)
    return country.alpha_2 if country else None


@cache
def country_shapes() -> dict:
    """ISO alpha-2 → shapely geometry (units of one country merged)."""
    parts: dict[str, list] = {}
    for feature in _features():
        code = _iso2_of(feature["properties"])
        if code:
            parts.setdefault(code, []).append(shape(feature["geometry"]))
    return {code: unary_union(geoms) for code, geoms in parts.items()}


@cache
def _prepared(code: str):
    geometry = country_shapes().get(code)
    return prepared.prep(geometry) if geometry is not None else None


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def check_coordinate(
    country: str, latitude: float, longitude: float, tolerance_km: float = 25
) -> CoordinateCheck:
    """Is (latitude, longitude) inside ``country``, or within ``tolerance_km`` of its border?

    Countries too small for the 1:110m polygons (Bahrain, Singapore, …) are "unchecked".
    """
    prepared_shape = _prepared(country)
    if prepared_shape is None:
        return CoordinateCheck("unchecked")
    point = Point(longitude, latitude)
    if prepared_shape.contains(point):
        return CoordinateCheck("inside", 0.0)
    nearest = nearest_points(country_shapes()[country], point)[0]
    distance = haversine_km(latitude, longitude, nearest.y, nearest.x)
    status = "near_border" if distance <= tolerance_km else "outside"
    return CoordinateCheck(status, round(distance, 1))
