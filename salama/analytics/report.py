"""The annual report: the SG report's tables A–H (domain.md §4) and the AWSD-style yearly
figures, for a year or a period, counted through the query layer for one user.

Each figure is a :class:`Cell` that knows the query behind it, so the HTML page links every
number to the records it counts (``/analytics/records/?…``). The table definitions are the
``TABLE_*`` data below: change them there to match the real annex layout.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from salama.analytics import figures as schemes
from salama.analytics import query
from salama.analytics.signals import open_cases_requested
from salama.incidents import choices as c

I, V, S, T = c.Impact, c.Cause.VIOLENCE, c.Cause.SAFETY, c.SubCategory  # noqa: E741
UN = {"organisation_type": c.AffectedOrgType.UN}

# Table A rows: (label, filters on persons).
TABLE_A_ROWS = (
    (_("Deaths: violence"), {"impact": I.KILLED, "cause": V}),
    (_("Deaths: safety"), {"impact": I.KILLED, "cause": S}),
    (_("Injuries: violence"), {"impact": I.INJURED, "cause": V}),
    (_("Injuries: safety"), {"impact": I.INJURED, "cause": S}),
    (_("Abductions"), {"impact": I.ABDUCTED}),
    (_("Sexual assault"), {"impact": I.SEXUAL_ASSAULT}),
    (_("Arrest and detention"), {"impact": I.ARRESTED_DETAINED}),
    (_("Intimidation and harassment"), {"impact": I.INTIMIDATION_HARASSMENT}),
    (_("Robbery"), {"impact": I.ROBBERY}),
    (_("Burglary / residential intrusion"), {"impact": I.BURGLARY}),
    (_("Physical assault"), {"impact": I.PHYSICAL_ASSAULT}),
    (_("Other (missing, other)"), {"impact": [I.MISSING, I.OTHER]}),
)
THREATS = (T.ARMED_CONFLICT, T.TERRORISM, T.CRIME, T.CIVIL_UNREST, T.VIOLENCE_UNKNOWN)
SAFETY_CAUSES = (
    T.ROAD_TRAFFIC,
    T.AVIATION,
    T.FIRE,
    T.DROWNING,
    T.OCCUPATIONAL,
    T.NATURAL_HAZARD,
    T.HEALTH,
    T.SAFETY_OTHER,
)
NON_UN = [
    c.AffectedOrgType.INGO,
    c.AffectedOrgType.ICRC,
    c.AffectedOrgType.NRCS_IFRC,
    c.AffectedOrgType.NNGO,
    c.AffectedOrgType.OTHER,
]
RECRUITMENT_GROUPS = (
    ("local", _("National / locally recruited")),
    ("international", _("International")),
    ("unknown", _("Unknown")),
)


@dataclass
class Cell:
    value: int
    measure: str = "persons"
    filters: dict = field(default_factory=dict)
    year_from: int | None = None
    year_to: int | None = None

    @property
    def url(self) -> str:
        params = [("measure", self.measure)]
        for name, value in self.filters.items():
            values = value if isinstance(value, list | tuple) else [value]
            params += [(name, str(v)) for v in values]
        if self.year_from is not None:
            params.append(("year_from", self.year_from))
        if self.year_to is not None:
            params.append(("year_to", self.year_to))
        return reverse("analytics:records") + "?" + urlencode(params)


@dataclass
class Row:
    label: str
    cells: list
    total: bool = False


@dataclass
class Text:
    """A value in a listing (Table G's status list): shown as it is, no records behind it."""

    value: object
    number: bool = False
    url = None


@dataclass
class Table:
    key: str
    title: str
    note: str
    columns: list
    rows: list
    unit: str = "persons"
    # A listing (rows are cases, cells are Text) follows the table it belongs to, in the same
    # section of the page and on a sheet of its own; ``label_heading`` heads its first column.
    listing: bool = False
    label_heading: str = ""


@dataclass
class Report:
    year_from: int
    year_to: int
    years: list
    tables: list
    awsd: list


def _matches(row: dict, filters: dict) -> bool:
    for name, want in filters.items():
        wanted = {str(v) for v in want} if isinstance(want, list | tuple) else {str(want)}
        if str(row.get(name)) not in wanted:
            return False
    return True


def _grid(rows_spec, years, base, user, measure="persons", dims=("impact", "cause")) -> list:
    """One query grouped by year and ``dims``; cells summed from it, each with its filters."""
    dims = tuple(dict.fromkeys(("year", *dims)))
    data = query.run(measure, dims, base, user, year_from=years[0], year_to=years[-1])
    out = []
    for label, filters in rows_spec:
        cells = []
        for year in years:
            value = sum(r["value"] for r in data if r["year"] == year and _matches(r, filters))
            cells.append(Cell(value, measure, {**base, **filters}, year, year))
        out.append(Row(label, cells))
    return out


def _total_row(label, rows, years, measure, base) -> Row:
    cells = [
        Cell(sum(r.cells[i].value for r in rows), measure, dict(base), y, y)
        for i, y in enumerate(years)
    ]
    return Row(label, cells, total=True)


def build(year_from: int, year_to: int | None = None, *, user=None) -> Report:
    """The report for ``year_from``–``year_to`` (one year: the year-by-year tables show the
    five years ending with it, as the SG report does)."""
    year_to = year_to or year_from
    if year_to < year_from:
        raise ValueError("the period ends before it starts")
    years = list(range(year_from, year_to + 1))
    if len(years) == 1:
        years = list(range(year_to - 4, year_to + 1))
    period = {"year_from": year_from, "year_to": year_to}
    tables = []

    a_rows = _grid(TABLE_A_ROWS, years, UN, user)
    a_rows.append(_total_row(_("Total"), a_rows, years, "persons", UN))
    tables.append(
        Table(
            "A",
            _("UN personnel affected, by impact and year"),
            _("Persons, each once per incident under the most severe impact."),
            years,
            a_rows,
        )
    )

    b_spec = [
        (f"{label}: {c.SubCategory(t).label}", {"impact": impact, "threat_category": t})
        for impact, label in ((I.KILLED, _("Deaths")), (I.INJURED, _("Injuries")))
        for t in THREATS
    ]
    tables.append(
        Table(
            "B",
            _("Deaths and injuries from violence, by threat category"),
            _("UN personnel; persons."),
            years,
            _grid(b_spec, years, {**UN, "cause": V}, user, dims=("impact", "threat_category")),
        )
    )

    c_spec = [
        (f"{label}: {c.SubCategory(t).label}", {"impact": impact, "threat_category": t})
        for impact, label in ((I.KILLED, _("Deaths")), (I.INJURED, _("Injuries")))
        for t in SAFETY_CAUSES
    ]
    tables.append(
        Table(
            "C",
            _("Safety-related deaths and injuries, by cause"),
            _("UN personnel; persons."),
            years,
            _grid(c_spec, years, {**UN, "cause": S}, user, dims=("impact", "threat_category")),
        )
    )

    tables.append(_table_d(year_from, year_to, user, period))
    tables.append(_table_e(years, user))
    tables.append(_table_f(years, user))
    tables.extend(_table_g(year_from, year_to, user))

    h_rows = _grid(
        [(label, f) for label, f in TABLE_A_ROWS],
        years,
        {"organisation_type": NON_UN},
        user,
    )
    h_rows.append(_total_row(_("Total"), h_rows, years, "persons", {"organisation_type": NON_UN}))
    tables.append(
        Table(
            "H",
            _("Non-UN humanitarian personnel affected (NGOs, Red Cross / Red Crescent)"),
            _(
                "Persons whose organisation type is recorded; AWSD imports give organisation "
                "types only as totals, so their persons are in the AWSD figures below."
            ),
            years,
            h_rows,
        )
    )
    awsd = [schemes.awsd_figures(y, user=user) for y in years]
    return Report(year_from, year_to, years, tables, awsd)


def _table_d(year_from, year_to, user, period) -> Table:
    data = query.run("persons", ("impact", "gender", "recruitment_group"), UN, user, **period)
    columns = [
        (g, r, f"{c.Gender(g).label} / {rl}")
        for g in (c.Gender.FEMALE, c.Gender.MALE, c.Gender.OTHER_OR_UNKNOWN)
        for r, rl in RECRUITMENT_GROUPS
    ]
    rows = []
    for impact in c.Impact:
        cells = []
        for gender, group, _label in columns:
            filters = {**UN, "impact": impact, "gender": gender, "recruitment_group": group}
            value = sum(r["value"] for r in data if _matches(r, filters))
            cells.append(Cell(value, "persons", filters, year_from, year_to))
        rows.append(Row(str(impact.label), cells))
    rows.append(
        _column_totals(
            rows,
            [{**UN, "gender": g, "recruitment_group": r} for g, r, _l in columns],
            year_from,
            year_to,
        )
    )
    return Table(
        "D",
        _("UN personnel affected, by impact, gender and recruitment"),
        _("Persons in %(period)s.") % {"period": _period(year_from, year_to)},
        [label for _g, _r, label in columns],
        rows,
    )


def _column_totals(rows, filters, year_from, year_to) -> Row:
    cells = [
        Cell(sum(r.cells[i].value for r in rows), "persons", f, year_from, year_to)
        for i, f in enumerate(filters)
    ]
    return Row(str(_("Total")), cells, total=True)


def _table_e(years, user) -> Table:
    spec = [(str(t.label), {"organisation_type": t}) for t in c.AffectedOrgType]
    rows = _grid(spec, years, {}, user, dims=("organisation_type",))
    rows.append(_total_row(_("Total"), rows, years, "persons", {}))
    return Table(
        "E",
        _("Personnel affected, by type of organisation"),
        _("All personnel; persons."),
        years,
        rows,
    )


def _table_f(years, user) -> Table:
    rows = []
    for label, flag in (
        (_("Attacks on premises"), "premises_hit"),
        (_("Attacks on vehicles or convoys"), "vehicles_hit"),
    ):
        data = query.run(
            "incidents",
            ("year",),
            {"category": c.Category.VIOLENCE, flag: True},
            user,
            year_from=years[0],
            year_to=years[-1],
        )
        by_year = {r["year"]: r["value"] for r in data}
        rows.append(
            Row(
                str(label),
                [
                    Cell(
                        by_year.get(y, 0),
                        "incidents",
                        {"category": c.Category.VIOLENCE, flag: True},
                        y,
                        y,
                    )
                    for y in years
                ],
            )
        )
    return Table(
        "F",
        _("Attacks on premises and vehicles"),
        _("Incidents of violence in which premises or vehicles were hit."),
        years,
        rows,
        unit="incidents",
    )


def _table_g(year_from, year_to, user) -> list:
    """Arrests, detentions and abductions in the period, per country; beneath them, when an
    app keeping cases answers (the victims registry), the status list of those open today."""
    filters = {"impact": [I.ARRESTED_DETAINED, I.ABDUCTED]}
    data = query.run(
        "persons", ("country", "impact"), filters, user, year_from=year_from, year_to=year_to
    )
    countries = sorted({r["country"] for r in data})
    rows = []
    for country in countries:
        cells = []
        for impact in (I.ARRESTED_DETAINED, I.ABDUCTED):
            f = {"country": country, "impact": impact}
            value = sum(r["value"] for r in data if _matches(r, f))
            cells.append(Cell(value, "persons", f, year_from, year_to))
        rows.append(Row(_country(country), cells))
    status = _table_g_status(year_from, year_to, user)
    period = {"period": _period(year_from, year_to)}
    if status is None:
        note = _(
            "All personnel; persons in %(period)s. The status list of the cases still open "
            "(detaining authority, days held, access, release) is kept in the victims "
            "registry, for its case officers."
        )
    else:
        note = _("All personnel; persons in %(period)s. The cases still open are listed below.")
    counts = Table(
        "G",
        _("Arrests, detentions and abductions, by country"),
        note % period,
        [str(I.ARRESTED_DETAINED.label), str(I.ABDUCTED.label)],
        rows,
    )
    return [counts] if status is None else [counts, status]


def _table_g_status(year_from, year_to, user) -> "Table | None":
    """Table G's status list, from whichever apps answer ``open_cases_requested`` (None when
    none does: the registry is not installed, or the user may not see its cases)."""
    today = timezone.localdate()
    answers = [
        answer
        for _receiver, answer in open_cases_requested.send(
            sender=Report, user=user, year_from=year_from, year_to=year_to, today=today
        )
        if answer is not None
    ]
    if not answers:
        return None
    cases = sorted(
        (row for answer in answers for row in answer["rows"]),
        key=lambda row: (-row["days_held"], row["reference"]),
    )
    left_out = sum(answer.get("left_out_without_consent", 0) for answer in answers)
    rows = [
        Row(
            row["reference"],
            [
                Text(row["offence"]),
                Text(row["authority"]),
                Text(_country(row["country"])),
                Text(row["date"].isoformat()),
                Text(row["days_held"], number=True),
                Text(_access(row, "medical_access_on")),
                Text(_access(row, "legal_access_on")),
                Text(row["released"].isoformat() if row["released"] else ""),
            ],
        )
        for row in cases
    ]
    note = _(
        "Cases open on %(today)s that began by the end of %(year)s, longest held first; days "
        "held to %(today)s, or to the release. Case references only, never a name."
    ) % {"today": today.isoformat(), "year": year_to}
    if left_out:
        note += " " + ngettext(
            "%(count)s sexual-violence case is left out: listed only with the survivor's "
            "consent to statistics.",
            "%(count)s sexual-violence cases are left out: listed only with the survivor's "
            "consent to statistics.",
            left_out,
        ) % {"count": left_out}
    return Table(
        "G status",
        _("Arrests / detentions and abductions currently open"),
        note,
        [
            str(_("Offence")),
            str(_("Detaining authority or abductor")),
            str(_("Country")),
            str(_("Date detained or abducted")),
            str(_("Days held")),
            str(_("Medical access granted")),
            str(_("Legal access granted")),
            str(pgettext_lazy("person released", "Released")),
        ],
        rows,
        unit="cases",
        listing=True,
        label_heading=str(_("Case reference")),
    )


def _access(row: dict, name: str) -> str:
    if row["kind"] != "detention":
        return "—"
    day = row.get(name)
    return str(_("Yes, %(date)s") % {"date": day.isoformat()}) if day else str(_("No"))


def _country(code: str) -> str:
    from salama.core.geo import country_name

    return f"{country_name(code)} ({code})" if code else str(_("Unknown"))


def _period(year_from: int, year_to: int) -> str:
    return str(year_from) if year_from == year_to else f"{year_from}–{year_to}"


AWSD_LABELS = (
    ("incidents", _("Major attacks (incidents)")),
    ("killed", _("Killed")),
    ("wounded", _("Wounded")),
    ("kidnapped", _("Kidnapped")),
    ("detained", _("Detained")),
    ("affected", _("Total affected")),
    ("nationals", _("Nationals")),
    ("internationals", _("Internationals")),
    ("female", _("Women")),
)
