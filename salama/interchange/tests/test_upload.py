"""The upload page: choose a format, upload, preview (rows, mapping, report), then commit."""

import json
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from salama.conftest import make_user
from salama.incidents.models import Incident
from salama.interchange import uploads
from salama.interchange.formats import DATA_DIR
from salama.interchange.models import ColumnMapping, ImportBatch, Upload
from salama.organisations.choices import Role

pytestmark = pytest.mark.django_db

KIKA = json.loads((DATA_DIR / "kika" / "aidWorkerKIKA.json").read_text(encoding="utf-8"))
TABLE = (
    "Ref;Date;Country;Town;Type;Staff killed\n"
    "A1;03/04/2024;South Sudan;Juba;Robbery;1\n"
    "A2;;SS;Yei;Shooting;0\n"
)
MAPPING_YAML = """name: ignored
id: Ref
date: {column: Date, day_first: true}
country: Country
fields:
  place: Town
  subcategory:
    column: Type
    values: {Robbery: crime, Shooting: armed_conflict}
persons:
  - {column: Staff killed, impact: killed}
"""


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


@pytest.fixture
def analyst(undp):
    return make_user("analyst", undp, roles=(Role.ANALYST,))


def signed_in(client, user):
    client.force_login(user)
    return client


def upload(client, organisation, format_name, name, content, **extra):
    return client.post(
        reverse("interchange:upload"),
        {
            "organisation": organisation.pk,
            "format": format_name,
            "file": SimpleUploadedFile(name, content),
            **extra,
        },
    )


def test_only_analysts_and_admins_of_an_organisation_may_upload(client, reporter, analyst):
    assert client.get(reverse("interchange:upload")).status_code == 302  # sign in first
    assert signed_in(client, reporter).get(reverse("interchange:upload")).status_code == 403
    client.logout()
    page = signed_in(client, analyst).get(reverse("interchange:upload"))
    assert page.status_code == 200
    assert b"who-ssa" in page.content and b"kika" in page.content


def test_upload_preview_commit_for_a_fixed_format(client, analyst, undp):
    signed_in(client, analyst)
    content = json.dumps(KIKA[:3] + [{**KIKA[3], "Date": "yesterday-ish"}]).encode()
    response = upload(client, undp, "kika", "kika.json", content)
    stored = Upload.objects.get()
    assert response.url == reverse("interchange:upload_preview", args=[stored.token])
    path = uploads.stored_path(stored)
    assert path.is_file() and path.name == "upload.json"  # never the person's own file name
    page = client.get(response.url)
    text = page.content.decode()
    assert "Of the first 4 rows: 3 would be imported, 1 quarantined." in text
    assert "invalid_date" in text
    assert not Incident.objects.exists()  # nothing committed by the preview
    done = client.post(response.url, {"action": "commit"})
    batch = ImportBatch.objects.get()
    assert done.url == reverse("interchange:batch", args=[batch.pk])
    assert (batch.created, batch.quarantined, batch.filename) == (3, 1, "kika.json")
    assert set(Incident.objects.values_list("organisation", flat=True)) == {undp.pk}
    assert not path.exists()  # the upload is not kept once imported
    # Once imported, the upload's page is gone: no second import by reloading.
    assert client.post(response.url, {"action": "commit"}).status_code == 404


def test_a_table_mapping_is_edited_checked_saved_and_used(client, analyst, undp):
    signed_in(client, analyst)
    response = upload(client, undp, "table", "log.csv", TABLE.encode())
    url = response.url
    first = client.get(url).content.decode()
    assert "Column mapping" in first and "id: Ref" in first  # a suggested mapping to correct
    checked = client.post(url, {"action": "check", "mapping": MAPPING_YAML}).content.decode()
    assert "Of the first 2 rows: 1 would be imported, 1 quarantined." in checked
    assert "missing_date" in checked
    bad = client.post(url, {"action": "check", "mapping": "id: [unclosed"}).content.decode()
    assert "not valid YAML" in bad and "id: [unclosed" in bad  # the person's text is kept
    client.post(url, {"action": "save", "mapping": MAPPING_YAML, "name": "juba-log"})
    saved = ColumnMapping.objects.get(organisation=undp, name="juba-log")
    assert saved.spec["id"] == "Ref" and saved.created_by == analyst
    shown = client.get(url).content.decode()
    assert "name: juba-log" in shown  # the page now shows the saved mapping; committing uses it
    client.post(url, {"action": "commit"})
    incident = Incident.objects.get()
    assert incident.sources.get().external_id == "juba-log:A1"
    assert incident.subcategory == "crime"
    # The saved mapping is offered for the next upload.
    again = upload(client, undp, "table", "log2.csv", TABLE.encode(), mapping=saved.pk)
    assert Upload.objects.get(token=again.url.rstrip("/").split("/")[-1]).spec["id"] == "Ref"


def test_another_organisations_analyst_cannot_see_or_commit_an_upload(client, analyst, undp, nrc):
    signed_in(client, analyst)
    url = upload(client, undp, "kika", "k.json", json.dumps(KIKA[:1]).encode()).url
    client.logout()
    stranger = make_user("stranger", nrc, roles=(Role.ANALYST,))
    signed_in(client, stranger)
    assert client.get(url).status_code == 403
    assert client.post(url, {"action": "commit"}).status_code == 403
    refused = upload(client, undp, "kika", "k.json", b"[]")
    assert refused.status_code == 200 and Upload.objects.count() == 1


def test_a_file_over_the_limit_is_refused(client, analyst, undp, monkeypatch):
    monkeypatch.setattr(uploads, "UPLOAD_LIMIT", 100)
    signed_in(client, analyst)
    page = upload(client, undp, "kika", "k.json", b"[" + b" " * 200 + b"]")
    assert "the limit is 100" in page.content.decode()
    assert not Upload.objects.exists()


def test_random_bytes_get_a_message_never_a_stack_trace(client, analyst, undp):
    signed_in(client, analyst)
    for format_name in ("who-ssa", "kika", "table", "hxl", "awsd", "ii-health"):
        url = upload(client, undp, format_name, "x.xlsx", os.urandom(4000)).url
        page = client.get(url)
        text = page.content.decode()
        assert page.status_code == 200
        assert "cannot be imported as it is" in text
        assert "Traceback" not in text


def test_uploads_never_imported_are_discarded_after_a_week(client, analyst, undp):
    import datetime
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    from salama.core.models import AuditEntry

    signed_in(client, analyst)
    content = json.dumps(KIKA[:2]).encode()
    upload(client, undp, "kika", "old.json", content)
    old = Upload.objects.get()
    old_path = uploads.stored_path(old)
    Upload.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - uploads.KEEP_UNIMPORTED - datetime.timedelta(hours=1)
    )
    upload(client, undp, "kika", "new.json", content)  # a new upload clears abandoned ones
    assert not old_path.exists() and not old_path.parent.exists()
    assert list(Upload.objects.values_list("filename", flat=True)) == ["new.json"]
    entry = AuditEntry.objects.get(action="upload:discard")
    assert entry.before["filename"] == "old.json"
    # The command discards by age too: with --days 0, the fresh one as well.
    fresh = Upload.objects.get()
    out = StringIO()
    call_command("uploads", "discard", "--days", "0", stdout=out)
    assert "Discarded 1 upload(s)" in out.getvalue()
    assert not Upload.objects.filter(pk=fresh.pk).exists()
