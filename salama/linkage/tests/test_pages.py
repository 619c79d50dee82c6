"""The review pages through real HTTP requests, and ``salama link``."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from salama.incidents import choices as c
from salama.incidents.models import Incident
from salama.linkage import services
from salama.linkage.models import CandidatePair, LinkageRun, MergeRecord


@pytest.fixture
def signed_in(client, analyst):
    client.force_login(analyst)
    return client


def test_run_button_fills_the_queue_and_the_pair_page_shows_both(signed_in, same_event):
    response = signed_in.post(reverse("linkage:run"), follow=True)
    assert response.status_code == 200
    pair = CandidatePair.objects.get()
    page = response.content.decode()
    assert reverse("linkage:pair", args=[pair.pk]) in page
    assert "narratives very similar" in page or "same numbers killed" in page
    detail = signed_in.get(reverse("linkage:pair", args=[pair.pk])).content.decode()
    for incident in same_event:
        assert incident.reference in detail
    assert "Confirm and merge" in detail and "disagree" in detail
    assert LinkageRun.objects.get().status == LinkageRun.Status.DONE


def test_the_run_message_counts_incidents_and_pairs_in_the_reader_language(signed_in, same_event):
    english = signed_in.post(reverse("linkage:run"), follow=True).content.decode()
    assert "Linked 2 incidents. 1 new pair to review." in english
    russian = signed_in.post(reverse("linkage:run"), follow=True, HTTP_ACCEPT_LANGUAGE="ru")
    assert "Связано 2 инцидента." in russian.content.decode()


def test_confirm_then_unmerge_through_the_pages(signed_in, same_event):
    awsd, sind = same_event
    services.run_linkage()
    pair = CandidatePair.objects.get()
    response = signed_in.post(
        reverse("linkage:confirm", args=[pair.pk]), {"survivor": sind.pk}, follow=True
    )
    record = MergeRecord.objects.get()
    assert response.redirect_chain[-1][0] == reverse("linkage:merge", args=[record.pk])
    assert "Who said what" in response.content.decode()
    awsd.refresh_from_db()
    assert awsd.merged_into_id == sind.pk
    signed_in.post(reverse("linkage:unmerge", args=[record.pk]))
    awsd.refresh_from_db()
    assert awsd.status == c.Status.CLOSED and awsd.merged_into_id is None
    merges = signed_in.get(reverse("linkage:incident_merges", args=[sind.reference]))
    assert reverse("linkage:merge", args=[record.pk]) in merges.content.decode()


def test_reject_through_the_page(signed_in, same_event):
    services.run_linkage()
    pair = CandidatePair.objects.get()
    signed_in.post(reverse("linkage:reject", args=[pair.pk]), {"reason": "two convoys"})
    pair.refresh_from_db()
    assert pair.status == CandidatePair.Status.REJECTED and pair.note == "two convoys"
    queue = signed_in.get(reverse("linkage:queue")).content.decode()
    assert "No pairs to review." in queue


def test_confirm_without_a_survivor_says_so(signed_in, same_event):
    services.run_linkage()
    pair = CandidatePair.objects.get()
    response = signed_in.post(reverse("linkage:confirm", args=[pair.pk]), {}, follow=True)
    assert "Choose which incident to keep." in response.content.decode()
    assert not MergeRecord.objects.exists()


def test_non_analysts_and_hidden_pairs_get_nothing(client, reporter, outsider, same_event):
    services.run_linkage()
    pair = CandidatePair.objects.get()
    client.force_login(reporter)
    assert client.get(reverse("linkage:queue")).status_code == 403
    assert client.post(reverse("linkage:run")).status_code == 403
    client.logout()
    Incident.objects.filter(pk=same_event[0].pk).update(marking="AMBER")
    client.force_login(outsider)
    assert client.get(reverse("linkage:queue")).status_code == 200
    assert client.get(reverse("linkage:pair", args=[pair.pk])).status_code == 404
    assert (
        client.post(reverse("linkage:confirm", args=[pair.pk]), {"survivor": 1}).status_code == 403
    )
    assert CandidatePair.objects.get().status == CandidatePair.Status.PROPOSED


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("linkage:queue"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_link_command_prints_pairs_as_json(same_event):
    out = StringIO()
    call_command("link", "--format", "json", stdout=out)
    pairs = json.loads(out.getvalue())
    awsd, sind = same_event
    assert len(pairs) == 1
    pair = pairs[0]
    assert pair["a"] == {
        "id": awsd.pk,
        "reference": awsd.reference,
        "source": "awsd",
        "external_id": "3150",
    }
    assert pair["b"]["source"] == "sind" and pair["b"]["external_id"] == "30111"
    assert 0.9 < pair["probability"] <= 1
    assert "victims:same_counts" in pair["agreements"]
    assert CandidatePair.objects.count() == 1


def test_link_command_looks_up_references_in_slices(same_event, monkeypatch):
    """A million incidents' pairs name more ids than one SQL statement may bind."""
    from salama.linkage.management.commands import link

    monkeypatch.setattr(link, "DESCRIBE_SLICE", 1)
    out = StringIO()
    call_command("link", "--format", "json", "--dry-run", stdout=out)
    [pair] = json.loads(out.getvalue())
    awsd, sind = same_event
    assert {pair["a"]["reference"], pair["b"]["reference"]} == {awsd.reference, sind.reference}


