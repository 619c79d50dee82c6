"""The registry's answer to the annual report's request for Table G's status list
(``analytics.signals.open_cases_requested``): the rows of :func:`figures.table_g` that the
user may see, by case reference only.

Who may see them is the figures page's rule (``figures.cases_for_figures``): the cases of the
organisations where the user is a case officer, analyst or organisation admin. The operator
running ``salama report annual`` without ``--user`` (``user`` None) gets every case; anyone
else, anonymous visitors included, gets no answer, and the report says where the list is kept.
"""

import datetime

from django.utils import timezone

from salama.registry import figures


def open_cases(sender, user=None, year_from=None, year_to=None, today=None, **kwargs):
    """Arrests / detentions and abductions open today that began by the end of ``year_to``
    (one still held from an earlier year is still open: that is what the list is for)."""
    cases = figures.cases_for_figures(user)
    if cases is None:
        return None
    today = today or timezone.localdate()
    if year_to is not None:
        cases = cases.filter(date__lte=datetime.date(year_to, 12, 31))
    answer = []
    for row in figures.table_g(cases, today=today):
        offence, authority = figures.table_g_labels(row)
        answer.append(
            {
                "reference": row["reference"],
                "kind": row["kind"],
                "offence": offence,
                "authority": authority,
                "country": row["country"],
                "date": datetime.date.fromisoformat(row["date"]),
                "days_held": row["days_held"],
                "medical_access_on": figures.as_of(row["medical_access_on"]),
                "legal_access_on": figures.as_of(row["legal_access_on"]),
                "released": row["released"],
            }
        )
    return {
        "rows": answer,
        "left_out_without_consent": figures.table_g_left_out_without_consent(cases),
    }
