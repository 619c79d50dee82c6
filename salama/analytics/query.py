"""The query layer: a measure, some dimensions and filters, for a user → rows of figures.

Measures (never mixed in one query; see docs/analytics.md):
- ``persons``: people affected, the sum of AffectedPerson.count (one row is one person, or
  ``count`` people sharing every attribute), each under the one impact recorded for them;
- ``incidents``: incidents;
- ``major_attacks``: incidents that are major attacks in the AWSD sense.

The SQL is generated from fixed pieces chosen by name; every value a caller gives is a bound
parameter. Merged incidents are never counted (their survivor carries their facts).
"""

from dataclasses import dataclass

import pyarrow as pa

from salama.analytics import snapshot, store
from salama.incidents import choices as c

MEASURES = ("persons", "incidents", "major_attacks")

# AWSD major attacks: killings, kidnappings, attacks causing serious injury, rape and sexual
# assault (codebook, January 2025), and the detentions AWSD added to its outcome columns.
MAJOR_IMPACTS = (
    c.Impact.KILLED,
    c.Impact.INJURED,
    c.Impact.ABDUCTED,
    c.Impact.SEXUAL_ASSAULT,
    c.Impact.ARRESTED_DETAINED,
)
LOCALLY_RECRUITED = (c.Recruitment.NATIONAL, c.Recruitment.LOCALLY_RECRUITED)


@dataclass(frozen=True)
class Dimension:
    name: str
    column: str  # a column of the row alias ``t`` (or of ``m49`` when regional)
    person_only: bool = False
    regional: bool = False
    integer: bool = False


DIMENSIONS = {
    d.name: d
    for d in (
        Dimension("year", "t.year", integer=True),
        Dimension("month", "t.month", integer=True),
        Dimension("country", "t.country"),
        Dimension("region", "coalesce(m.region, 'unknown')", regional=True),
        Dimension("sub_region", "coalesce(m.sub_region, 'unknown')", regional=True),
        Dimension(
            "intermediate_region",
            "coalesce(nullif(m.intermediate_region, ''), m.sub_region, 'unknown')",
            regional=True,
        ),
        Dimension("category", "t.category"),
        Dimension("threat_category", "t.subcategory"),
        Dimension("means_of_attack", "coalesce(nullif(t.means_of_attack, ''), 'unknown')"),
        Dimension("location_type", "t.location_type"),
        Dimension("marking", "t.marking"),
        Dimension("status", "t.status"),
        Dimension("owner", "t.organisation_id", integer=True),
        Dimension("organisation_type", "t.organisation_type", person_only=True),
        Dimension("organisation", "t.person_organisation_id", person_only=True, integer=True),
        Dimension("recruitment", "t.recruitment", person_only=True),
        Dimension(
            "recruitment_group",
            "CASE WHEN t.recruitment IN ('national', 'locally_recruited') THEN 'local' "
            "WHEN t.recruitment = 'international' THEN 'international' ELSE 'unknown' END",
            person_only=True,
        ),
        Dimension("gender", "t.gender", person_only=True),
        Dimension("impact", "t.impact", person_only=True),
        Dimension("cause", "t.cause", person_only=True),
        Dimension(
            "medical",
            "CASE WHEN t.is_medical THEN 'medical' WHEN NOT t.is_medical THEN 'not_medical' "
            "ELSE 'unknown' END",
            person_only=True,
        ),
    )
}
# Dimensions whose column is text already (no cast, so DuckDB can skip row groups).
TEXT_COLUMNS = {
    "country",
    "category",
    "threat_category",
    "location_type",
    "marking",
    "status",
    "organisation_type",
    "recruitment",
    "gender",
    "impact",
    "cause",
}
INCIDENT_ONLY_FILTERS = ("synthetic", "health_facility_hit", "premises_hit", "vehicles_hit")


class QueryError(ValueError):
    """A query that cannot be answered as asked (an unknown dimension, a mixed measure)."""


@dataclass
class Query:
    measure: str = "persons"
    dimensions: tuple = ()
    filters: dict | None = None  # dimension -> value or list of values
    year_from: int | None = None
    year_to: int | None = None


