"""The agreement endpoints of the REST API over real HTTP: what an agreement shares with a key,
in which form, paged like /incidents, audited; and the feeds a copy reconciles with."""

import datetime
import json

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from salama.conftest import make_incident, make_organisation, make_user
from salama.core.markings import TLP
from salama.core.models import AuditEntry
from salama.incidents import choices as c
from salama.incidents.models import Incident
from salama.incidents.services import merge, submit
from salama.organisations.choices import OrganisationType, Role
from salama.sharing import agreements, keys
from salama.sharing.models import Agreement
from salama.sharing.tests.conftest import agreed
from salama.sharing.tests.test_api import get


def agreement(
    provider, recipient, by_provider, by_recipient, level=Agreement.Level.REDACTED, **terms
):
    return agreed(provider, recipient, by_provider, by_recipient, level=level, **terms)


def amber(reporter, undp, **fields):
    return submit(make_incident(reporter, undp, marking=TLP.AMBER, **fields), reporter)


@pytest.mark.django_db(transaction=True)
def test_the_key_lists_the_agreements_in_force_that_share_with_its_organisation(
    live_server, undp, nrc, undp_admin, nrc_admin
):
    redacted = agreement(undp, nrc, undp_admin, nrc_admin, countries=["SS"], narratives=True)
    agreement(undp, nrc, undp_admin, None)  # proposed only: not in force
    later = agreement(
        undp, nrc, undp_admin, nrc_admin, starts_on=datetime.date.today() + datetime.timedelta(9)
    )
    ended = agreement(undp, nrc, undp_admin, nrc_admin, level=Agreement.Level.AGGREGATE)
    agreements.end(ended, by=undp_admin)
    agreement(nrc, undp, nrc_admin, undp_admin)  # the other way round
    key, token = keys.issue(nrc, "NRC hub")

    status, body = get(live_server, "/api/v1/shared", token)
    assert status == 200
    assert body == [
        {
            "id": redacted.pk,
            "provider": "UNDP",
            "provider_name": "United Nations Development Programme",
            "level": "redacted",
            "countries": ["SS"],
            "narratives": True,
            "assessments": False,
            "starts_on": redacted.starts_on.isoformat(),
            "ends_on": None,
            "purpose": "SLT security cell, South Sudan",
        }
    ]
    assert later.pk not in {a["id"] for a in body}
    entry = AuditEntry.objects.filter(action="api:shared").latest("seq")
    assert entry.actor_id == key.user_id and entry.after["agreements"] == [redacted.pk]


@pytest.mark.django_db(transaction=True)
def test_a_redacted_agreement_gives_its_records_redacted_and_paged(
    live_server, reporter, undp, nrc, undp_admin, nrc_admin
):
    shared = agreement(undp, nrc, undp_admin, nrc_admin, countries=["SS"])
    records = [amber(reporter, undp, date=datetime.date(2024, 3, day)) for day in (3, 14, 25)]
    amber(reporter, undp, country="SD", place="Khartoum", latitude=15.5, longitude=32.53)
    submit(make_incident(reporter, undp, marking=TLP.AMBER_STRICT), reporter)
    make_incident(reporter, undp, marking=TLP.AMBER)  # a draft
    _, token = keys.issue(nrc, "NRC hub")

    seen, after, pages = [], "", 0
    while True:
        status, body = get(
            live_server, f"/api/v1/shared/{shared.pk}/incidents?limit=2{after}", token
        )
        assert status == 200, body
        seen += body["results"]
        pages += 1
        if not body["next"]:
            break
        after = f"&after={body['next']}"
    assert pages == 2
    assert [r["reference"] for r in seen] == [i.reference for i in records]
    first = seen[0]
    assert first["date"] == "2024-03-01" and first["date_precision"] == "month"
    assert first["country"] == "SS" and first["admin1"] == "Central Equatoria"
    assert first["narrative"] == "" and first["narrative_withheld"] is True
    assert first["persons"] == [
        {"impact": "injured", "cause": "violence", "recruitment": "national", "count": 1}
    ]
    for withheld in ("place", "latitude", "longitude", "admin2", "sources", "marking"):
        assert withheld not in first
    # Filters and the cursor as on /incidents.
    status, body = get(
        live_server, f"/api/v1/shared/{shared.pk}/incidents?date_from=2024-03-10", token
    )
    assert [r["reference"] for r in body["results"]] == [records[1].reference, records[2].reference]
    status, body = get(live_server, f"/api/v1/shared/{shared.pk}/incidents?country=sd", token)
    assert status == 200 and body["results"] == []  # not in the agreement's countries
    status, body = get(live_server, f"/api/v1/shared/{shared.pk}/incidents?after=junk", token)
    assert status == 400 and "cursor" in body["detail"]
    status, body = get(live_server, f"/api/v1/shared/{shared.pk}/incidents?limit=9999", token)
    assert status == 200 and len(body["results"]) == 3  # the limit is capped, not refused
    entry = AuditEntry.objects.filter(action="api:shared_incidents").latest("seq")
    assert entry.object_id == str(shared.pk) and entry.after["returned"] == 3


