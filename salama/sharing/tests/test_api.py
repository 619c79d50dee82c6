"""The REST API over real HTTP: keys, the door, paging, the schema, the audit log."""

import datetime
import json
import urllib.error
import urllib.request

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from salama.conftest import make_incident
from salama.core.markings import TLP
from salama.core.models import AuditEntry
from salama.incidents.services import submit
from salama.sharing import keys
from salama.sharing.models import ApiKey


def get(live_server, path: str, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(live_server.url + path)  # noqa: S310 (http://localhost)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        body = error.read()
        is_json = error.headers.get("Content-Type", "").startswith("application/json")
        return error.code, json.loads(body) if is_json else {"page": body.decode()}


@pytest.fixture
def incidents(reporter, undp):
    """UNDP's incidents, one of each kind the door tells apart."""
    made = {
        "green": submit(make_incident(reporter, undp, marking=TLP.GREEN), reporter),
        "clear": submit(make_incident(reporter, undp, marking=TLP.CLEAR), reporter),
        "amber": submit(make_incident(reporter, undp, marking=TLP.AMBER), reporter),
        "red": submit(make_incident(reporter, undp, marking=TLP.RED), reporter),
        "draft": make_incident(reporter, undp, marking=TLP.GREEN),
    }
    return {name: incident.reference for name, incident in made.items()}


def references(live_server, token, query="") -> set[str]:
    status, body = get(live_server, f"/api/v1/incidents?limit=500{query}", token)
    assert status == 200, body
    return {row["reference"] for row in body["results"]}


@pytest.mark.django_db(transaction=True)
def test_a_key_reads_what_an_analyst_of_its_organisation_sees(live_server, incidents, undp, nrc):
    _, own = keys.issue(undp, "UNDP data hub")
    _, other = keys.issue(nrc, "NRC data hub")

    assert references(live_server, other) == {incidents["green"], incidents["clear"]}
    assert references(live_server, own) == {
        incidents["green"],
        incidents["clear"],
        incidents["amber"],
        incidents["draft"],
    }  # never TLP:RED (named people only), not even for its own organisation
    # One incident: what the key may not see does not exist for it.
    status, body = get(live_server, f"/api/v1/incidents/{incidents['green']}", other)
    assert status == 200 and body["persons"][0]["count"] == 1 and "sources" in body
    assert "name" not in json.dumps(body["persons"])
    for hidden in ("amber", "red", "draft"):
        status, _ = get(live_server, f"/api/v1/incidents/{incidents[hidden]}", other)
        assert status == 404


@pytest.mark.django_db(transaction=True)
def test_no_usable_key_no_data(live_server, incidents, nrc):
    key, token = keys.issue(nrc, "NRC data hub")
    assert get(live_server, "/api/v1/incidents")[0] == 401
    assert get(live_server, "/api/v1/incidents", token[:-2] + "xx")[0] == 401
    assert get(live_server, "/api/v1/incidents", "slm_nothing")[0] == 401
    assert get(live_server, "/api/v1/incidents", token)[0] == 200
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - datetime.timedelta(1))
    assert get(live_server, "/api/v1/incidents", token)[0] == 401
    ApiKey.objects.filter(pk=key.pk).update(expires_at=None)
    keys.revoke(ApiKey.objects.get(pk=key.pk))
    assert get(live_server, "/api/v1/incidents", token)[0] == 401
    # The key's own user cannot sign in to the pages either.
    key.user.refresh_from_db()
    assert not key.user.is_active and not key.user.has_usable_password()


