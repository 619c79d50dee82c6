"""An offline world map as SVG: Natural Earth country outlines and incident points.

Equirectangular (x = longitude + 180, y = 90 − latitude, in degrees), so no projection library
is needed and a point lands where its coordinates say. The outlines are simplified and
rounded once per process (``world_paths`` is cached): about 70 kB for the whole world.
Colours are presentation attributes, not CSS: the strict CSP forbids inline styles.
"""

from functools import cache
from xml.sax.saxutils import escape

from shapely.geometry import MultiPolygon, Polygon

from salama.core.geo import country_shapes

# Drawing every incident of a large filter would make a heavy image and an unreadable map.
MAX_POINTS = 2000
# Degrees; about 22 km at the equator, finer than a pixel of this map on a phone.
SIMPLIFY_TOLERANCE = 0.2
# Antarctica and the far north are cropped: no incidents there, and they waste phone screen.
TOP_LATITUDE, BOTTOM_LATITUDE = 84.0, -58.0
LAND, COAST, SEA, POINT = "#f4f1ea", "#b8b2a6", "#eef4fa", "#b42318"


def _x(lon: float) -> float:
    return round(lon + 180, 1)


def _y(lat: float) -> float:
    return round(90 - lat, 1)


def _ring(coords) -> str:
    points = []
    for lon, lat in coords:
        point = f"{_x(lon):g} {_y(lat):g}"
        if not points or points[-1] != point:
            points.append(point)
    if len(points) < 3:
        return ""
    return "M" + "L".join(points) + "Z"


def _polygons(geometry):
    if isinstance(geometry, Polygon):
        return [geometry]
    if isinstance(geometry, MultiPolygon):
        return list(geometry.geoms)
    return []


@cache
def world_paths() -> str:
    """One SVG ``<path>`` per country (ISO code in ``data-country``), simplified, cached."""
    paths = []
    for code, geometry in sorted(country_shapes().items()):
        simple = geometry.simplify(SIMPLIFY_TOLERANCE, preserve_topology=True)
        d = "".join(
            _ring(ring.coords)
            for polygon in _polygons(simple)
            for ring in (polygon.exterior, *polygon.interiors)
        )
        if d:
            paths.append(f'<path data-country="{code}" d="{d}"/>')
    return "\n".join(paths)


def render_svg(points, *, title: str, description: str) -> str:
    """The map with ``points`` — (latitude, longitude) pairs — drawn as dots.

    ``title`` and ``description`` are the image's text alternative inside the SVG itself
    (the page's ``<img alt>`` carries its own).
    """
    top, height = _y(TOP_LATITUDE), TOP_LATITUDE - BOTTOM_LATITUDE
    dots = "".join(
        f'<circle cx="{_x(lon):g}" cy="{_y(lat):g}" r="1"/>'
        for lat, lon in points
        if lat is not None and lon is not None
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="map-title '
        f'map-desc" viewBox="0 {top:g} 360 {height:g}" width="720" height="{height * 2:g}">'
        f'<title id="map-title">{escape(title)}</title>'
        f'<desc id="map-desc">{escape(description)}</desc>'
        f'<rect x="0" y="{top:g}" width="360" height="{height:g}" fill="{SEA}"/>'
        f'<g fill="{LAND}" stroke="{COAST}" stroke-width="0.2" stroke-linejoin="round">'
        f"{world_paths()}</g>"
        f'<g fill="{POINT}" fill-opacity="0.7" stroke="#ffffff" stroke-width="0.2">{dots}</g>'
        "</svg>"
    )
