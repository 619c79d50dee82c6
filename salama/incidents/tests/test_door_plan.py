"""The shape of the authorisation door: what the database makes of it, and an edge case.

The rules themselves are proved in test_door.py; these tests guard how they are written.
"""

import re

import pytest
from django.db import connection

from salama.conftest import make_incident, make_user
from salama.core.markings import TLP
from salama.incidents.models import Incident, IncidentRecipient
from salama.incidents.services import endorse, submit


def test_a_user_without_an_organisation_sees_only_what_is_shared_widely(reporter, endorser, undp):
    loner = make_user("lou", roles=())
    shown = {}
    for marking in TLP:
        incident = endorse(
            submit(make_incident(reporter, undp, marking=marking), reporter), endorser
        )
        shown[marking] = incident.pk
    named = make_incident(reporter, undp, marking=TLP.RED)
    IncidentRecipient.objects.create(incident=named, user=loner)
    visible = set(Incident.objects.visible_to(loner).values_list("pk", flat=True))
    assert visible == {shown[TLP.CLEAR], shown[TLP.GREEN], named.pk}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner only")
def test_sqlite_pages_the_list_from_the_date_index_even_without_statistics(outsider):
    """With the door as an OR of three rules, SQLite without ANALYZE looked up each rule in
    an index and sorted every visible incident: 800 ms at a million."""
    page = Incident.objects.visible_to(outsider).current().order_by("-date", "-id")[:51]
    plan = page.explain()
    assert "incidents_i_date_" in plan
    assert "TEMP B-TREE" not in plan and "MULTI-INDEX OR" not in plan


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner only")
def test_sqlite_searches_from_the_text_index(outsider):
    """The search's candidates come from the FTS5 table (and the backlog's id range) in one
    subquery; with an OR beside it SQLite scanned every incident (1.8 s at a million for a
    search that matched nothing)."""
    page = Incident.objects.visible_to(outsider).search("Timbuktoo").order_by("-date", "-id")
    plan = page[:51].explain()
    assert "incidents_incident_search VIRTUAL TABLE INDEX" in plan
    # Not walking the incidents (nor one of their indexes) to test each one.
    assert re.search(r"\bSCAN incidents_incident(?!_)", plan) is None, plan
