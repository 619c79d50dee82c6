"""Countries and their shapes, offline: ISO 3166-1 codes and Natural Earth 1:110m polygons.

Natural Earth is joined on ADM0_A3, because its ISO_A2 column holds -99 for France, Norway and
others. A few Natural Earth units have no ISO code of their own and belong to the country that
ISO 3166 names (Somaliland → Somalia, Northern Cyprus → Cyprus).
"""

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pycountry
from shapely import prepared
from shapely.geometry import Point, shape
from shapely.ops import nearest_points, unary_union

NATURAL_EARTH = Path(__file__).parent / "data" / "ne_110m_admin_0_countries.geojson"

# Natural Earth ADM0_A3 codes that pycountry does not know as ISO alpha-3.
ADM0_TO_ISO2 = {"CYN": "CY", "KOS": "XK", "PSX": "PS", "SAH": "EH", "SDS": "SS", "SOL": "SO"}
# Codes in use that ISO 3166-1 reserves but pycountry does not list.
EXTRA_COUNTRIES = {"XK": "Kosovo"}

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class CoordinateCheck:
    """Where a coordinate lies relative to a country: inside, near its border, or outside."""

    status: str  # "inside", "near_border", "outside", "unchecked"
    distance_km: float | None = None

    @property
    def acceptable(self) -> bool:
        return self.status in ("inside", "near_border", "unchecked")


def country_name(code: str) -> str:
    if code in EXTRA_COUNTRIES:
        return EXTRA_COUNTRIES[code]
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name


def is_country_code(code: str) -> bool:
    return bool(code) and (
        code in EXTRA_COUNTRIES or pycountry.countries.get(alpha_2=code) is not None
    )


@cache
def country_choices() -> list[tuple[str, str]]:
    codes = [(c.alpha_2, getattr(c, "common_name", None) or c.name) for c in pycountry.countries]
    codes += list(EXTRA_COUNTRIES.items())
    return sorted(codes, key=lambda pair: pair[1])


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
