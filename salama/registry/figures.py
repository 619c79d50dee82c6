"""Accountability figures per country and year, and Table G (domain.md §4, §8.2).

Counting rules:
- a case counts once it has been accepted or opened by hand (open or closed); proposals and
  declined proposals do not count;
- a sexual-violence case counts only with the survivor's consent to statistics, the newest
  recorded (a withdrawal leaves it out again); how many were left out is given beside the
  figures (``left_out_without_consent``), never which;
- the year is the year of the offence (as incidents are counted by incident date);
- "any Government response": at least one follow-up entry with a response received;
- "days to first response": from the first follow-up entry to the first response received,
  over the cases that have one (median);
- "reaching investigation / charge / conviction": a milestone at that step or one that implies
  it (a trial implies a charge; an acquittal implies a charge; "closed without action" and
  "no information" imply nothing);
- open cases by age: days from opening to today, in four bands;
- Table G: detentions with no release date, and abductions still unresolved, of cases not
  declined, with days held to today; sexual-violence cases there too only with consent to
  statistics (``table_g_left_out_without_consent`` says how many were left out).
No figure carries an identity; Table G lists case references only.
"""

import datetime
import statistics
from collections import defaultdict

from django.db.models import Min, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from salama.organisations.choices import Role
from salama.organisations.models import Membership
from salama.registry import choices as rc
from salama.registry.models import Abduction, Case, Consent, Detention, FollowUp, Milestone

AGE_BANDS = ((90, "under_90_days"), (365, "90_to_365_days"), (730, "1_to_2_years"))
OLDEST_BAND = "over_2_years"


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _age_band(days: int) -> str:
    for limit, name in AGE_BANDS:
        if days < limit:
            return name
    return OLDEST_BAND


def _with_statistics_consent(cases):
    latest = (
        Consent.objects.filter(case=OuterRef("pk"), use=rc.ConsentUse.STATISTICS)
        .order_by("-recorded_on", "-id")
        .values("given")[:1]
    )
    return cases.annotate(statistics_consent=Subquery(latest))


def counted(cases):
    """Leave out the sexual-violence cases whose survivor has not consented (or has withdrawn
    consent) to being counted in anonymous statistics: counting is a use of their case too."""
    return _with_statistics_consent(cases).filter(
        Q(sexual_violence=False) | Q(statistics_consent=True)
    )


def left_out_without_consent(cases) -> int:
    """How many of ``cases`` :func:`counted` leaves out: sexual-violence cases with no
    consent to statistics recorded, or with a refusal or withdrawal as the newest."""
    return (
        _with_statistics_consent(cases)
        .filter(sexual_violence=True)
        .filter(Q(statistics_consent__isnull=True) | Q(statistics_consent=False))
        .count()
    )


def accountability(cases=None, *, year: int | None = None, today=None) -> dict:
    """The figures for ``cases`` (default: every case), one row per country and year."""
    today = today or timezone.localdate()
    cases = (Case.objects.all() if cases is None else cases).filter(
        status__in=(rc.CaseStatus.OPEN, rc.CaseStatus.CLOSED)
    )
    if year is not None:
        cases = cases.filter(date__year=year)
    left_out = left_out_without_consent(cases)
    cases = counted(cases)
    rows = list(cases.values_list("pk", "country", "date", "status", "opened_on"))
    ids = [r[0] for r in rows]
    first_request, first_response, stages = {}, {}, defaultdict(set)
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        for case_id, first in (
            FollowUp.objects.filter(case_id__in=chunk)
            .values_list("case_id")
            .annotate(first=Min("date"))
            .order_by()
        ):
            first_request[case_id] = first
        for case_id, first in (
            FollowUp.objects.filter(case_id__in=chunk, response_received=True)
            .values_list("case_id")
            .annotate(first=Min("response_date"))
            .order_by()
        ):
            first_response[case_id] = first
        for case_id, stage in Milestone.objects.filter(case_id__in=chunk).values_list(
            "case_id", "stage"
        ):
            stages[case_id].add(stage)

    groups = defaultdict(list)
    for row in rows:
        groups[(row[1], row[2].year)].append(row)
    table = []
    for (country, case_year), members in sorted(groups.items()):
        n = len(members)
        responded = [r for r in members if r[0] in first_response]
        delays = [
            (first_response[r[0]] - first_request[r[0]]).days
            for r in responded
            if r[0] in first_request
        ]
        open_by_age = {name: 0 for _, name in AGE_BANDS} | {OLDEST_BAND: 0}
        for r in members:
            if r[3] == rc.CaseStatus.OPEN:
                open_by_age[_age_band((today - (r[4] or r[2])).days)] += 1
        table.append(
            {
                "country": country,
                "year": case_year,
                "cases_opened": n,
                "share_with_response": _share(len(responded), n),
                "median_days_to_first_response": (statistics.median(delays) if delays else None),
                "share_investigation": _share(
                    sum(1 for r in members if stages[r[0]] & rc.REACHED_INVESTIGATION), n
                ),
                "share_charged": _share(
                    sum(1 for r in members if stages[r[0]] & rc.REACHED_CHARGE), n
                ),
                "share_convicted": _share(
                    sum(1 for r in members if rc.Stage.CONVICTED in stages[r[0]]), n
                ),
                "open_cases": sum(open_by_age.values()),
                "open_by_age": open_by_age,
            }
        )
    return {
        "year": year,
        "as_of": today.isoformat(),
        "rows": table,
        "left_out_without_consent": left_out,
    }


