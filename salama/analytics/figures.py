"""Yearly figures through the analytics path (the snapshot and DuckDB).

- ``sg``: the Secretary-General's categories for UN personnel (GA res. 79/138, A/79/149):
  people affected, deaths and injuries (all causes and from violence), abductions, sexual
  assaults, arrests and detentions, intimidation and harassment, robbery, burglary, and the
  locally recruited among the dead.
- ``awsd``: the Aid Worker Security Database's figures, as ``salama.incidents.figures``
  counts them from the database; ``test_figures.py`` checks both give the published table.

The counting rules are in docs/analytics.md.
"""

from salama.analytics import query, store
from salama.incidents import choices as c
from salama.incidents.figures import AWSD_OUTCOMES

I = c.Impact  # noqa: E741 (short name for a long enumeration)
# The SG scheme's keys: (impact, cause or None for every cause).
SG_KEYS = {
    "deaths": (I.KILLED, None),
    "deaths_violence": (I.KILLED, c.Cause.VIOLENCE),
    "deaths_safety": (I.KILLED, c.Cause.SAFETY),
    "injuries": (I.INJURED, None),
    "injuries_violence": (I.INJURED, c.Cause.VIOLENCE),
    "injuries_safety": (I.INJURED, c.Cause.SAFETY),
    "abductions": (I.ABDUCTED, None),
    "sexual_assaults": (I.SEXUAL_ASSAULT, None),
    "arrests_detentions": (I.ARRESTED_DETAINED, None),
    "intimidation_harassment": (I.INTIMIDATION_HARASSMENT, None),
    "robbery": (I.ROBBERY, None),
    "burglary": (I.BURGLARY, None),
    "physical_assault": (I.PHYSICAL_ASSAULT, None),
    "missing": (I.MISSING, None),
    "other": (I.OTHER, None),
}
# The people the SG report counts: personnel of UN organisations.
SG_FILTERS = {"organisation_type": c.AffectedOrgType.UN}


def sg_figures(year: int, *, user=None, organisation=None, year_to: int | None = None) -> dict:
    """The SG report's figures for UN personnel in ``year`` (to ``year_to``), in persons.

    ``organisation``: count only the incidents that organisation owns (e.g. one agency's
    own reports).
    """
    filters = dict(SG_FILTERS)
    if organisation is not None:
        filters["owner"] = organisation.pk
    rows = query.run(
        "persons",
        ("impact", "cause", "recruitment_group"),
        filters,
        user,
        year_from=year,
        year_to=year_to or year,
    )

    def count(impact=None, cause=None, local=None) -> int:
        return sum(
            r["value"]
            for r in rows
            if (impact is None or r["impact"] == impact)
            and (cause is None or r["cause"] == cause)
            and (local is None or (r["recruitment_group"] == "local") == local)
        )

    result = {"scheme": "sg", "year": year}
    if year_to and year_to != year:
        result["year_to"] = year_to
    result["affected"] = count()
    for key, (impact, cause) in SG_KEYS.items():
        result[key] = count(impact, cause)
    result["deaths_violence_locally_recruited"] = count(I.KILLED, c.Cause.VIOLENCE, True)
    result["deaths_safety_locally_recruited"] = count(I.KILLED, c.Cause.SAFETY, True)
    return result


def awsd_figures(year: int, *, user=None) -> dict:
    """AWSD's yearly figures from the snapshot: the same keys and rules as
    :func:`salama.incidents.figures.awsd_figures` (which counts in the database)."""
    outcomes = [str(v) for v in AWSD_OUTCOMES.values()]
    counted = {
        "category": c.Category.VIOLENCE,
        "cause": c.Cause.VIOLENCE,
        "impact": outcomes,
    }
    years = {"year_from": year, "year_to": year}
    incidents = query.total("incidents", counted, user, **years)
    rows = query.run("persons", ("impact", "recruitment"), counted, user, **years)
    by_impact = dict.fromkeys(AWSD_OUTCOMES, 0)
    nationals = internationals = 0
    for row in rows:
        for name, impact in AWSD_OUTCOMES.items():
            if row["impact"] == impact:
                by_impact[name] += row["value"]
        if row["recruitment"] in query.LOCALLY_RECRUITED:
            nationals += row["value"]
        elif row["recruitment"] == c.Recruitment.INTERNATIONAL:
            internationals += row["value"]
    return {
        "year": year,
        "incidents": incidents,
        **by_impact,
        "affected": sum(r["value"] for r in rows),
        "nationals": nationals,
        "internationals": internationals,
        "female": _awsd_female(year, user),
    }


def _awsd_female(year: int, user) -> int:
    """Women among the people AWSD counts: a source's gender margin where it gave one (AWSD's
    "Gender Female" column), else the persons recorded as female; never both for one
    incident (the rule of ``salama.incidents.figures.female_count``)."""
    from salama.analytics import snapshot

    state = snapshot.State.load()
    con = store.connect(state)
    counted = query.Query(
        "incidents",
        (),
        {
            "category": c.Category.VIOLENCE,
            "cause": c.Cause.VIOLENCE,
            "impact": [str(v) for v in AWSD_OUTCOMES.values()],
        },
        year,
        year,
    )
    inner, params = query.sql_for(counted, user, state, con, ids=True)
    outcomes_sql, outcomes = store.in_list("impact", [str(v) for v in AWSD_OUTCOMES.values()])
    sql = (
        f"WITH counted AS ({inner}), "
        "margin AS (SELECT DISTINCT incident_id FROM totals WHERE dimension = ?) "
        "SELECT "
        "(SELECT coalesce(sum(count), 0) FROM totals WHERE dimension = ? AND value = ? "
        " AND incident_id IN (SELECT id FROM counted)) + "
        "(SELECT coalesce(sum(count), 0) FROM persons WHERE gender = ? AND cause = ? "
        f" AND {outcomes_sql} "
        " AND incident_id IN (SELECT id FROM counted) "
        " AND incident_id NOT IN (SELECT incident_id FROM margin))"
    )
    gender = str(c.ReportedTotalDimension.GENDER)
    params = [
        *params,
        gender,
        gender,
        str(c.Gender.FEMALE),
        str(c.Gender.FEMALE),
        str(c.Cause.VIOLENCE),
        *outcomes,
    ]
    return int(con.execute(sql, params).fetchone()[0])


SCHEMES = {"sg": sg_figures, "awsd": awsd_figures}
