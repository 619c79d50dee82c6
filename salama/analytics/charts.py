"""Charts for the dashboards: a Vega-Lite spec, the same numbers as a table, and a CSV link.

Charts are readable without colour (each series has its own point shape and line dash, and
is named in the legend and the table) and the table beside each chart is the accessible
version of it. The spec goes to the page as JSON data (``json_script``), never as a script.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import reverse

from salama.analytics import params, query

SUPPRESSED = "<5"


@dataclass
class Chart:
    key: str
    title: str
    spec: dict
    columns: list
    rows: list
    csv_url: str
    note: str = ""
    records: list = field(default_factory=list)


def _query_string(measure, dims, filters, year_from, year_to) -> str:
    pairs = [("measure", measure)] + [("dimension", d) for d in dims]
    for name, value in (filters or {}).items():
        values = value if isinstance(value, list | tuple) else [value]
        pairs += [(name, str(v)) for v in values]
    if year_from is not None:
        pairs.append(("year_from", year_from))
    if year_to is not None:
        pairs.append(("year_to", year_to))
    return urlencode(pairs)


def build(
    key: str,
    title,
    measure: str,
    dims: tuple,
    user,
    filters: dict | None = None,
    year_from: int | None = None,
    year_to: int | None = None,
    suppress_below: int = 0,
    note: str = "",
) -> Chart:
    """``dims``: (x,) for one series, or (x, series); x is usually the year or month."""
    rows = query.run(measure, dims, filters, user, year_from=year_from, year_to=year_to)
    x = dims[0]
    series = dims[1] if len(dims) > 1 else None
    values = []
    for row in rows:
        shown = row["value"]
        if suppress_below and 0 < shown < suppress_below:
            shown = None
        values.append(
            {
                "x": params.label(x, row[x]) if x not in ("year", "month") else row[x],
                "series": params.label(series, row[series]) if series else "",
                "value": shown,
            }
        )
    measure_label = str(params.MEASURE_LABELS[measure])
    x_title = str(params.DIMENSION_LABELS.get(x, x))
    temporal = x in ("year", "month")
    encoding = {
        "x": {"field": "x", "type": "ordinal", "title": x_title, "sort": None},
        "y": {"field": "value", "type": "quantitative", "title": measure_label},
        "tooltip": [
            {"field": "x", "title": x_title},
            {"field": "value", "title": measure_label},
        ],
    }
    if series:
        series_title = str(params.DIMENSION_LABELS.get(series, series))
        encoding["shape"] = {"field": "series", "type": "nominal", "title": series_title}
        # One legend (the shapes); the dashes repeat the series for the lines between points.
        encoding["strokeDash"] = {"field": "series", "type": "nominal", "legend": None}
        encoding["tooltip"].insert(1, {"field": "series", "title": series_title})
        mark = {"type": "line", "point": {"filled": True, "size": 60}}
    elif temporal:
        mark = {"type": "line", "point": {"filled": True, "size": 60}}
    else:
        encoding["x"]["sort"] = "-y"
        mark = {"type": "bar"}
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "description": str(title),
        "width": "container",
        "height": 240,
        "data": {"values": values},
        "mark": mark,
        "encoding": encoding,
        "config": {"range": {"category": ["#1a1a1a", "#444", "#666", "#888", "#222", "#555"]}},
    }
    columns, table = _table(values, series, x_title, measure_label)
    csv = (
        reverse("analytics:data_csv")
        + "?"
        + _query_string(measure, dims, filters, year_from, year_to)
    )
    if suppress_below:
        csv += f"&suppress_below={suppress_below}"
    return Chart(key, str(title), spec, columns, table, csv, note)


def _table(values, series, x_title, measure_label):
    """A wide table: one row per series, one column per x (the years), or x and value."""

    def shown(v):
        return SUPPRESSED if v is None else f"{v:,}"

    if not series:
        return [x_title, measure_label], [[v["x"], shown(v["value"])] for v in values]
    xs = list(dict.fromkeys(v["x"] for v in values))
    names = list(dict.fromkeys(v["series"] for v in values))
    cells = {(v["series"], v["x"]): v["value"] for v in values}
    rows = [[name] + [shown(cells.get((name, x), 0)) for x in xs] for name in names]
    return ["", *xs], rows


def csv_rows(measure, dims, filters, user, year_from, year_to, suppress_below=0):
    rows = query.run(measure, dims, filters, user, year_from=year_from, year_to=year_to)
    header = [*dims, *(f"{d}_label" for d in dims), measure]
    out = [header]
    for row in rows:
        value = row["value"]
        if suppress_below and 0 < value < suppress_below:
            value = SUPPRESSED
        out.append([row[d] for d in dims] + [params.label(d, row[d]) for d in dims] + [value])
    return out