def _table_g_cases(cases):
    return (Case.objects.all() if cases is None else cases).exclude(status=rc.CaseStatus.DECLINED)


def _held(cases):
    """Cases with a detention not yet released or an abduction not yet resolved."""
    return cases.filter(
        Q(detention__isnull=False, detention__release_date__isnull=True)
        | Q(abduction__isnull=False, abduction__outcome=rc.AbductionOutcome.UNRESOLVED)
    )


TABLE_G_KINDS = {"detention": _("Arrest or detention"), "abduction": _("Abduction")}


def table_g_labels(row: dict) -> tuple[str, str]:
    """A Table G row's offence and detaining authority (or abductor) as people read them."""
    held_by = dict(rc.DetainingAuthority.choices) | dict(rc.AbductorType.choices)
    return str(TABLE_G_KINDS[row["kind"]]), str(held_by.get(row["authority"], row["authority"]))


def table_g(cases=None, *, today=None) -> list[dict]:
    """Arrests / detentions and abductions currently open, longest held first."""
    today = today or timezone.localdate()
    cases = counted(_table_g_cases(cases))
    out = []
    for detention in Detention.objects.filter(
        case__in=cases.values("pk"), release_date__isnull=True
    ).select_related("case"):
        out.append(
            {
                "reference": detention.case.reference,
                "kind": "detention",
                "authority": detention.authority,
                "country": detention.case.country,
                "date": detention.case.date.isoformat(),
                "days_held": detention.days_held(today),
                "access_granted": detention.access_granted,
                "medical_access_on": as_text(detention.medical_access_on),
                "legal_access_on": as_text(detention.legal_access_on),
                "released": None,
            }
        )
    for abduction in Abduction.objects.filter(
        case__in=cases.values("pk"), outcome=rc.AbductionOutcome.UNRESOLVED
    ).select_related("case"):
        out.append(
            {
                "reference": abduction.case.reference,
                "kind": "abduction",
                "authority": abduction.abductor_type,
                "country": abduction.case.country,
                "date": abduction.case.date.isoformat(),
                "days_held": abduction.days_held(today),
                "access_granted": None,
                "medical_access_on": None,
                "legal_access_on": None,
                "released": None,
            }
        )
    return sorted(out, key=lambda r: (-r["days_held"], r["reference"]))


def table_g_left_out_without_consent(cases=None) -> int:
    """Open restricted cases Table G leaves out for lack of consent to statistics."""
    return left_out_without_consent(_held(_table_g_cases(cases)))


def all_figures(cases=None, *, year=None, today=None) -> dict:
    figures = accountability(cases, year=year, today=today)
    figures["table_g"] = table_g(cases, today=today)
    figures["table_g_left_out_without_consent"] = table_g_left_out_without_consent(cases)
    return figures


# Who may see the figures of an organisation's cases (counts, shares, Table G by reference).
FIGURE_ROLES = (Role.CASE_OFFICER, Role.ANALYST, Role.ORG_ADMIN)


def cases_for_figures(user):
    """The cases whose figures ``user`` may see: those of the organisations where they are a
    case officer, analyst or organisation admin; None when there are none. ``user`` None is
    the operator (commands): every case. The figures page and the annual report's Table G
    both ask here."""
    if user is None:
        return Case.objects.all()
    if not getattr(user, "is_authenticated", False):
        return None
    orgs = set(
        Membership.objects.filter(user=user, role__in=FIGURE_ROLES).values_list(
            "organisation_id", flat=True
        )
    )
    if not orgs:
        return None
    return Case.objects.filter(organisation_id__in=orgs)


def as_text(day: datetime.date | None) -> str | None:
    return day.isoformat() if day else None


def as_of(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None
