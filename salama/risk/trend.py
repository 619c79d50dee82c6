"""The incident trend beside an assessment, and the threat ratings recent incidents contradict.

To switch to the analytics store: ``area_trend`` counts here in the operational database
because the analytics store (``salama/analytics``) was not ready when this was written. Once it
offers counts by country, admin 1, sub-category and date window for what a user may see,
replace the one query in :func:`_counts` with it; the return shapes stay the same.

Counting rules:
- only incidents ``user`` may see (``Incident.objects.visible_to``), neither drafts nor
  incidents merged into another;
- the area's country, and its provinces (admin 1) when the area lists them; a duty station
  counts like its country and provinces (incidents carry no duty station);
- windows end on ``today`` inclusive: the last 365 days, the 365 before them, and the last
  quarter (91 days) for the contradiction rule (``data/trend.yaml``);
- sub-categories map to the five threat categories by ``data/trend.yaml``; violence with an
  unknown threat is counted as "unattributed".
"""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy, ngettext

from salama.incidents import choices as ic
from salama.incidents.models import Incident
from salama.risk import rules
from salama.risk.choices import Likelihood, ThreatCategory

UNATTRIBUTED = "unattributed"
UNATTRIBUTED_LABEL = gettext_lazy("Unattributed (violence, threat unknown)")


@dataclass
class TrendRow:
    category: str
    label: str
    last: int
    previous: int
    quarter: int

    @property
    def change(self) -> int:
        return self.last - self.previous

    @property
    def change_pct(self) -> int | None:
        if not self.previous:
            return None
        return round(100 * (self.last - self.previous) / self.previous)


@dataclass
class Trend:
    area: object
    today: datetime.date
    last_from: datetime.date
    previous_from: datetime.date
    quarter_from: datetime.date
    rows: list[TrendRow]

    @property
    def total_last(self) -> int:
        return sum(r.last for r in self.rows)

    @property
    def total_previous(self) -> int:
        return sum(r.previous for r in self.rows)

    def quarter_count(self, category: str) -> int:
        return next((r.quarter for r in self.rows if r.category == category), 0)


def area_incidents(user, area):
    """The incidents of ``area`` that ``user`` may see, reported (not drafts), not merged."""
    found = (
        Incident.objects.visible_to(user)
        .current()
        .exclude(status=ic.Status.DRAFT)
        .filter(country=area.country)
    )
    if area.admin1:
        found = found.filter(admin1__in=area.admin1)
    return found


def _counts(user, area, today, recent_days, quarter_days):
    """sub-category → (last, previous, quarter) counted in the database (one GROUP BY)."""
    last_from = today - datetime.timedelta(days=recent_days - 1)
    previous_from = last_from - datetime.timedelta(days=recent_days)
    quarter_from = today - datetime.timedelta(days=quarter_days - 1)
    rows = (
        area_incidents(user, area)
        .filter(date__gte=previous_from, date__lte=today)
        .order_by()
        .values("subcategory")
        .annotate(
            last=Count("pk", filter=Q(date__gte=last_from)),
            previous=Count("pk", filter=Q(date__lt=last_from)),
            quarter=Count("pk", filter=Q(date__gte=quarter_from)),
        )
    )
    counts = {r["subcategory"]: (r["last"], r["previous"], r["quarter"]) for r in rows}
    return counts, last_from, previous_from, quarter_from


def area_trend(user, area, today: datetime.date) -> Trend:
    """Incidents in ``area`` by threat category: the last 12 months against the 12 before,
    and the last quarter; counted in the database, through the authorisation door."""
    trend_rules = rules.trend_rules()
    counts, last_from, previous_from, quarter_from = _counts(
        user, area, today, trend_rules.recent_days, trend_rules.quarter_days
    )
    # Fold the (at most a dozen) sub-category rows into threat categories.
    totals = {category: [0, 0, 0] for category in [*ThreatCategory.values, UNATTRIBUTED]}
    for subcategory, numbers in counts.items():
        category = trend_rules.threat_category_of.get(subcategory, UNATTRIBUTED)
        for i, n in enumerate(numbers):
            totals[category][i] += n
    labels = dict(ThreatCategory.choices) | {UNATTRIBUTED: UNATTRIBUTED_LABEL}
    rows = [
        TrendRow(category, str(labels[category]), *numbers)
        for category, numbers in totals.items()
        if category != UNATTRIBUTED or any(numbers)
    ]
    return Trend(area, today, last_from, previous_from, quarter_from, rows)


@dataclass
class Contradiction:
    threat_event: object
    incidents: int
    threshold: int
    message: str


def contradictions(assessment, trend: Trend) -> list[Contradiction]:
    """Threat events whose likelihood rating recent incidents contradict → review suggested.

    Rule (``data/trend.yaml``): an event rated at a listed likelihood is contradicted when at
    least that many incidents of its threat category happened in the area in the last quarter.
    """
    trend_rules = rules.trend_rules()
    found = []
    for event in assessment.threat_events.all():
        threshold = trend_rules.contradiction_threshold(event.likelihood)
        if threshold is None:
            continue
        seen = trend.quarter_count(event.category)
        if seen >= threshold:
            found.append(
                Contradiction(
                    event,
                    seen,
                    threshold,
                    # Translators: %(likelihood)s is a likelihood level ("Unlikely", "Very
                    # unlikely"…), shown as a label after the colon.
                    ngettext(
                        "Likelihood of “%(event)s”: %(likelihood)s. Yet %(n)d incident of this "
                        "category happened in the area since %(since)s: review suggested.",
                        "Likelihood of “%(event)s”: %(likelihood)s. Yet %(n)d incidents of this "
                        "category happened in the area since %(since)s: review suggested.",
                        seen,
                    )
                    % {
                        "event": event.description,
                        "likelihood": rules.label(Likelihood, event.likelihood),
                        "n": seen,
                        "since": trend.quarter_from.isoformat(),
                    },
                )
            )
    return found