def _where(query: Query, user, state, con) -> tuple[list[str], list, bool]:
    """The conditions on ``t`` for ``query``: merged, stale permissions, years, filters (the
    door itself is the source the rows are read from: ``store.door_source``)."""
    table = "persons" if query.measure == "persons" else "incidents"
    id_column = store.ID_COLUMN[table]
    conditions = ["t.status <> ?"]
    params = [str(c.Status.MERGED)]
    hidden = store.stale_guard(user, state)
    if hidden:
        hidden_table = store.hidden_table(con, hidden)
        conditions.append(f"t.{id_column} NOT IN (SELECT incident_id FROM {hidden_table})")
    if query.year_from is not None:
        conditions.append("t.year >= ?")
        params.append(int(query.year_from))
    if query.year_to is not None:
        conditions.append("t.year <= ?")
        params.append(int(query.year_to))
    regional = any(DIMENSIONS[d].regional for d in query.dimensions)
    person_filters = []
    for name, value in (query.filters or {}).items():
        values = value if isinstance(value, list | tuple | set) else [value]
        values = [None if v is None else str(v) for v in values]
        if name in INCIDENT_ONLY_FILTERS:
            if table == "persons":
                conditions.append(f"t.incident_id IN (SELECT id FROM incidents WHERE {name} = ?)")
            else:
                conditions.append(f"t.{name} = ?")
            params.append(values[0] in ("True", "true", "1"))
            continue
        if name not in DIMENSIONS:
            raise QueryError(f"unknown filter {name!r}")
        dim = DIMENSIONS[name]
        regional = regional or dim.regional
        if dim.person_only and table != "persons":
            person_filters.append((dim, values))
            continue
        sql, args = _in_list(dim, values)
        conditions.append(sql)
        params += args
    if person_filters:
        # Incidents with at least one person matching: still incidents, counted once each.
        pieces = [_in_list(dim, values) for dim, values in person_filters]
        inner = " AND ".join(sql for sql, _ in pieces)
        conditions.append(f"t.id IN (SELECT t.incident_id FROM persons t WHERE {inner})")
        params += [arg for _, args in pieces for arg in args]
    if query.measure == "major_attacks":
        major, major_params = _major_attack()
        conditions += major
        params += major_params
    return conditions, params, regional


def _major_attack() -> tuple[list[str], list]:
    """The conditions on an incident row ``t`` that make it a major attack (AWSD's)."""
    impacts, impact_params = store.in_list("impact", [str(i) for i in MAJOR_IMPACTS])
    return [
        "t.category = ?",
        f"t.id IN (SELECT incident_id FROM persons WHERE cause = ? AND {impacts})",
    ], [str(c.Category.VIOLENCE), str(c.Cause.VIOLENCE), *impact_params]


def _in_list(dim: Dimension, values: list) -> tuple[str, list]:
    if dim.integer:
        return store.in_list(dim.column, _typed(dim, values))
    column = dim.column if dim.name in TEXT_COLUMNS else f"CAST({dim.column} AS VARCHAR)"
    return store.in_list(column, values)


def _typed(dim: Dimension, values: list) -> list:
    if not dim.integer:
        return values
    try:
        return [int(v) for v in values]
    except (TypeError, ValueError):
        raise QueryError(f"{dim.name} takes whole numbers") from None


def sql_for(query: Query, user, state, con, *, ids: bool = False) -> tuple[str, list]:
    """The DuckDB statement for ``query``; with ``ids``, the distinct incident ids it counts
    (the records behind the figure) instead of the figure."""
    if query.measure not in MEASURES:
        raise QueryError(f"unknown measure {query.measure!r}; one of {', '.join(MEASURES)}")
    for name in query.dimensions:
        if name not in DIMENSIONS:
            raise QueryError(f"unknown dimension {name!r}")
        if DIMENSIONS[name].person_only and query.measure != "persons":
            raise QueryError(
                f"{name!r} describes people: count persons by it, not incidents "
                "(an incident with a man and a woman affected would count twice)"
            )
    table = "persons" if query.measure == "persons" else "incidents"
    source, params = store.door_source(user, table, con)
    conditions, where_params, regional = _where(query, user, state, con)
    params += where_params
    join = " LEFT JOIN m49 m ON m.iso2 = t.country" if regional else ""
    value = "sum(t.count)" if table == "persons" else "count(*)"
    select = [f"{DIMENSIONS[d].column} AS {d}" for d in query.dimensions]
    if ids:
        key = store.ID_COLUMN[table]
        return f"SELECT DISTINCT t.{key} AS id FROM {source} t{join} WHERE " + " AND ".join(
            conditions
        ), params
    sql = (
        f"SELECT {', '.join([*select, f'{value} AS value'])} FROM {source} t{join} "
        f"WHERE {' AND '.join(conditions)}"
    )
    if select:
        positions = ", ".join(str(i + 1) for i in range(len(select)))
        sql += f" GROUP BY {positions} ORDER BY {positions}"
    return sql, params