@pytest.mark.django_db(transaction=True)
def test_the_other_levels_point_to_where_their_data_is(
    live_server, reporter, undp, nrc, undp_admin, nrc_admin
):
    full = agreement(undp, nrc, undp_admin, nrc_admin, level=Agreement.Level.FULL)
    figures_only = agreement(undp, nrc, undp_admin, nrc_admin, level=Agreement.Level.AGGREGATE)
    _, token = keys.issue(nrc, "NRC hub")
    status, body = get(live_server, f"/api/v1/shared/{full.pk}/incidents", token)
    assert status == 409 and "/api/v1/incidents" in body["detail"]
    status, body = get(live_server, f"/api/v1/shared/{figures_only.pk}/incidents", token)
    assert status == 409 and f"/api/v1/shared/{figures_only.pk}/figures" in body["detail"]
    # The full level's records are in /incidents already.
    record = amber(reporter, undp)
    status, body = get(live_server, "/api/v1/incidents", token)
    assert [r["reference"] for r in body["results"]] == [record.reference]


@pytest.mark.django_db(transaction=True)
def test_an_agreement_not_in_force_or_not_for_the_key_is_not_found(
    live_server, reporter, undp, nrc, undp_admin, nrc_admin
):
    shared = agreement(undp, nrc, undp_admin, nrc_admin)
    waiting = agreement(undp, nrc, undp_admin, None)
    amber(reporter, undp)
    other = make_organisation("WFP", OrganisationType.UN_AFP, "World Food Programme")
    _, outsider = keys.issue(other, "WFP hub")
    _, provider = keys.issue(undp, "UNDP hub")  # the provider's own key: not a recipient
    _, recipient = keys.issue(nrc, "NRC hub")
    for token in (outsider, provider):
        for path in ("incidents", "figures", "references"):
            assert get(live_server, f"/api/v1/shared/{shared.pk}/{path}", token)[0] == 404
    assert get(live_server, f"/api/v1/shared/{waiting.pk}/incidents", recipient)[0] == 404
    assert get(live_server, "/api/v1/shared/999999/incidents", recipient)[0] == 404
    assert get(live_server, f"/api/v1/shared/{shared.pk}/incidents", recipient)[0] == 200
    agreements.end(shared, by=nrc_admin)
    assert get(live_server, f"/api/v1/shared/{shared.pk}/incidents", recipient)[0] == 404
    assert get(live_server, f"/api/v1/shared/{shared.pk}/incidents")[0] == 401


@pytest.mark.django_db(transaction=True)
@override_settings(SHARING_MIN_CELL=3)
def test_figures_suppress_small_cells_and_say_the_minimum(
    live_server, reporter, undp, nrc, undp_admin, nrc_admin
):
    shared = agreement(undp, nrc, undp_admin, nrc_admin, level=Agreement.Level.AGGREGATE)
    for _ in range(3):
        amber(reporter, undp)
    amber(
        reporter,
        undp,
        country="SD",
        place="Khartoum",
        latitude=15.5,
        longitude=32.53,
        persons=[{"impact": c.Impact.KILLED, "cause": c.Cause.VIOLENCE}],
    )
    _, token = keys.issue(nrc, "NRC hub")
    status, body = get(live_server, f"/api/v1/shared/{shared.pk}/figures", token)
    assert status == 200, body
    assert body["agreement"] == shared.pk and body["minimum_cell"] == 3
    rows = {row["country"]: row for row in body["rows"]}
    assert rows["SS"]["incidents"] == 3 and rows["SS"]["injured"] == 3
    assert rows["SS"]["killed"] == 0  # zero is not a small cell
    assert rows["SD"]["incidents"] is None and rows["SD"]["killed"] is None
    assert AuditEntry.objects.filter(action="api:shared_figures").exists()


