"""``salama exchange pull`` against a real remote over HTTP (the live server plays it).

The live server serves the same test database, so the remote's records belong to UNDP and NRC
(the key's holder there), and the copies to HQ, the local organisation that runs the pull;
copies are told apart by their source ("salama", "<host>/<remote reference>"). Records are
TLP:AMBER shared by a full agreement (or NRC's own), so the copies, owned by HQ and kept in it
(TLP:AMBER+STRICT), are not in the remote's feed in turn.
"""

import datetime
import json

import pytest
import requests
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from salama.conftest import make_incident, make_organisation, make_user
from salama.core.markings import TLP
from salama.core.models import AuditEntry
from salama.incidents import choices as c
from salama.incidents.models import Incident, Source
from salama.incidents.services import merge, submit
from salama.interchange.formats import NotThisFormat, salama_api
from salama.interchange.models import ImportBatch, QuarantinedRow
from salama.interchange.runner import run_import
from salama.organisations.choices import OrganisationType, Role
from salama.sharing import agreements, exchange, keys
from salama.sharing.models import Agreement, ApiRequestCount, ExchangeState

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hq(db):
    return make_organisation("HQ", OrganisationType.INGO, "NRC headquarters instance")


@pytest.fixture
def admins(undp, nrc):
    return make_user("ada", undp, roles=(Role.ORG_ADMIN,)), make_user(
        "nils", nrc, roles=(Role.ORG_ADMIN,)
    )


def share(undp, nrc, admins, level=Agreement.Level.FULL, **terms):
    made = agreements.propose(
        undp, nrc, by=admins[0], level=level, purpose="SLT security cell", **terms
    )
    return agreements.accept(made, by=admins[1])


@pytest.fixture
def key_file(nrc, tmp_path):
    _, token = keys.issue(nrc, "NRC headquarters mirror")
    path = tmp_path / "remote.key"
    path.write_text(token + "\n")
    return path


def pull(live_server, key_file, *extra, organisation="HQ") -> dict:
    out = _Out()
    call_command(
        "exchange",
        "pull",
        "--url",
        live_server.url + "/",
        "--key-file",
        str(key_file),
        "--organisation",
        organisation,
        "--format",
        "json",
        *extra,
        stdout=out,
    )
    return json.loads(out.text)


class _Out:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass


def copies(live_server):
    host = live_server.url.split("://", 1)[1]
    found = Incident.objects.filter(
        sources__system="salama", sources__external_id__startswith=f"{host}/"
    )
    return {
        source.external_id.split("/", 1)[1]: source.incident
        for source in Source.objects.filter(incident__in=found).select_related("incident")
    }


def amber(reporter, organisation, **fields):
    return submit(make_incident(reporter, organisation, marking=TLP.AMBER, **fields), reporter)


def long_ago(*incidents):
    """As if these changed an hour ago (a later pull asks only for what changed since)."""
    Incident.objects.filter(pk__in=[i.pk for i in incidents]).update(
        updated_at=timezone.now() - datetime.timedelta(hours=1)
    )


def test_a_pull_copies_a_second_creates_nothing_and_a_change_comes_through(
    live_server, key_file, reporter, undp, nrc, hq, admins
):
    share(undp, nrc, admins)
    shared = amber(
        reporter,
        undp,
        narrative="Shots fired at a marked convoy.",
        vehicles_hit=True,
        perpetrator_name="Unidentified gunmen",
        time=datetime.time(17, 40),
    )
    nils = admins[1]
    own = submit(
        make_incident(
            nils,
            nrc,
            marking=TLP.AMBER_STRICT,
            country="AF",
            place="Kabul",
            latitude=34.55,
            longitude=69.2,
        ),
        nils,
    )
    draft = make_incident(nils, nrc, marking=TLP.AMBER)  # NRC's draft: not a report yet
    submit(make_incident(reporter, undp, marking=TLP.AMBER_STRICT), reporter)  # not shared

    first = pull(live_server, key_file)["batch"]
    assert (first["created"], first["quarantined"]) == (2, 1)
    assert first["reasons"] == {"remote_draft": 1}
    made = copies(live_server)
    assert set(made) == {shared.reference, own.reference}
    copy = made[shared.reference]
    assert copy.organisation == hq and copy.reference != shared.reference
    assert copy.marking == TLP.AMBER_STRICT  # received under TLP:AMBER: not passed on from here
    assert copy.narrative == "Shots fired at a marked convoy."
    assert copy.vehicles_hit and not copy.premises_hit
    assert copy.perpetrator_name == "Unidentified gunmen"
    assert copy.time == datetime.time(17, 40)
    assert copy.date == shared.date and copy.place == "Juba" and copy.latitude == 4.85
    assert made[own.reference].marking == TLP.AMBER_STRICT  # never more open than received
    assert copy.persons.get().impact == c.Impact.INJURED
    state = ExchangeState.objects.get(organisation=hq, feed="incidents")
    assert state.url == live_server.url and state.since and state.last_batch_id

    second = pull(live_server, key_file)["batch"]
    assert second["created"] == 0 and second["unchanged"] == 2
    long_ago(shared, own, draft)
    assert pull(live_server, key_file)["batch"]["rows_read"] == 0  # only what changed

    Incident.objects.filter(pk=shared.pk).update(
        narrative="Shots fired; two vehicles hit.", updated_at=timezone.now()
    )
    third = pull(live_server, key_file)["batch"]
    assert (third["rows_read"], third["updated"], third["created"]) == (1, 1, 0)
    copy.refresh_from_db()
    assert copy.narrative == "Shots fired; two vehicles hit." and copy.marking == TLP.AMBER_STRICT
    assert AuditEntry.objects.filter(action="import:update", object_id=str(copy.pk)).exists()
    assert Incident.objects.filter(organisation=hq).count() == 2


