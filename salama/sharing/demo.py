"""Demo sharing agreements (Saving Lives Together): the demo UN agency shares its TLP:AMBER
incidents in redacted form with the demo NGO (in force for a month already, so ``ngo_analyst``
sees them on *Shared with us*), and offers aggregate figures to the demo national NGO (a
proposal awaiting an answer, on the agency admin's *Sharing agreements* page).

Idempotent: each agreement is found by its two organisations, level and purpose first.
"""

import datetime

from django.utils import timezone

from salama.sharing import agreements
from salama.sharing.models import Agreement

PURPOSE = "Saving Lives Together: incident information for the security cell (demo)."


def load_demo(organisations: dict, users: dict) -> dict:
    agency = organisations["UNDEMO"]
    counts = {"agreements": 0}
    plan = (
        (organisations["DEMO-NGO"], Agreement.Level.REDACTED, users.get("ngo_admin")),
        (organisations["DEMO-NNGO"], Agreement.Level.AGGREGATE, None),
    )
    for recipient, level, accepting in plan:
        found = Agreement.objects.filter(
            provider=agency, recipient=recipient, level=level, purpose=PURPOSE
        )
        if found.exists():
            continue
        made = agreements.propose(
            agency,
            recipient,
            level=level,
            purpose=PURPOSE,
            by=users["org_admin"],
            starts_on=timezone.localdate() - datetime.timedelta(days=30),
        )
        if accepting is not None:
            agreements.accept(made, by=accepting)
        counts["agreements"] += 1
    return counts
