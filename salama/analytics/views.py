"""Analytics pages: dashboards, the annual report, the records behind a figure, CSV data,
headcounts. Every figure is counted for the signed-in user (the door, in DuckDB)."""

import csv
import datetime
import hashlib

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from salama.analytics import charts, forecast, params, query, report, snapshot, store
from salama.analytics import render as render_report
from salama.analytics.models import Headcount
from salama.incidents import choices as c
from salama.incidents import grants
from salama.incidents.models import Incident
from salama.organisations.choices import Role
from salama.organisations.models import organisation_ids, organisations_where

PER_PAGE = 50


def _no_snapshot(request):
    from salama.analytics.tasks import schedule_refresh

    schedule_refresh()
    return render(request, "analytics/no_snapshot.html", status=503)


class PeriodForm(forms.Form):
    year_from = forms.IntegerField(
        label=gettext_lazy("From year"), min_value=1990, max_value=2100, required=False
    )
    year_to = forms.IntegerField(
        label=gettext_lazy("To year"), min_value=1990, max_value=2100, required=False
    )
    country = forms.CharField(
        label=gettext_lazy("Country (ISO code)"), max_length=2, required=False
    )
    organisation_type = forms.ChoiceField(
        label=gettext_lazy("Organisation type"),
        choices=[("", "—"), *c.AffectedOrgType.choices],
        required=False,
    )

    def period(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        this_year = datetime.date.today().year
        year_to = data.get("year_to") or this_year
        year_from = data.get("year_from") or year_to - 9
        return {"year_from": min(year_from, year_to), "year_to": max(year_from, year_to)}

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        out = {}
        if data.get("country"):
            out["country"] = data["country"].upper()
        if data.get("organisation_type"):
            out["organisation_type"] = data["organisation_type"]
        return out


@login_required
def overview(request):
    form = PeriodForm(request.GET or None)
    period, filters = form.period(), form.filters()
    user = request.user
    try:
        items = [
            charts.build(
                "by-cause",
                _("People affected by year and cause"),
                "persons",
                ("year", "cause"),
                user,
                filters,
                **period,
            ),
            charts.build(
                "by-impact",
                _("People affected by year and impact"),
                "persons",
                ("year", "impact"),
                user,
                filters,
                **period,
            ),
            charts.build(
                "incidents",
                _("Incidents by year"),
                "incidents",
                ("year",),
                user,
                filters,
                **period,
            ),
            charts.build(
                "by-month",
                _("Incidents by month, %(year)s") % {"year": period["year_to"]},
                "incidents",
                ("month",),
                user,
                filters,
                year_from=period["year_to"],
                year_to=period["year_to"],
            ),
            charts.build(
                "recruitment",
                _("National and international personnel affected"),
                "persons",
                ("year", "recruitment_group"),
                user,
                filters,
                **period,
            ),
            charts.build(
                "gender",
                _("People affected by gender"),
                "persons",
                ("year", "gender"),
                user,
                filters,
                **period,
            ),
            charts.build(
                "major",
                _("Major attacks (AWSD sense) by year"),
                "major_attacks",
                ("year",),
                user,
                filters,
                **period,
            ),
        ]
    except store.NoSnapshot:
        return _no_snapshot(request)
    return render(
        request,
        "analytics/dashboard.html",
        {"title": _("Overview"), "form": form, "charts": items, "page": "overview"},
    )


THEMES = {
    "road-safety": gettext_lazy("Road safety"),
    "sexual-violence": gettext_lazy("Sexual violence"),
    "detention": gettext_lazy("Arrests, detentions and abductions"),
    "health-care": gettext_lazy("Attacks on health care"),
    "locally-recruited": gettext_lazy("Locally recruited personnel"),
}


@login_required
def thematic(request, theme):
    if theme not in THEMES:
        return HttpResponseBadRequest(_("Unknown theme."))
    form = PeriodForm(request.GET or None)
    period, filters, user = form.period(), form.filters(), request.user
    build = charts.build
    try:
        if theme == "road-safety":
            road = {**filters, "threat_category": c.SubCategory.ROAD_TRAFFIC}
            items = [
                build(
                    "road-persons",
                    _("Personnel killed or injured in road crashes"),
                    "persons",
                    ("year", "impact"),
                    user,
                    {**road, "impact": [c.Impact.KILLED, c.Impact.INJURED]},
                    **period,
                ),
                build(
                    "road-incidents",
                    _("Road crashes"),
                    "incidents",
                    ("year",),
                    user,
                    road,
                    **period,
                ),
                build(
                    "road-recruitment",
                    _("Road-crash casualties by recruitment"),
                    "persons",
                    ("year", "recruitment_group"),
                    user,
                    road,
                    **period,
                ),
            ]
            items.append(_third_party_chart(user, road, period))
        elif theme == "sexual-violence":
            sv = {**filters, "impact": c.Impact.SEXUAL_ASSAULT}
            note = _("Numbers from 1 to 4 are shown as <5 so that no person can be singled out.")
            items = [
                build(
                    "sv-year",
                    _("Sexual assaults by year"),
                    "persons",
                    ("year",),
                    user,
                    sv,
                    suppress_below=5,
                    note=note,
                    **period,
                ),
                build(
                    "sv-gender",
                    _("Sexual assaults by gender"),
                    "persons",
                    ("year", "gender"),
                    user,
                    sv,
                    suppress_below=5,
                    note=note,
                    **period,
                ),
                build(
                    "sv-recruitment",
                    _("Sexual assaults by recruitment"),
                    "persons",
                    ("year", "recruitment_group"),
                    user,
                    sv,
                    suppress_below=5,
                    note=note,
                    **period,
                ),
            ]
        elif theme == "detention":
            det = {**filters, "impact": [c.Impact.ARRESTED_DETAINED, c.Impact.ABDUCTED]}
            items = [
                build(
                    "det-year",
                    _("Arrests, detentions and abductions by year"),
                    "persons",
                    ("year", "impact"),
                    user,
                    det,
                    **period,
                ),
                build("det-region", _("By region"), "persons", ("region",), user, det, **period),
                build(
                    "det-recruitment",
                    _("By recruitment"),
                    "persons",
                    ("year", "recruitment_group"),
                    user,
                    det,
                    **period,
                ),
            ]
        elif theme == "health-care":
            hc = {**filters, "health_facility_hit": True}
            items = [
                build(
                    "hc-incidents",
                    _("Incidents hitting health care"),
                    "incidents",
                    ("year",),
                    user,
                    hc,
                    **period,
                ),
                build(
                    "hc-medical",
                    _("Medical personnel affected"),
                    "persons",
                    ("year", "impact"),
                    user,
                    {**filters, "medical": "medical"},
                    **period,
                ),
                build(
                    "hc-region",
                    _("Incidents hitting health care, by region"),
                    "incidents",
                    ("region",),
                    user,
                    hc,
                    **period,
                ),
            ]
        else:
            local = {**filters, "recruitment_group": "local"}
            items = [
                build(
                    "local-impact",
                    _("Locally recruited personnel affected, by impact"),
                    "persons",
                    ("year", "impact"),
                    user,
                    local,
                    **period,
                ),
                build(
                    "local-share",
                    _("Deaths by recruitment"),
                    "persons",
                    ("year", "recruitment_group"),
                    user,
                    {**filters, "impact": c.Impact.KILLED},
                    **period,
                ),
                build(
                    "local-gender",
                    _("Locally recruited personnel affected, by gender"),
                    "persons",
                    ("year", "gender"),
                    user,
                    local,
                    **period,
                ),
            ]
    except store.NoSnapshot:
        return _no_snapshot(request)
    return render(
        request,
        "analytics/dashboard.html",
        {"title": THEMES[theme], "form": form, "charts": items, "page": theme},
    )


def _third_party_chart(user, filters, period) -> charts.Chart:
    """Third parties killed or hurt in crashes involving personnel (the Road Safety Strategy
    counts other road users too): summed from the incidents' road-crash facts."""
    state = store.snapshot.State.load()
    con = store.connect(state)
    q = query.Query("incidents", ("year",), filters, period["year_from"], period["year_to"])
    inner, args = query.sql_for(q, user, state, con, ids=True)
    sql = (
        f"SELECT year, sum(coalesce(third_party_killed, 0)), "
        f"sum(coalesce(third_party_seriously_injured, 0)), "
        f"sum(coalesce(third_party_slightly_injured, 0)) FROM incidents "
        f"WHERE id IN ({inner}) GROUP BY year ORDER BY year"
    )
    data = con.execute(sql, args).fetchall()
    names = (_("Killed"), _("Seriously injured"), _("Slightly injured"))
    values = [
        {"x": int(year), "series": str(names[i]), "value": int(row[i + 1])}
        for row in data
        for i, year in enumerate([row[0]] * 3)
    ]
    chart = charts.build(
        "road-third",
        _("Third parties killed or injured in road crashes"),
        "incidents",
        ("year",),
        user,
        filters,
        **period,
    )
    chart.spec["data"]["values"] = values
    chart.spec["encoding"]["shape"] = {"field": "series", "type": "nominal", "title": ""}
    chart.spec["encoding"]["strokeDash"] = {"field": "series", "type": "nominal", "legend": None}
    chart.spec["encoding"]["y"]["title"] = _("Third parties")
    chart.columns, chart.rows = charts._table(values, True, _("Year"), _("Third parties"))
    chart.note = _("The CSV link gives the crashes counted.")
    return chart


@login_required
def comparative(request):
    """Countries, regions or organisation types side by side, year on year."""
    by = request.GET.get("by", "region")
    if by not in ("country", "region", "sub_region", "organisation_type"):
        return HttpResponseBadRequest(_("Unknown comparison."))
    picked = [v for v in request.GET.getlist("pick") if v][:8]
    form = PeriodForm(request.GET or None)
    period, user = form.period(), request.user
    filters = {by: picked} if picked else {}
    measure = request.GET.get("measure", "persons")
    if measure not in query.MEASURES or (measure != "persons" and by == "organisation_type"):
        measure = "persons"
    try:
        items = [
            charts.build(
                "compare",
                _("%(measure)s by %(by)s, year on year")
                % {
                    "measure": params.MEASURE_LABELS[measure],
                    "by": params.DIMENSION_LABELS[by],
                },
                measure,
                ("year", by),
                user,
                filters,
                **period,
            )
        ]
        rates = _rates(by, picked, period, user)
        options = query.run(measure, (by,), {}, user, **period)
    except store.NoSnapshot:
        return _no_snapshot(request)
    choices = [(row[by], params.label(by, row[by])) for row in options if row[by] is not None]
    return render(
        request,
        "analytics/comparative.html",
        {
            "title": _("Compare"),
            "form": form,
            "charts": items,
            "rates": rates,
            "by": by,
            "picked": picked,
            "choices": choices,
            "measure": measure,
            "page": "compare",
        },
    )


def _rates(by, picked, period, user):
    """Persons affected per 10,000 staff, where organisations entered headcounts."""
    from salama.analytics.rates import rates_per_10000

    return rates_per_10000(by, picked, user, **period)


@login_required
def report_page(request):
    try:
        spec = _report_period(request)
    except params.BadRequest as error:
        return HttpResponseBadRequest(str(error))
    try:
        built = report.build(spec["year_from"], spec["year_to"], user=request.user)
    except store.NoSnapshot:
        return _no_snapshot(request)
    fmt = request.GET.get("format", "html")
    name = f"salama-annual-report-{built.year_from}"
    if built.year_to != built.year_from:
        name += f"-{built.year_to}"
    if fmt == "xlsx":
        response = HttpResponse(
            render_report.xlsx(built),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    if fmt == "pdf":
        response = HttpResponse(render_report.pdf(built, request), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
        return response
    return HttpResponse(render_report.html(built, request))


def _report_period(request) -> dict:
    data = request.GET
    spec = params.from_request(data)
    year_to = spec["year_to"] or datetime.date.today().year - 1
    year_from = spec["year_from"] or year_to
    if year_from > year_to:
        raise params.BadRequest(_("The period ends before it starts."))
    return {"year_from": year_from, "year_to": year_to}


@login_required
def records(request):
    """The incidents behind a figure: the same query, listed through the database's door."""
    try:
        spec = params.from_request(request.GET)
        ids = query.incident_ids(
            spec["measure"],
            spec["filters"],
            request.user,
            year_from=spec["year_from"],
            year_to=spec["year_to"],
        )
    except (params.BadRequest, query.QueryError) as error:
        return HttpResponseBadRequest(str(error))
    except store.NoSnapshot:
        return _no_snapshot(request)
    page = Paginator(ids, PER_PAGE).get_page(request.GET.get("page"))
    incidents = (
        Incident.objects.visible_to(request.user)
        .filter(pk__in=list(page.object_list))
        .select_related("organisation")
        .order_by("-date", "-id")
    )
    described = [
        f"{params.DIMENSION_LABELS.get(k, k)}: " + ", ".join(params.label(k, v) for v in values)
        for k, values in spec["filters"].items()
        if k in params.DIMENSION_LABELS
    ]
    querystring = request.GET.copy()
    querystring.pop("page", None)
    return render(
        request,
        "analytics/records.html",
        {
            "title": _("Records behind the figure"),
            "measure": params.MEASURE_LABELS[spec["measure"]],
            "described": described,
            "years": spec,
            "page_obj": page,
            "incidents": incidents,
            "count": len(ids),
            "querystring": querystring.urlencode(),
        },
    )


@login_required
def data_csv(request):
    try:
        spec = params.from_request(request.GET)
        dims = tuple(request.GET.getlist("dimension"))
        suppress = int(request.GET.get("suppress_below") or 0)
        rows = charts.csv_rows(
            spec["measure"],
            dims,
            spec["filters"],
            request.user,
            spec["year_from"],
            spec["year_to"],
            suppress_below=max(0, suppress),
        )
    except (params.BadRequest, query.QueryError, ValueError) as error:
        return HttpResponseBadRequest(str(error))
    except store.NoSnapshot:
        return _no_snapshot(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="salama-figures.csv"'
    csv.writer(response).writerows(rows)
    return response


class HeadcountForm(forms.ModelForm):
    class Meta:
        model = Headcount
        fields = [
            "organisation",
            "country",
            "year",
            "staff",
            "national_staff",
            "international_staff",
        ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations_where(user, Role.ORG_ADMIN)

    def clean(self):
        """Saving the same organisation, country and year again corrects the number."""
        data = super().clean()
        existing = Headcount.objects.filter(
            organisation=data.get("organisation"),
            country=data.get("country"),
            year=data.get("year"),
        ).first()
        if existing is not None:
            self.instance.pk = existing.pk
            self.instance._state.adding = False
        return data

    def clean_country(self):
        return (self.cleaned_data.get("country") or "").upper()


@login_required
def headcounts(request):
    """Organisation admins enter their personnel per country and year (rates' denominators)."""
    mine = organisations_where(request.user, Role.ORG_ADMIN)
    if not mine.exists():
        raise PermissionDenied(_("Only an organisation admin can enter headcounts."))
    if request.method == "POST":
        form = HeadcountForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            Headcount.objects.update_or_create(
                organisation=data["organisation"],
                country=data["country"],
                year=data["year"],
                defaults={k: data[k] for k in ("staff", "national_staff", "international_staff")},
            )
            messages.success(request, _("Headcount saved."))
            return redirect("analytics:headcounts")
    else:
        form = HeadcountForm(user=request.user)
    return render(
        request,
        "analytics/headcounts.html",
        {
            "title": _("Headcounts"),
            "form": form,
            "headcounts": Headcount.objects.filter(organisation__in=mine).select_related(
                "organisation"
            )[:500],
        },
    )


def _map_query(request):
    form = PeriodForm(request.GET or None)
    measure = request.GET.get("measure", "incidents")
    if measure not in query.MEASURES:
        measure = "incidents"
    return form, measure, form.period(), form.filters()


@login_required
def map_page(request):
    """A choropleth of the measure by country and the hexagon density of incidents."""
    from salama.analytics import map as amap

    form, measure, period, filters = _map_query(request)
    try:
        rows = query.run(measure, ("country",), filters, request.user, **period)
    except store.NoSnapshot:
        return _no_snapshot(request)
    by_country = {r["country"]: r["value"] for r in rows if r["country"]}
    table = sorted(
        ((params.label("country", k), v) for k, v in by_country.items()), key=lambda kv: -kv[1]
    )
    csv_url = (
        reverse("analytics:data_csv")
        + "?"
        + charts._query_string(
            measure, ("country",), filters, period["year_from"], period["year_to"]
        )
    )
    return render(
        request,
        "analytics/map.html",
        {
            "title": _("Map"),
            "form": form,
            "page": "map",
            "measure": measure,
            "measure_label": params.MEASURE_LABELS[measure],
            "legend": amap.legend(list(by_country.values())),
            "table": table,
            "csv_url": csv_url,
            "svg_query": request.GET.urlencode(),
        },
    )


@login_required
def map_svg(request):
    from salama.analytics import map as amap

    form, measure, period, filters = _map_query(request)
    try:
        rows = query.run(measure, ("country",), filters, request.user, **period)
        cells = amap.hexagons(request.user, filters, period["year_from"], period["year_to"])
    except store.NoSnapshot:
        return _no_snapshot(request)
    by_country = {r["country"]: r["value"] for r in rows if r["country"]}
    legend = [f"{bounds}" for _shade, bounds in amap.legend(list(by_country.values()))]
    svg = amap.render_svg(
        by_country, cells, title=str(params.MEASURE_LABELS[measure]), legend=legend
    )
    return HttpResponse(svg, content_type="image/svg+xml")


MODEL_LABELS = {
    "last_value": gettext_lazy("last value"),
    "historical_mean": gettext_lazy("historical mean"),
    "negative_binomial": gettext_lazy("negative binomial"),
    "weighted": gettext_lazy("weighted (Salama)"),
}


def _forecast_for(user):
    """The forecast for ``user``, kept while the snapshot, the user's organisations and
    sharing grants, and what the door hides from them since it was written stay the same (an
    ended agreement or membership changes the key at once). The first view after a refresh
    reads the series table and the backtests the worker warmed (``forecast.warm``)."""
    state = snapshot.State.load()
    if state is None:
        raise store.NoSnapshot("No analytics snapshot yet.")
    hidden = ",".join(map(str, sorted(store.stale_guard(user, state))))
    door = (organisation_ids(user), grants.for_user(user))
    digest = hashlib.sha256(f"{state.key}|{user.pk}|{door}|{hidden}".encode()).hexdigest()
    return cache.get_or_set(f"salama-forecast-{digest}", lambda: forecast.forecast(user), 3600)


@login_required
def forecast_page(request):
    """Next month's major attacks per country, with the backtest behind each forecast."""
    try:
        results = _forecast_for(request.user)
    except store.NoSnapshot:
        return _no_snapshot(request)
    rows = [
        {
            "forecast": r,
            "country": params.label("country", r.country),
            "model": MODEL_LABELS[r.model],
            "coverage": r.scores[r.model].coverage,
        }
        for r in results
    ]
    return render(
        request,
        "analytics/forecast.html",
        {
            "title": _("Forecast"),
            "page": "forecast",
            "rows": rows,
            "month": results[0].month if results else "",
            "warnings": [row for row in rows if row["forecast"].warning],
            "backtest_months": forecast.BACKTEST_MONTHS,
        },
    )