def test_since_asks_for_changes_after_a_date(
    live_server, key_file, reporter, undp, nrc, hq, admins
):
    share(undp, nrc, admins)
    amber(reporter, undp)
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    assert pull(live_server, key_file, "--since", tomorrow)["batch"]["rows_read"] == 0
    with pytest.raises(CommandError, match="not a date"):
        pull(live_server, key_file, "--since", "last week")


def test_a_bad_key_or_no_remote_is_a_clear_error(live_server, key_file, tmp_path, hq, undp):
    wrong = tmp_path / "wrong.key"
    wrong.write_text("slm_00000000_" + "x" * 43)
    with pytest.raises(CommandError, match=r"refused the key \(401\)"):
        pull(live_server, wrong)
    with pytest.raises(CommandError, match="Cannot read the key file"):
        pull(live_server, tmp_path / "missing.key")
    out = _Out()
    with pytest.raises(CommandError, match="Cannot reach http://127.0.0.1:9"):
        call_command(
            "exchange",
            "pull",
            "--url",
            "http://127.0.0.1:9",
            "--key-file",
            str(key_file),
            "--organisation",
            "HQ",
            stdout=out,
        )
    with pytest.raises(CommandError, match="not the address"):
        pull(_Url("ftp://example.org"), key_file)
    with pytest.raises(CommandError, match="plain http"):
        pull(_Url("http://salama.example.org"), key_file)
    with pytest.raises(CommandError, match="No organisation"):
        pull(live_server, key_file, organisation="NOPE")
    assert not ImportBatch.objects.exists() and not ExchangeState.objects.exists()


class _Url:
    def __init__(self, url):
        self.url = url


def test_a_redacted_agreement_comes_in_at_month_precision_without_a_place(
    live_server, key_file, reporter, undp, nrc, hq, admins
):
    agreement = share(undp, nrc, admins, level=Agreement.Level.REDACTED)
    shared = amber(reporter, undp, date=datetime.date(2024, 3, 14))
    report = pull(live_server, key_file, "--agreement", str(agreement.pk))
    assert report["feed"] == f"shared/{agreement.pk}"
    assert report["batch"]["layout"] == "redacted" and report["batch"]["created"] == 1
    copy = copies(live_server)[shared.reference]
    assert copy.date == datetime.date(2024, 3, 1) and copy.date_precision == "month"
    assert (copy.place, copy.admin2, copy.latitude, copy.longitude) == ("", "", None, None)
    assert copy.admin1 == "Central Equatoria" and copy.country == "SS"
    assert copy.marking == TLP.AMBER_STRICT and copy.narrative == ""  # narratives not shared
    person = copy.persons.get()
    assert (person.impact, person.count, person.gender) == ("injured", 1, "unknown")
    assert pull(live_server, key_file, "--agreement", str(agreement.pk))["batch"]["created"] == 0
    # The redacted records do not come through the key's own feed.
    assert pull(live_server, key_file)["batch"]["rows_read"] == 0


def test_an_agreement_of_another_level_or_not_in_force_is_refused(
    live_server, key_file, undp, nrc, hq, admins
):
    full = share(undp, nrc, admins)
    with pytest.raises(CommandError, match="full level"):
        pull(live_server, key_file, "--agreement", str(full.pk))
    with pytest.raises(CommandError, match="not in force"):
        pull(live_server, key_file, "--agreement", "99999")