@pytest.mark.django_db(transaction=True)
def test_paging_by_last_change_walks_every_incident_once(live_server, incidents, undp):
    _, token = keys.issue(undp, "UNDP data hub")
    seen, after, pages = [], "", 0
    while True:
        status, body = get(live_server, f"/api/v1/incidents?limit=1{after}", token)
        assert status == 200
        seen += [row["reference"] for row in body["results"]]
        pages += 1
        if not body["next"]:
            break
        after = f"&after={body['next']}"
    assert len(seen) == len(set(seen)) == 4 == pages
    status, body = get(live_server, "/api/v1/incidents?after=garbage", token)
    assert status == 400 and "cursor" in body["detail"]
    status, body = get(live_server, "/api/v1/incidents?date_from=yesterday", token)
    assert status == 422  # a clear validation error, not a crash


@pytest.mark.django_db(transaction=True)
def test_filters_and_the_audit_log(live_server, reporter, undp, nrc):
    kabul = submit(
        make_incident(reporter, undp, country="AF", place="Kabul", latitude=34.55, longitude=69.2),
        reporter,
    )
    submit(make_incident(reporter, undp), reporter)  # South Sudan
    key, token = keys.issue(nrc, "NRC data hub")
    assert references(live_server, token, "&country=af") == {kabul.reference}
    entry = AuditEntry.objects.filter(action="api:incidents").latest("seq")
    assert entry.actor_id == key.user_id
    assert entry.after["returned"] == 1 and entry.after["filters"]["country"] == "af"
    assert AuditEntry.objects.filter(action="api_key:issue").exists()


@pytest.mark.django_db
def test_the_queries_do_not_grow_with_the_page(client, reporter, undp, nrc):
    for _ in range(12):
        submit(make_incident(reporter, undp), reporter)
    _, token = keys.issue(nrc, "NRC data hub")
    auth = {"Authorization": f"Bearer {token}"}
    client.get("/api/v1/incidents?limit=1", headers=auth)  # the key's first use is recorded
    counts = []
    for limit in (2, 12):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/api/v1/incidents?limit={limit}", headers=auth)
        assert response.status_code == 200 and len(response.json()["results"]) == limit
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.django_db(transaction=True)
def test_the_openapi_schema_is_served_without_a_key(live_server):
    status, schema = get(live_server, "/api/v1/openapi.json")
    assert status == 200
    assert {"/api/v1/incidents", "/api/v1/incidents/{reference}"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]
    # No interactive page that would load scripts from elsewhere.
    assert get(live_server, "/api/v1/docs")[0] == 404


@pytest.mark.django_db
def test_the_command_issues_lists_and_revokes(capsys, undp):
    call_command("apikey", "create", "--organisation", "undp", "--name", "UNDP hub", "--days", "30")
    token = capsys.readouterr().out.strip()
    key = keys.authenticate(token)
    assert key is not None and key.organisation == undp
    call_command("apikey", "list")
    assert key.prefix in capsys.readouterr().out
    call_command("apikey", "revoke", key.prefix)
    assert keys.authenticate(token) is None