def test_link_command_dry_run_stores_nothing_and_text_lists_reasons(same_event):
    out = StringIO()
    call_command("link", "--dry-run", stdout=out)
    assert "1 pairs at or above 0.5" in out.getvalue()
    assert "same numbers killed, injured and held" in out.getvalue()
    assert not CandidatePair.objects.exists()


def test_link_command_refuses_a_bad_threshold(db):
    with pytest.raises(CommandError, match="probability"):
        call_command("link", "--threshold", "1.5")


def test_turning_automatic_merging_on_in_the_admin_is_audited(client, db):
    from django.contrib.auth import get_user_model

    from salama.core.models import AuditEntry
    from salama.linkage.models import LinkageSettings

    admin = get_user_model().objects.create_superuser("root", password="x" * 20)
    client.force_login(admin)
    config = LinkageSettings.current()
    assert config.auto_merge is False
    url = reverse("admin:linkage_linkagesettings_change", args=[config.pk])
    response = client.post(
        url, {"review_threshold": "0.5", "auto_merge": "on", "auto_merge_threshold": "0.99"}
    )
    assert response.status_code == 302
    config.refresh_from_db()
    assert config.auto_merge is True and config.updated_by == admin
    entry = AuditEntry.objects.get(action="linkage:settings")
    assert entry.before["auto_merge"] is False and entry.after["auto_merge"] is True


def test_big_runs_go_to_the_task_queue(signed_in, same_event, monkeypatch):
    from django_tasks_db.models import DBTaskResult

    from salama.linkage import views
    from salama.linkage.tasks import link_incidents

    monkeypatch.setattr(views, "SYNC_LIMIT", 1)
    response = signed_in.post(reverse("linkage:run"), follow=True)
    assert "Linkage is queued" in response.content.decode()
    run = LinkageRun.objects.get()
    assert run.status == LinkageRun.Status.QUEUED
    task = DBTaskResult.objects.get()
    assert task.args_kwargs["args"] == [run.pk]
    # What the worker (salama db_worker) does with it:
    assert link_incidents.call(run.pk) == {"run": run.pk, "pairs": 1, "proposed": 1}
    run.refresh_from_db()
    assert run.status == LinkageRun.Status.DONE and run.started_by is not None


def test_link_command_says_plainly_when_spark_is_missing(same_event, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if pyspark were not installed
    monkeypatch.delitem(sys.modules, "salama.linkage.spark", raising=False)
    with pytest.raises(CommandError, match="spark engine is not installed"):
        call_command("link", "--engine", "spark")
    run = LinkageRun.objects.get()
    assert run.status == LinkageRun.Status.FAILED and "pyspark" in run.error
    assert not CandidatePair.objects.exists()