def run(
    measure: str = "persons",
    dimensions=(),
    filters: dict | None = None,
    user=None,
    *,
    year_from: int | None = None,
    year_to: int | None = None,
) -> list[dict]:
    """Rows ``{dimension: value, ..., "value": n}`` for what ``user`` may see (``None``: the
    operator, everything). With no dimensions, one row with the total."""
    query = Query(measure, tuple(dimensions), dict(filters or {}), year_from, year_to)
    state = snapshot.State.load()
    con = store.connect(state)
    sql, params = sql_for(query, user, state, con)
    result = con.execute(sql, params)
    names = [d[0] for d in result.description]
    rows = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    for row in rows:
        row["value"] = int(row["value"] or 0)
    return rows


def total(measure: str = "persons", filters: dict | None = None, user=None, **years) -> int:
    return run(measure, (), filters, user, **years)[0]["value"]


def incident_ids(
    measure: str = "persons", filters: dict | None = None, user=None, **years
) -> list[int]:
    """The incidents behind a figure: those whose rows the figure counted."""
    query = Query(measure, (), dict(filters or {}), years.get("year_from"), years.get("year_to"))
    state = snapshot.State.load()
    con = store.connect(state)
    sql, params = sql_for(query, user, state, con, ids=True)
    ids = [row[0] for row in con.execute(sql, params).fetchall()]
    return sorted(ids)


# -- the forecast's series -------------------------------------------------------------------


def series_table_sql() -> tuple[str, list]:
    """The rows of the snapshot's series table (``snapshot.State.series``): major attacks
    (merged incidents left out, as in every figure) a month per country, access class and
    owning organisation, with the columns ``store.door_source`` reads. TLP:RED incidents stay
    one row each with their ``id`` and reporter, since the door names them one by one; rows
    nobody may see (``ACCESS_NOBODY``) are left out."""
    major, params = _major_attack()
    named = snapshot.ACCESS_NAMED
    conditions = ["t.status <> ?", f"t.access <> {snapshot.ACCESS_NOBODY}", *major]
    sql = (
        "SELECT t.access, t.organisation_id, t.country, t.year, t.month, "
        f"CASE WHEN t.access = {named} THEN t.id END AS id, "
        f"CASE WHEN t.access = {named} THEN t.reported_by_id END AS reported_by_id, "
        "count(*) AS n FROM incidents t "
        f"WHERE {' AND '.join(conditions)} GROUP BY ALL ORDER BY ALL"
    )
    return sql, [str(c.Status.MERGED), *params]


def major_attacks_by_month(user=None, countries=None) -> list[dict] | None:
    """``run("major_attacks", ("country", "year", "month"), {"country": countries}, user)``
    read from the snapshot's series table through the same door: the same rows, from a few
    thousand rows instead of every incident. Incidents the door hides since the snapshot
    (``store.stale_guard``) are taken off the counts they were in, read from the incidents
    themselves (a few). None for a snapshot without the table: ``run`` must answer."""
    state = snapshot.State.load()
    if state is None:
        raise store.NoSnapshot("No analytics snapshot yet: run 'salama analytics refresh'.")
    if not state.series:
        return None
    con = store.connect(state)
    source, params = store.door_source(user, "major_series", con)
    where, country_params = "TRUE", []
    if countries:
        where, country_params = store.in_list("t.country", [str(v) for v in countries])
    sql = (
        f"SELECT t.country AS country, t.year AS year, t.month AS month, sum(t.n) AS value "
        f"FROM {source} t WHERE {where} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )
    counts = {
        (country, year, month): int(value or 0)
        for country, year, month, value in con.execute(sql, params + country_params).fetchall()
    }
    if hidden := store.stale_guard(user, state):
        hidden_table = store.hidden_table(con, hidden)
        source, params = store.door_source(user, "incidents", con)
        impacts, impact_params = store.in_list("impact", [str(i) for i in MAJOR_IMPACTS])
        sql = (
            f"SELECT t.country, t.year, t.month, count(*) FROM {source} t "
            f"WHERE t.id IN (SELECT incident_id FROM {hidden_table}) AND {where} "
            "AND t.status <> ? AND t.category = ? AND t.id IN (SELECT incident_id FROM persons "
            f"WHERE incident_id IN (SELECT incident_id FROM {hidden_table}) "
            f"AND cause = ? AND {impacts}) GROUP BY 1, 2, 3"
        )
        params += [
            *country_params,
            str(c.Status.MERGED),
            str(c.Category.VIOLENCE),
            str(c.Cause.VIOLENCE),
            *impact_params,
        ]
        for country, year, month, n in con.execute(sql, params).fetchall():
            counts[(country, year, month)] -= n
    return [
        {"country": country, "year": year, "month": month, "value": value}
        for (country, year, month), value in counts.items()
        if value
    ]


def arrow_rows(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows)
