"""The linkage input, read from the database in three bulk queries (no query per incident):

1. the incidents not merged and not drafts, with the fields the model compares;
2. their affected persons summed by impact (one GROUP BY);
3. their sources' systems and external references (one query).

The three are joined in DuckDB into an Arrow table of :data:`engine.RECORD_SCHEMA`.

An incident's *origin* is the source system it came from (``awsd``, ``sind`` …; the
alphabetically first when a merge gave it several), or ``org:<id>`` — the owning organisation —
for incidents reported in Salama itself. Only pairs of different origins are compared: two rows
of one database are that database's business.
"""

import duckdb
import pyarrow as pa
from django.db.models import Q, Sum

from salama.incidents import choices as c
from salama.incidents.models import AffectedPerson, Incident, Source
from salama.linkage.engine import RECORD_SCHEMA

# Rows fetched per round trip.
CHUNK = 20_000
INCIDENT_FIELDS = [
    "id",
    "organisation_id",
    "country",
    "date",
    "date_precision",
    "admin1",
    "place",
    "latitude",
    "longitude",
    "subcategory",
    "means_of_attack",
    "narrative",
]
IMPACT_COLUMNS = {
    c.Impact.KILLED: "killed",
    c.Impact.INJURED: "injured",
    c.Impact.ABDUCTED: "abducted",
    c.Impact.ARRESTED_DETAINED: "detained",
}


def linkable_incidents():
    """The incidents linkage looks at: current (not merged into another), not drafts."""
    return Incident.objects.current().exclude(status=c.Status.DRAFT)


def _columns(rows, names) -> dict[str, list]:
    columns = {name: [] for name in names}
    appenders = [columns[name].append for name in names]
    for row in rows:
        for append, value in zip(appenders, row, strict=True):
            append(value)
    return columns


def records_from_database(queryset=None) -> pa.Table:
    """The linkage records of ``queryset`` (default: :func:`linkable_incidents`)."""
    incidents = (queryset if queryset is not None else linkable_incidents()).order_by()
    ids = incidents.values("pk")
    incident_rows = incidents.values_list(*INCIDENT_FIELDS).iterator(chunk_size=CHUNK)
    table = pa.table(_columns(incident_rows, INCIDENT_FIELDS))
    if table.num_rows == 0:
        return RECORD_SCHEMA.empty_table()

    persons = (
        AffectedPerson.objects.filter(incident__in=ids, impact__in=list(IMPACT_COLUMNS))
        .order_by()
        .values_list("incident_id", "impact")
        .annotate(n=Sum("count"))
        .iterator(chunk_size=CHUNK)
    )
    counts = pa.table(_columns(persons, ["incident_id", "impact", "n"]))
    sources = (
        Source.objects.filter(incident__in=ids)
        .filter(~Q(system=""))
        .order_by()
        .values_list("incident_id", "system", "external_id")
        .iterator(chunk_size=CHUNK)
    )
    source_table = pa.table(_columns(sources, ["incident_id", "system", "external_id"]))

    con = duckdb.connect()
    con.register("incidents", table)
    con.register("counts", counts)
    con.register("sources", source_table)
    impact_sums = ",\n".join(
        f"coalesce(sum(n) FILTER (WHERE impact = '{impact}'), 0) AS {column}"
        for impact, column in IMPACT_COLUMNS.items()
    )
    sql = f"""
        WITH per_incident AS (
            SELECT incident_id, {impact_sums} FROM counts GROUP BY incident_id
        ),
        origin AS (
            SELECT incident_id, arg_min(system, system || ':' || external_id) AS system,
                   arg_min(external_id, system || ':' || external_id) AS external_id
            FROM sources GROUP BY incident_id
        )
        SELECT i.id,
               coalesce(o.system, 'org:' || CAST(i.organisation_id AS VARCHAR)) AS origin,
               coalesce(o.external_id, '') AS external_id,
               i.country, CAST(i.date AS DATE) AS date, i.date_precision, i.admin1, i.place,
               i.latitude, i.longitude,
               coalesce(p.killed, 0) AS killed, coalesce(p.injured, 0) AS injured,
               coalesce(p.abducted, 0) AS abducted, coalesce(p.detained, 0) AS detained,
               i.subcategory, i.means_of_attack, i.narrative
        FROM incidents i
        LEFT JOIN per_incident p ON p.incident_id = i.id
        LEFT JOIN origin o ON o.incident_id = i.id
        ORDER BY i.id
    """
    if counts.num_rows == 0:
        sql = sql.replace(
            "FROM counts", "FROM (SELECT 0 AS incident_id, '' AS impact, 0 AS n WHERE false)"
        )
    if source_table.num_rows == 0:
        sql = sql.replace(
            "FROM sources",
            "FROM (SELECT 0 AS incident_id, '' AS system, '' AS external_id WHERE false)",
        )
    result = con.sql(sql).to_arrow_table()
    return result.select(RECORD_SCHEMA.names).cast(RECORD_SCHEMA)