@pytest.mark.django_db
def test_each_key_has_a_request_budget_a_minute(client, nrc, undp, settings, time_machine):
    settings.API_REQUESTS_PER_MINUTE = 3
    time_machine.move_to("2026-11-29 10:00:15+00:00", tick=False)
    _, first = keys.issue(nrc, "NRC data hub")
    _, second = keys.issue(undp, "UNDP data hub")

    def get(token):
        return client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"})

    statuses = [get(first) for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert statuses[-1]["Retry-After"] == "45"  # the seconds left in the minute
    assert get(second).status_code == 200  # another key has its own budget
    time_machine.move_to("2026-11-29 10:01:00+00:00", tick=False)
    assert get(first).status_code == 200  # a new minute, a new budget


def test_the_budget_is_counted_in_the_database_for_every_process(nrc, monkeypatch):
    """Any process that counts the key's requests sees the others' (one row a key and
    minute); counts older than KEEP_MINUTES go."""
    from salama.sharing import throttle
    from salama.sharing.models import ApiRequestCount

    now = 1_800_000_000.0
    assert [throttle.count("abcd1234", now) for _ in range(3)] == [1, 2, 3]
    assert ApiRequestCount.objects.get(prefix="abcd1234").count == 3
    monkeypatch.setattr(throttle.random, "randrange", lambda n: 0)  # prune this time
    later = now + 60 * (throttle.KEEP_MINUTES + 2)
    assert throttle.count("abcd1234", later) == 1
    assert list(ApiRequestCount.objects.values_list("minute", flat=True)) == [int(later // 60)]


@pytest.mark.django_db(transaction=True)
def test_figures_count_what_the_key_may_see(live_server, reporter, undp, nrc):
    wounded = {
        "impact": "injured",
        "cause": "violence",
        "recruitment": "national",
        "gender": "female",
        "count": 2,
    }
    for marking in (TLP.GREEN, TLP.AMBER):
        submit(make_incident(reporter, undp, marking=marking, persons=[wounded]), reporter)
    _, outside = keys.issue(nrc, "NRC data hub")
    _, inside = keys.issue(undp, "UNDP data hub")
    status, body = get(live_server, "/api/v1/figures/awsd/2024", outside)
    assert status == 200
    assert (body["incidents"], body["wounded"], body["female"]) == (1, 2, 2)
    assert get(live_server, "/api/v1/figures/awsd/2024", inside)[1]["incidents"] == 2
    assert get(live_server, "/api/v1/figures/awsd/1066", inside)[0] == 400


@pytest.mark.django_db
def test_a_road_crash_comes_with_its_facts(client, reporter, undp, nrc):
    from salama.incidents import choices as c
    from salama.incidents.models import RoadCrash

    crash = submit(
        make_incident(
            reporter,
            undp,
            category=c.Category.SAFETY,
            subcategory=c.SubCategory.ROAD_TRAFFIC,
            means_of_attack="",
            perpetrator_type="",
            attack_context="",
        ),
        reporter,
    )
    RoadCrash.objects.create(incident=crash, vehicle_owner="un", third_party_killed=2)
    other = submit(make_incident(reporter, undp), reporter)
    _, token = keys.issue(nrc, "NRC data hub")
    auth = {"Authorization": f"Bearer {token}"}
    rows = {
        r["reference"]: r for r in client.get("/api/v1/incidents", headers=auth).json()["results"]
    }
    assert rows[crash.reference]["road_crash"]["third_party_killed"] == 2
    assert rows[crash.reference]["road_crash"]["vehicle_owner"] == "un"
    assert rows[other.reference]["road_crash"] is None


@pytest.mark.django_db
def test_the_forecast_through_a_key(client, reporter, undp, nrc, settings, tmp_path):
    from django.db.models import F

    from salama.analytics import snapshot
    from salama.incidents import choices as c
    from salama.incidents.models import Incident

    settings.DATA_DIR = tmp_path
    _, token = keys.issue(nrc, "NRC data hub")
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/forecast", headers=auth).status_code == 503  # no snapshot yet

    killed = {
        "impact": c.Impact.KILLED,
        "cause": c.Cause.VIOLENCE,
        "recruitment": "national",
        "gender": "male",
    }
    today = datetime.date.today()
    for months_ago in range(1, 16):
        year, month = divmod(today.year * 12 + today.month - 1 - months_ago, 12)
        made = make_incident(
            reporter,
            undp,
            persons=[killed],
            marking=TLP.GREEN,
            date=datetime.date(year, month + 1, 5),
        )
        Incident.objects.filter(pk=made.pk).update(
            status=c.Status.ENDORSED, version=F("version") + 1
        )
    snapshot.refresh(full=True)
    answer = client.get("/api/v1/forecast?country=ss", headers=auth)
    assert answer.status_code == 200
    (south_sudan,) = answer.json()
    assert south_sudan["country"] == "SS" and south_sudan["p_any"] > 0.5
    assert south_sudan["model"] in (
        "last_value",
        "historical_mean",
        "negative_binomial",
        "weighted",
    )