def test_reconcile_withdraws_what_is_no_longer_shared_and_restores_it_when_shared_again(
    live_server, key_file, reporter, undp, nrc, hq, admins
):
    agreement = share(undp, nrc, admins)
    kept, withdrawn = amber(reporter, undp), amber(reporter, undp)
    pull(live_server, key_file, "--reconcile")
    copy = copies(live_server)[withdrawn.reference]
    # The provider tightens one marking: the key may not see it any more.
    Incident.objects.filter(pk=withdrawn.pk).update(marking=TLP.AMBER_STRICT)

    assert pull(live_server, key_file)["withdrawn"] == 0  # only when asked
    report = pull(live_server, key_file, "--reconcile")
    assert report["withdrawn"] == 1
    copy.refresh_from_db()
    assert copy.marking == TLP.RED and copy.status == c.Status.CLOSED  # hidden, not deleted
    source = copy.sources.get()
    assert source.note.startswith("Withdrawn") and source.content_hash == ""
    assert (
        not Incident.objects.visible_to(make_user("hana", hq, roles=(Role.ANALYST,)))
        .filter(pk=copy.pk)
        .exists()
    )
    entry = AuditEntry.objects.filter(action="exchange:withdraw").get()
    assert entry.before["marking"] == "AMBER+STRICT" and entry.after["marking"] == "RED"
    assert copies(live_server)[kept.reference].marking == TLP.AMBER_STRICT
    assert pull(live_server, key_file, "--reconcile")["withdrawn"] == 0  # once

    # Shared again, unchanged there: the reconcile restores it as received.
    Incident.objects.filter(pk=withdrawn.pk).update(
        marking=TLP.AMBER, updated_at=timezone.now() - datetime.timedelta(hours=2)
    )
    report = pull(live_server, key_file, "--reconcile")
    assert report["restored"] == 1
    copy.refresh_from_db()
    assert copy.marking == TLP.AMBER_STRICT

    # The agreement ends: every copy it brought is withdrawn; nothing is deleted.
    agreements.end(agreement, by=admins[1])
    assert pull(live_server, key_file, "--reconcile")["withdrawn"] == 2
    assert Incident.objects.filter(organisation=hq, marking=TLP.RED).count() == 2


def test_reconcile_of_an_ended_redacted_agreement_withdraws_its_copies(
    live_server, key_file, reporter, undp, nrc, hq, admins
):
    agreement = share(undp, nrc, admins, level=Agreement.Level.REDACTED)
    amber(reporter, undp)
    pull(live_server, key_file, "--agreement", str(agreement.pk))
    agreements.end(agreement, by=admins[0])
    with pytest.raises(CommandError, match="not in force"):
        pull(live_server, key_file, "--agreement", str(agreement.pk))
    report = pull(live_server, key_file, "--agreement", str(agreement.pk), "--reconcile")
    assert report["withdrawn"] == 1 and report["batch"] is None
    assert Incident.objects.get(organisation=hq).marking == TLP.RED


def test_a_merge_there_is_a_merge_here(live_server, key_file, reporter, undp, nrc, hq, admins):
    share(undp, nrc, admins)
    duplicate, survivor = amber(reporter, undp), amber(reporter, undp)
    pull(live_server, key_file)
    merge(
        duplicate, survivor, make_user("ana", undp, roles=(Role.ANALYST,)), check_permission=False
    )
    report = pull(live_server, key_file, "--reconcile")
    assert report["merged"] == 1 and report["withdrawn"] == 0
    made = copies(live_server)
    local = made[duplicate.reference]
    assert local.status == c.Status.MERGED
    assert local.merged_into_id == made[survivor.reference].pk
    assert AuditEntry.objects.filter(action="exchange:merge", object_id=str(local.pk)).exists()
    assert pull(live_server, key_file)["merged"] == 0


@override_settings(API_REQUESTS_PER_MINUTE=2)
def test_a_throttled_pull_waits_and_goes_on(live_server, key_file, reporter, undp, nrc, hq, admins):
    share(undp, nrc, admins)
    for _ in range(3):
        amber(reporter, undp)
    waits = []

    def wait(seconds):
        waits.append(seconds)
        ApiRequestCount.objects.all().delete()  # a minute has passed, for the remote's budget

    token = key_file.read_text().strip()
    remote = exchange.Remote(live_server.url, token, sleep=wait, page_size=1)
    done = exchange.pull(remote, hq)
    assert done.batch.created == 3 and waits and all(1 <= w <= 120 for w in waits)


