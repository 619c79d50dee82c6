"""The offline analytics map: a choropleth of a measure by country (Natural Earth polygons)
and an H3 hexagon density layer of the incidents with coordinates. SVG, no tile server.

Readable without colour: the classes are shades of grey from light to dark (luminance, not
hue), the legend names each class, and the page has the same numbers as a table and a CSV.
"""

import re
from functools import cache
from xml.sax.saxutils import escape

from salama.analytics import query, snapshot, store
from salama.incidents.map import BOTTOM_LATITUDE, SEA, TOP_LATITUDE, _x, _y, world_paths

SHADES = ("#f2f2f2", "#cccccc", "#999999", "#666666", "#333333")
HEX_OPACITY = (0.25, 0.4, 0.55, 0.7, 0.85)


@cache
def _country_paths() -> dict[str, str]:
    return dict(re.findall(r'<path data-country="([^"]+)" d="([^"]+)"/>', world_paths()))


def classes(values: list[int], n: int = 5) -> list[int]:
    """Upper bounds of ``n`` classes with about as many countries in each (quantiles)."""
    ordered = sorted(v for v in values if v > 0)
    if not ordered:
        return []
    bounds = []
    for i in range(1, n + 1):
        bound = ordered[min(len(ordered) - 1, round(i * len(ordered) / n) - 1)]
        if not bounds or bound > bounds[-1]:
            bounds.append(bound)
    return bounds


def _class_of(value: int, bounds: list[int]) -> int | None:
    if value <= 0:
        return None
    for i, bound in enumerate(bounds):
        if value <= bound:
            return i
    return len(bounds) - 1


def hexagons(user, filters: dict, year_from, year_to) -> list[tuple[str, int]]:
    """(H3 cell, incidents) for the incidents with coordinates the query counts."""
    state = snapshot.State.load()
    con = store.connect(state)
    q = query.Query("incidents", (), filters, year_from, year_to)
    inner, params = query.sql_for(q, user, state, con, ids=True)
    rows = con.execute(
        f"SELECT h3, count(*) FROM incidents WHERE h3 IS NOT NULL AND id IN ({inner}) "
        "GROUP BY h3 ORDER BY 2 DESC",
        params,
    ).fetchall()
    return [(cell, int(n)) for cell, n in rows]


def _hex_path(cell: str) -> str:
    import h3

    ring = h3.cell_to_boundary(cell)
    longitudes = [lon for _, lon in ring]
    if max(longitudes) - min(longitudes) > 180:  # crosses the antimeridian: skip, rare
        return ""
    return "M" + "L".join(f"{_x(lon):g} {_y(lat):g}" for lat, lon in ring) + "Z"


def render_svg(
    by_country: dict[str, int], cells: list[tuple[str, int]], *, title: str, legend: list[str]
) -> str:
    top, height = _y(TOP_LATITUDE), TOP_LATITUDE - BOTTOM_LATITUDE
    bounds = classes(list(by_country.values()))
    shapes = []
    for code, d in _country_paths().items():
        shade = _class_of(by_country.get(code, 0), bounds)
        fill = "#ffffff" if shade is None else SHADES[shade]
        shapes.append(f'<path data-country="{code}" fill="{fill}" d="{d}"/>')
    hex_bounds = classes([n for _, n in cells])
    hexes = []
    for cell, n in cells:
        d = _hex_path(cell)
        level = _class_of(n, hex_bounds)
        if d and level is not None:
            hexes.append(f'<path d="{d}" fill-opacity="{HEX_OPACITY[level]}"/>')
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="amap-title" '
        f'viewBox="0 {top:g} 360 {height:g}" width="720" height="{height * 2:g}">'
        f'<title id="amap-title">{escape(title)}</title>'
        f"<desc>{escape(' '.join(legend))}</desc>"
        f'<rect x="0" y="{top:g}" width="360" height="{height:g}" fill="{SEA}"/>'
        f'<g stroke="#777777" stroke-width="0.2" stroke-linejoin="round">{"".join(shapes)}</g>'
        f'<g fill="#b42318" stroke="#000000" stroke-width="0.15">{"".join(hexes)}</g>'
        "</svg>"
    )


def legend(values: list[int]) -> list[tuple[str, str]]:
    """(shade, "from–to") for each class of the choropleth."""
    bounds = classes(values)
    out, low = [], 1
    for shade, bound in zip(SHADES, bounds, strict=False):
        out.append((shade, f"{low:,}–{bound:,}" if bound != low else f"{low:,}"))
        low = bound + 1
    return out