@pytest.mark.django_db(transaction=True)
def test_references_list_what_the_key_may_see_now_page_by_page(
    live_server, reporter, undp, nrc, undp_admin, nrc_admin
):
    green = [submit(make_incident(reporter, undp, marking=TLP.GREEN), reporter) for _ in range(3)]
    hidden = amber(reporter, undp)
    _, token = keys.issue(nrc, "NRC hub")
    seen, after = [], ""
    while True:
        status, body = get(live_server, f"/api/v1/references?limit=2{after}", token)
        assert status == 200, body
        seen += body["results"]
        if not body["next"]:
            break
        after = f"&after={body['next']}"
    assert seen == sorted(i.reference for i in green)
    # A redacted agreement has its own list; it changes as the agreement does.
    shared = agreement(undp, nrc, undp_admin, nrc_admin)
    status, body = get(live_server, f"/api/v1/shared/{shared.pk}/references", token)
    assert body == {"results": [hidden.reference], "next": None}
    Incident.objects.filter(pk=hidden.pk).update(marking=TLP.AMBER_STRICT)
    status, body = get(live_server, f"/api/v1/shared/{shared.pk}/references", token)
    assert body == {"results": [], "next": None}
    assert AuditEntry.objects.filter(action="api:references").exists()


@pytest.mark.django_db(transaction=True)
def test_merged_incidents_are_told_when_the_key_sees_both(live_server, reporter, undp, nrc):
    duplicate, survivor, secret = (
        submit(make_incident(reporter, undp, marking=marking), reporter)
        for marking in (TLP.GREEN, TLP.GREEN, TLP.AMBER)
    )
    other = submit(make_incident(reporter, undp, marking=TLP.GREEN), reporter)
    analyst = make_user("ana", undp, roles=(Role.ANALYST,))
    merge(duplicate, survivor, analyst, check_permission=False)
    merge(other, secret, analyst, check_permission=False)  # survivor AMBER: not for NRC
    _, token = keys.issue(nrc, "NRC hub")
    status, body = get(live_server, "/api/v1/merged", token)
    assert status == 200, body
    assert [(r["reference"], r["merged_into"]) for r in body["results"]] == [
        (duplicate.reference, survivor.reference)
    ]
    assert body["next"] is None
    # /incidents no longer returns the duplicate; the survivor stays.
    status, body = get(live_server, "/api/v1/incidents", token)
    assert {r["reference"] for r in body["results"]} == {survivor.reference}
    _, own = keys.issue(undp, "UNDP hub")
    status, body = get(live_server, "/api/v1/merged?limit=1", own)
    assert len(body["results"]) == 1 and body["next"]


@pytest.mark.django_db(transaction=True)
def test_the_schema_lists_the_new_paths(live_server):
    status, schema = get(live_server, "/api/v1/openapi.json")
    assert status == 200
    assert {
        "/api/v1/shared",
        "/api/v1/shared/{agreement_id}/incidents",
        "/api/v1/shared/{agreement_id}/figures",
        "/api/v1/shared/{agreement_id}/references",
        "/api/v1/references",
        "/api/v1/merged",
    } <= set(schema["paths"])
    json.dumps(schema)  # serialisable as a whole


@pytest.mark.django_db
def test_the_queries_of_a_redacted_page_do_not_grow_with_it(
    client, reporter, undp, nrc, undp_admin, nrc_admin
):
    shared = agreement(undp, nrc, undp_admin, nrc_admin)
    for _ in range(12):
        amber(reporter, undp)
    _, token = keys.issue(nrc, "NRC hub")
    auth = {"Authorization": f"Bearer {token}"}
    client.get("/api/v1/shared", headers=auth)  # the key's first use is recorded
    counts = []
    for limit in (2, 12):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(
                f"/api/v1/shared/{shared.pk}/incidents?limit={limit}", headers=auth
            )
        assert response.status_code == 200 and len(response.json()["results"]) == limit
        counts.append(len(queries))
    assert counts[0] == counts[1]