class _Failing(requests.Session):
    """A remote that gives the first page, then fails."""

    def __init__(self, first: dict, status: int):
        super().__init__()
        self.first, self.status, self.calls = first, status, 0

    def get(self, url, **kwargs):
        self.calls += 1
        response = requests.Response()
        response.url = url
        if self.calls == 1:
            response.status_code, response._content = 200, json.dumps(self.first).encode()
        else:
            response.status_code, response._content = self.status, b"<h1>Server Error</h1>"
        return response


def test_a_remote_failing_half_way_leaves_nothing_half_imported(hq):
    record = {"reference": "SAL-AAAA", "updated_at": "2024-03-14T10:00:00+00:00"}
    session = _Failing({"results": [record], "next": "cursor"}, 502)
    remote = exchange.Remote("https://salama.example.org", "slm_x_y", session=session)
    with pytest.raises(exchange.ExchangeError, match=r"failed \(502\).*nothing was imported"):
        exchange.pull(remote, hq)
    assert session.calls == 2
    assert not ImportBatch.objects.exists() and not Incident.objects.exists()
    assert not ExchangeState.objects.exists()  # the next pull starts from the same point


def test_bad_records_are_quarantined_with_a_reason(tmp_path, hq):
    good = {
        "reference": "SAL-GOOD",
        "status": "closed",
        "marking": "GREEN",
        "date": "2024-03-14",
        "date_precision": "day",
        "country": "SS",
        "category": "violence",
        "subcategory": "crime",
        "persons": [{"count": 2, "impact": "killed", "cause": "violence"}],
        "latitude": 4.85,
        "longitude": 31.6,
    }
    path = tmp_path / "feed.jsonl"
    lines = [
        salama_api.header_line(
            "remote.example.org", "full", "https://remote.example.org/api/v1/incidents"
        ),
        json.dumps(good),
        json.dumps({**good, "reference": "SAL-MARK", "marking": "PINK"}),
        json.dumps({**good, "reference": "SAL-LAND", "country": "XX"}),
        json.dumps({**good, "reference": "SAL-WHEN", "date": "2999-01-01"}),
        json.dumps({**good, "reference": "SAL-PEOP", "persons": [{"count": 0}]}),
        json.dumps({**good, "reference": "bad reference!"}),
        "{not json",
        "[1, 2]",
    ]
    path.write_text("\n".join(lines) + "\n")
    batch = run_import("salama", path, organisation=hq)
    assert (batch.rows_read, batch.created, batch.quarantined) == (8, 1, 7)
    assert batch.reasons == {
        "unknown_marking": 1,
        "unknown_country": 1,
        "future_date": 1,
        "invalid_persons": 1,
        "missing_id": 1,
        "unreadable_row": 2,
    }
    assert QuarantinedRow.objects.filter(batch=batch).count() == 7
    copy = Incident.objects.get()
    assert copy.marking == TLP.GREEN and copy.coordinate_check == "inside"
    source = copy.sources.get()
    assert (source.system, source.external_id) == ("salama", "remote.example.org/SAL-GOOD")
    assert source.url == "https://remote.example.org/api/v1/incidents/SAL-GOOD"


def test_other_files_are_not_exchange_files(tmp_path, hq):
    for content in (b"", b"reference,date\nSAL-1,2024-01-01\n", b'{"salama_exchange": 2}\n'):
        path = tmp_path / "other.jsonl"
        path.write_bytes(content)
        with pytest.raises(NotThisFormat):
            run_import("salama", path, organisation=hq)


def test_the_command_tells_a_person_what_it_did(
    live_server, key_file, reporter, undp, nrc, hq, admins, monkeypatch
):
    share(undp, nrc, admins)
    amber(reporter, undp)
    monkeypatch.setenv("SALAMA_EXCHANGE_KEY", key_file.read_text().strip())
    out, err = _Out(), _Out()
    call_command(
        "exchange",
        "pull",
        "--url",
        live_server.url,
        "--organisation",
        "hq",
        "--reconcile",
        stdout=out,
        stderr=err,
    )
    assert f"Pulled {live_server.url} (incidents) into batch" in out.text
    assert "created 1, updated 0, unchanged 0, quarantined 0" in out.text
    assert "1 records read" in err.text
    monkeypatch.delenv("SALAMA_EXCHANGE_KEY")
    with pytest.raises(CommandError, match="--key-file"):
        call_command("exchange", "pull", "--url", live_server.url, "--organisation", "HQ")
