"""Rates per 10,000 personnel, where organisations entered headcounts (Headcount).

Numerator: persons of an organisation affected in a country and year for which that
organisation entered a headcount (the person's own organisation, not the incident's owner).
Denominator: the sum of those headcounts. Only matching (organisation, country, year) cells
enter either side, so a rate never divides people by staff counted somewhere else.
"""

import pyarrow as pa

from salama.analytics import params, query, snapshot, store
from salama.analytics.models import Headcount
from salama.incidents import choices as c

KEYS = {
    "country": ("t.country", "hc.country"),
    # The type of the organisation that entered the headcount (the person's own organisation).
    "organisation_type": ("hc.org_type", "hc.org_type"),
    "region": ("coalesce(m.region, 'unknown')", "coalesce(mh.region, 'unknown')"),
    "sub_region": ("coalesce(m.sub_region, 'unknown')", "coalesce(mh.sub_region, 'unknown')"),
}


def rates_per_10000(by: str, picked, user, *, year_from, year_to) -> dict | None:
    """``{"columns": [...years], "rows": [[label, rate or "", ...]], "staff": n}``, or None
    when no headcount falls in the period."""
    if by not in KEYS:
        return None
    counts = list(
        Headcount.objects.filter(year__gte=year_from, year__lte=year_to).values_list(
            "organisation_id", "organisation__type", "country", "year", "staff"
        )
    )
    if not counts:
        return None
    organisation, org_type, country, year, staff = (list(col) for col in zip(*counts, strict=True))
    table = pa.table(
        {
            "organisation_id": pa.array(organisation, pa.int64()),
            "org_type": pa.array(
                [str(c.AFFECTED_TYPE_OF.get(t, c.AffectedOrgType.OTHER)) for t in org_type],
                pa.string(),
            ),
            "country": pa.array(country, pa.string()),
            "year": pa.array(year, pa.int16()),
            "staff": pa.array(staff, pa.int64()),
        }
    )
    state = snapshot.State.load()
    con = store.connect(state)
    # Types are picked on the denominators' side below (the headcount's organisation).
    filters = {by: list(picked)} if picked and by != "organisation_type" else {}
    q = query.Query("persons", (), filters, year_from, year_to)
    try:
        con.register("hc", table)
        source, args = store.door_source(user, "persons", con)
        conditions, where_args, _ = query._where(q, user, state, con)
        args += where_args
        person_key, staff_key = KEYS[by]
        affected = con.execute(
            f"SELECT t.year, {person_key}, sum(t.count) FROM {source} t "
            "JOIN hc ON hc.organisation_id = t.person_organisation_id "
            "AND hc.country = t.country AND hc.year = t.year "
            "LEFT JOIN m49 m ON m.iso2 = t.country "
            f"WHERE {' AND '.join(conditions)} GROUP BY 1, 2",
            args,
        ).fetchall()
        pick_sql = ""
        pick_args = []
        if picked:
            pick_sql = f" WHERE {staff_key} IN (SELECT unnest(?::VARCHAR[]))"
            pick_args = [list(picked)]
        denominators = con.execute(
            f"SELECT hc.year, {staff_key}, sum(hc.staff) FROM hc "
            f"LEFT JOIN m49 mh ON mh.iso2 = hc.country{pick_sql} GROUP BY 1, 2",
            pick_args,
        ).fetchall()
    finally:
        con.unregister("hc")
    numerators = {(int(y), k): int(n) for y, k, n in affected}
    years = list(range(year_from, year_to + 1))
    keys = sorted({k for _, k, _ in denominators})
    staff_of = {(int(y), k): int(n) for y, k, n in denominators}
    rows = []
    for key in keys:
        cells = []
        for y in years:
            staff_n = staff_of.get((y, key))
            cells.append(
                "" if not staff_n else f"{numerators.get((y, key), 0) * 10000 / staff_n:.1f}"
            )
        rows.append([params.label(by, key), *cells])
    return {"columns": years, "rows": rows}
